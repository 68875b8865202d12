"""A small but realistic dsim report in the documented format (docs/report-format.md), built in
Python so that the analysis tests do not need the simulator.

The story: 1000 requests/s to three API replicas for 60 s (10 s warm-up, 1 s windows);
api[0] crashes from 20 s to 30 s, the link to api[1] degrades from 40 s to 45 s, and api[2]
pauses from 57 s to the end of the run. Without a circuit breaker, requests to the crashed
replica time out after 1 s; with one, they fail fast while the breaker is open.

make_sharded_report() is a sharder in front of 4 shards (one, two or three replicas each), with
the per-shard figures and per-replica utilization that `plot.py shards` reads;
make_detector_report() a failure detector watching four nodes, with the figures that
`plot.py detectors` reads; make_ownership_report() three lease owners (or Raft nodes) whose
state timelines say who believed it owned, and when, as `plot.py ownership` reads them.

make_election_report() is a five-server Raft group whose leader a leader crasher crashes again
and again, with the downtime quantile function (crasher.downtime_cdf_ms[0 .. 100]) that
`plot.py downtime` reads, for three election-timeout ranges.

Run as a script to write one: /usr/bin/python3 tests/analysis/sample_report.py out.report.json
(or ... out.report.json --sharded, --detectors, --ownership, --leader or --election)
"""

import json
import math
import random
import sys

DURATION_S = 60
WARMUP_S = 10
RATE = 1000.0
CRASH = (20.0, 30.0)
DEGRADE = (40.0, 45.0)
PAUSE_START = 57.0


def _lognormal_cdf(x, median, sigma):
    return 0.5 * (1 + math.erf(math.log(x / median) / (sigma * math.sqrt(2)))) if x > 0 else 0.0


def _histogram(total, tail_share, tail_median_ms):
    """Log buckets (20 per decade from 0.1 ms) of a lognormal body plus a slow tail."""
    edges = [0.1 * 10 ** (i / 20) for i in range(0, 101)]  # 0.1 ms .. 10 s
    buckets = []
    for low, high in zip(edges, edges[1:]):
        share = (1 - tail_share) * (_lognormal_cdf(high, 1.2, 0.6) - _lognormal_cdf(low, 1.2, 0.6))
        share += tail_share * (_lognormal_cdf(high, tail_median_ms, 0.25) - _lognormal_cdf(low, tail_median_ms, 0.25))
        count = round(total * share)
        if count:
            buckets.append([round(low, 6), round(high, 6), count])
    return buckets


def _window(rng, start, variant):
    crash = CRASH[0] <= start < CRASH[1]
    degraded = DEGRADE[0] <= start < DEGRADE[1]
    paused = start >= PAUSE_START
    requests = int(RATE + rng.gauss(0, 25))
    failed = int(requests * 0.0005 + rng.random() * 2)
    p99 = 4.0 + rng.random()
    if crash and variant == "no-breaker":
        failed += requests // 3
        p99 = 1000.0
    elif crash:
        failed += requests // 3 if start < 22 else requests // 40
        p99 = 6.0 + rng.random()
    if degraded:
        p99 = 48.0 + 4 * rng.random()
    if paused:
        failed += requests // 3
        p99 = 900.0 + 50 * rng.random()
    succeeded = requests - failed
    window = {
        "start_s": float(start), "end_s": float(start + 1), "warmup": start < WARMUP_S,
        "requests": requests, "succeeded": succeeded, "failed": failed,
        "throughput_per_s": float(requests), "goodput_per_s": float(succeeded),
        "availability": round(succeeded / requests, 6),
        "p50_ms": round(1.2 + 0.1 * rng.random(), 3), "p99_ms": round(p99, 3),
        "attempts_sent": requests, "attempts_per_s": float(requests),
    }
    if variant == "breaker" and start == 21:  # the breaker just opened: nothing succeeded
        window.update(requests=0, succeeded=0, failed=0, throughput_per_s=0.0, goodput_per_s=0.0,
                      availability=None, p50_ms=None, p99_ms=None, attempts_sent=0, attempts_per_s=0.0)
    return window


def _summary(windows, p50, p99, p999, availability=None):
    measured = [w for w in windows if not w["warmup"]]
    requests = float(sum(w["requests"] for w in measured))
    failed = float(sum(w["failed"] for w in measured))
    succeeded = requests - failed
    return {
        "requests": requests, "succeeded": succeeded, "failed": failed,
        "failed_by_reason": {"timeout": failed, "rejected": 0.0, "circuit_open": 0.0, "dropped": 0.0,
                             "error": 0.0, "rate_limited": 0.0},
        "availability": availability if availability is not None else round(succeeded / requests, 6),
        "latency_ms": {"p50": p50, "p90": p50 * 2, "p99": p99, "p999": p999, "max": p999 * 1.5, "mean": p50 * 1.3,
                       "percentiles": {"50": p50, "90": p50 * 2, "99": p99, "99.9": p999}},
        "attempts_per_request": 1.0, "goodput_per_s": round(succeeded / (DURATION_S - WARMUP_S), 3),
        "duplicate_effects": 0.0, "abandoned": 0.0,
    }


def _states(variant):
    if variant != "breaker":
        return []
    intervals = [(0.0, 21.3, "closed"), (21.3, 26.3, "open"), (26.3, 26.8, "half_open"), (26.8, 31.8, "open"),
                 (31.8, 32.1, "half_open"), (32.1, 58.4, "closed"), (58.4, None, "open")]
    return [{"component": "client", "node": "client[0]", "name": "circuit_breaker",
             "intervals": [{"start_s": s, "end_s": e, "state": state} for s, e, state in intervals]}]


def model_series(variant, seed):
    """runs[].series of a run: api.queued (summed over the replicas) is seed - 1 plus, with the
    no-breaker variant, 40 during the crash; it grows by 100 a second once api[2] pauses.
    api.busy is 12 workers (4 per replica), 8 while api[0] is down; api.workers never changes."""
    queued, busy = [], []
    for start in range(DURATION_S):
        crash = CRASH[0] <= start < CRASH[1]
        queued.append(float(seed - 1 + (40 if crash and variant == "no-breaker" else 0)
                            + (100 * (start + 1 - PAUSE_START) if start >= PAUSE_START else 0)))
        busy.append(8.0 if crash else 12.0)
    return {"api.queued": queued, "api.busy": busy, "api.workers": [12.0] * DURATION_S}


FAULTS = [
    {"kind": "crash", "target": "api[0]", "detail": "", "start_s": CRASH[0], "end_s": CRASH[1]},
    {"kind": "degrade", "target": "lb->api[1]", "detail": "latency x10", "start_s": DEGRADE[0], "end_s": DEGRADE[1]},
    {"kind": "pause", "target": "api[2]", "detail": "", "start_s": PAUSE_START, "end_s": None},
]

VARIANTS = {  # name: (p50, p99, p99.9, tail share, tail median in ms)
    "no-breaker": (1.21, 310.0, 1010.0, 0.012, 1000.0),
    "breaker": (1.19, 6.8, 940.0, 0.002, 920.0),
}


def make_report(name="breaker-demo", seeds=(1, 2), variants=("no-breaker", "breaker"), perfect=()):
    """A report dict. variants: names from VARIANTS (others reuse "breaker"'s figures);
    perfect: variants whose availability is exactly 1."""
    report_variants = []
    for variant in variants:
        p50, p99, p999, tail, tail_median = VARIANTS.get(variant, VARIANTS["breaker"])
        runs = []
        for seed in seeds:
            rng = random.Random(f"{name}/{variant}/{seed}")
            windows = [_window(rng, start, variant) for start in range(DURATION_S)]
            if variant in perfect:
                for w in windows:
                    if w["requests"]:
                        w.update(failed=0, succeeded=w["requests"], availability=1.0)
            runs.append({
                "seed": seed, "fingerprint": f"{rng.getrandbits(64):016x}", "events": 1234567,
                "simulated_s": float(DURATION_S),
                "summary": _summary(windows, p50, p99 * (1 + 0.05 * (seed - 1.5)), p999,
                                    1.0 if variant in perfect else None),
                "windows": windows, "series": model_series(variant, seed), "faults": FAULTS,
                "states": _states(variant),
                "models": {"api": {"model": "server", "replicas": 3, "figures": {"utilization": 0.71}}},
                "network": {"hops": 120000, "duplicated": 0,
                            "dropped": {"lost": 0, "link_cut": 0, "partitioned": 0, "no_route": 0,
                                        "destination_crashed": 12}},
            })
        summary = _summary([w for r in runs for w in r["windows"]], p50, p99, p999,
                           1.0 if variant in perfect else None)
        for key in ("requests", "succeeded", "failed"):
            summary[key] /= len(seeds)
        a = summary["availability"]
        many = len(seeds) > 1
        ci95 = {
            "availability": [max(0.0, a - 0.0004), min(1.0, a + 0.0004)] if many else None,
            "latency_ms": {k: ([v * 0.95, v * 1.05] if many else None)
                           for k, v in summary["latency_ms"].items() if k != "percentiles"},
            "attempts_per_request": [1.0, 1.0] if many else None,
            "goodput_per_s": [summary["goodput_per_s"] - 2, summary["goodput_per_s"] + 2] if many else None,
        }
        report_variants.append({
            "name": variant,
            "scenario": {"name": name, "duration": f"{DURATION_S}s", "warmup": f"{WARMUP_S}s"},
            "summary": summary, "ci95": ci95,
            "histogram_ms": _histogram(summary["succeeded"] * len(seeds), tail, tail_median),
            "runs": runs,
        })
    return {
        "dsim_version": "0.1.0",
        "scenario": {"name": name, "description": "A crash with and without a circuit breaker.",
                     "file": f"scenarios/{name}.json"},
        "seeds": list(seeds), "percentiles": [50, 90, 99, 99.9],
        "variants": report_variants,
    }


# A sharder in front of 4 shards with Zipf keys (scenarios/hot-shard.json): shard 0 holds the
# popular key. Per shard: share of the routed requests, p99 and mean of the sharder's calls (ms).
SHARD_SHARES = (0.345, 0.22, 0.22, 0.215)
SHARD_P99_MS = (135.0, 14.0, 14.0, 13.5)
SHARD_MEAN_MS = (48.0, 10.2, 10.2, 10.1)
SHARD_RATE = 1100.0  # requests/s routed in all
SHARD_VARIANTS = {"one-replica": 1, "two-replicas": 2, "three-replicas": 3}  # replicas per shard


def shard_profile(count):
    """(shares, p99s, means) of `count` shards: the ones above for 4, else Zipf-like shares."""
    if count == len(SHARD_SHARES):
        return SHARD_SHARES, SHARD_P99_MS, SHARD_MEAN_MS
    weights = [1 / (i + 1) for i in range(count)]
    shares = tuple(round(w / sum(weights), 6) for w in weights)
    return shares, tuple(10 + 300 * s for s in shares), tuple(5 + 100 * s for s in shares)


def replica_utilization(share, replica, seed, replicas):
    """The utilization of a replica of a shard with that share in the run of a seed
    (make_sharded_report): 2.76 x the share over the replicas, +1 point per replica index and
    +0.5 point for seed 2."""
    return round(share * 2.76 / replicas + 0.01 * replica + 0.005 * (seed - 1), 6)


def make_sharded_report(name="hot-shard", seeds=(1, 2), variants=tuple(SHARD_VARIANTS), sharders=("sharder",),
                        per_replica=True, shards=4):
    """make_report's report with a sharding scenario instead: clients -> each of `sharders` ->
    "shards" (servers), SHARD_VARIANTS[variant] replicas per shard (1 for other names). The
    sharders' per-shard figures are "NAME.shard_share[i]" etc.; with per_replica, each run has
    the per-replica figures of "shards", keyed as dsim writes them (sorted as text: "shards[10]"
    before "shards[2]")."""
    data = make_report(name, seeds, variants)
    data["scenario"]["description"] = f"Zipf keys over {shards} shards: the shard holding key 0 is hot."
    many = len(seeds) > 1
    shares, p99s, means = shard_profile(shards)
    for variant in data["variants"]:
        replicas = SHARD_VARIANTS.get(variant["name"], 1)
        nodes = shards * replicas
        components = {"shards": {"model": "server", "count": nodes, "workers": 4}}
        for sharder in sharders:
            components[sharder] = {"model": "sharder", "count": 1, "target": "shards", "replicas": replicas,
                                   "function": "consistent_hash"}
        components["clients"] = {"model": "open_loop_client", "count": 1, "target": sharders[0]}
        variant["scenario"].update(components=components, report={"per_replica": per_replica})
        figures, intervals = {}, {}
        for sharder in sharders:
            for i, share in enumerate(shares):
                indexed = {"shard_share": share, "shard_rate_per_s": round(share * SHARD_RATE, 3),
                           "shard_p99_ms": p99s[i] * (1 if replicas == 1 else 0.4),
                           "shard_mean_ms": means[i] * (1 if replicas == 1 else 0.5),
                           "shard_replicas": float(replicas)}
                for figure, value in indexed.items():
                    figures[f"{sharder}.{figure}[{i}]"] = value
                    spread = 0.0 if figure == "shard_replicas" else value * 0.04
                    intervals[f"{sharder}.{figure}[{i}]"] = [value - spread, value + spread] if many else None
            figures[f"{sharder}.max_shard_share"] = max(shares)
            figures[f"{sharder}.imbalance"] = round(max(shares) * shards, 6)
        figures["shards.utilization"] = 0.69 / replicas
        variant["figures"], variant["figures_ci95"] = figures, intervals
        for run in variant["runs"]:
            names = [f"shards[{n}]" for n in range(nodes)]
            target = {"model": "server", "replicas": nodes, "figures": {"utilization": 0.69 / replicas}}
            if per_replica:
                target["per_replica"] = {
                    node: {"utilization": replica_utilization(shares[n // replicas], n % replicas, run["seed"],
                                                              replicas),
                           "mean_in_system": 1.0}
                    for node, n in sorted((node, n) for n, node in enumerate(names))}
            run["models"] = {"shards": target, **{s: {"model": "sharder", "replicas": 1, "figures": {}}
                                                   for s in sharders}}
    return data


# A failure detector watching 4 nodes (scenarios/failure-detector-tradeoff.json): per variant, the
# mean and longest detection time (ms) and the false suspicions per hour of a node's up time.
DETECTOR_VARIANTS = {  # variant: (mean_detection_ms, max_detection_ms, false_suspicions_per_hour, config)
    "timeout-500ms": (369.2, 427.3, 70.0, {"detector": "timeout", "timeout": "500ms"}),
    "timeout-3s": (2869.0, 2927.0, 0.0, {"detector": "timeout", "timeout": "3s"}),
    "phi-1": (151.2, 209.3, 1099.0, {"detector": "phi", "threshold": 1}),
    "phi-8": (259.5, 317.6, 31.2, {"detector": "phi", "threshold": 8}),
}


def make_detector_report(name="fd-tradeoff", seeds=(1, 2), variants=tuple(DETECTOR_VARIANTS), detectors=("fd",)):
    """make_report's report with a failure-detection scenario instead: each of `detectors` (a
    failure_detector) watches "api" (4 servers); its figures "NAME.mean_detection_ms" etc. come
    from DETECTOR_VARIANTS (the first variant's for other names), with 95 % intervals of +-20 %
    (+-5 per hour around 0) when there are several seeds; a second detector's are 10 % larger."""
    data = make_report(name, seeds, variants)
    data["scenario"]["description"] = "A crash, GC pauses and WAN jitter against timeouts and phi thresholds."
    many = len(seeds) > 1
    for variant in data["variants"]:
        mean, longest, per_hour, config = DETECTOR_VARIANTS.get(variant["name"],
                                                                next(iter(DETECTOR_VARIANTS.values())))
        components = {"api": {"model": "server", "count": 4}}
        figures, intervals = {}, {}
        for number, detector in enumerate(detectors):
            components[detector] = {"model": "failure_detector", "count": 1, "target": "api", "interval": "250ms",
                                    **config}
            scale = 1 + 0.1 * number
            values = {"mean_detection_ms": mean * scale, "max_detection_ms": longest * scale,
                      "false_suspicions_per_hour": per_hour * scale, "crashes": 3.0, "detections": 3.0,
                      "false_suspicions": per_hour * scale / 12, "suspected_fraction": 0.005}
            for figure, value in values.items():
                figures[f"{detector}.{figure}"] = value
                spread = max(value * 0.2, 5.0 if figure == "false_suspicions_per_hour" else 0.0)
                intervals[f"{detector}.{figure}"] = [max(value - spread, 0.0), value + spread] if many else None
        variant["scenario"].update(components=components)
        variant["figures"], variant["figures_ci95"] = figures, intervals
    return data


# Nodes competing for one key of a lock service (scenarios/lease-clock-drift.json): 40 s runs with
# a 5 s warm-up. Per variant, the periods (start_s, end_s) in which node i believes it owns, by
# seed; every other moment it is seeking (or, as Raft nodes, a follower).
OWNERSHIP_DURATION_S = 40.0
OWNERSHIP_WARMUP_S = 5.0
OWNERSHIP_VARIANTS = {
    # owners[0] pauses from 20 s to 28 s and still believes it owns until it resumes; owners[1]
    # took over at 24.2 s (0.1 s earlier per seed after the first): 3.8 s with two owners in
    # seed 1, 3.9 s in seed 2. owners[1] steps down at 31 s, owners[2] owns from 32.5 s: 1.5 s
    # with no owner after the warm-up (and the first 5 ms of the run, in the warm-up).
    "pause": lambda seed: {0: [(0.005, 28.0)], 1: [(24.2 - 0.1 * (seed - 1), 31.0)], 2: [(32.5, 40.0)]},
    # A safety margin: owners[0] gives up at 24.7 s, owners[1] owns from 25 s: no overlap, 0.3 s
    # with no owner after the warm-up.
    "drift-margin": lambda seed: {0: [(0.005, 24.7)], 1: [(25.0, 40.0)]},
}
OWNERSHIP_FAULTS = {  # "{c}": the nodes' component
    "pause": [{"kind": "pause", "target": "{c}[0]", "detail": "", "start_s": 20.0, "end_s": 28.0}],
    "drift-margin": [
        {"kind": "clock_drift", "target": "{c}[0]", "detail": "-50000 ppm", "start_s": 0.0, "end_s": None},
        {"kind": "partition", "target": "{{{c}[0]}} | {{lock}}", "detail": "", "start_s": 20.0, "end_s": 30.0}],
}
CANDIDATE_S = 0.15  # a Raft node is a candidate for this long before it leads


def ownership_timeline(periods, end_s, owning="owner", idle="seeking", candidate=None):
    """The intervals of one node's state timeline over [0, end_s]: `owning` in the periods, `idle`
    between them, with `candidate` for CANDIDATE_S before each period when given."""
    intervals, now = [], 0.0
    for start, end in periods:
        before = max(now, start - CANDIDATE_S) if candidate else start
        if before > now:
            intervals.append((now, before, idle))
        if candidate and start > before:
            intervals.append((before, start, candidate))
        intervals.append((start, end, owning))
        now = end
    if end_s > now:
        intervals.append((now, end_s, idle))
    return [{"start_s": s, "end_s": e, "state": state} for s, e, state in intervals]


def make_ownership_report(name="lease-demo", seeds=(1, 2), variants=tuple(OWNERSHIP_VARIANTS), nodes=3,
                          leader=False):
    """make_report's report with an ownership scenario instead: `nodes` lease owners ("owners",
    model lease_owner, timelines "ownership": seeking / owner) or, with leader, Raft nodes ("raft",
    timelines "role": follower / candidate / leader), owning as OWNERSHIP_VARIANTS says (the
    first variant's periods for other names; nodes past the third never own). The states are
    listed sorted by node name as text ("owners[10]" before "owners[2]"). Each variant has
    duration_s, warmup_s and the figures "owners.overlap_s" and "owners.unowned_s" (means over
    the seeds, after the warm-up)."""
    data = make_report(name, seeds, variants)
    data["scenario"]["description"] = "Three nodes compete for a lease; a pause gives two owners."
    component, timeline = ("raft", "role") if leader else ("owners", "ownership")
    states = ("leader", "follower", "candidate") if leader else ("owner", "seeking", None)
    for variant in data["variants"]:
        periods_of = OWNERSHIP_VARIANTS.get(variant["name"], next(iter(OWNERSHIP_VARIANTS.values())))
        model = "raft" if leader else "lease_owner"
        variant.update(duration_s=OWNERSHIP_DURATION_S, warmup_s=OWNERSHIP_WARMUP_S, window_s=1.0)
        variant["scenario"].update(components={"lock": {"model": "lock_service", "count": 1},
                                               component: {"model": model, "count": nodes}})
        overlap, unowned = [], []
        for run in variant["runs"]:
            periods = periods_of(run["seed"])
            run["simulated_s"] = OWNERSHIP_DURATION_S
            run["faults"] = [dict(fault, target=fault["target"].format(c=component))
                             for fault in OWNERSHIP_FAULTS.get(variant["name"], OWNERSHIP_FAULTS["pause"])]
            names = sorted((f"{component}[{i}]", i) for i in range(nodes))
            run["states"] = [
                {"component": component, "node": node, "name": timeline,
                 "intervals": ownership_timeline(periods.get(i, []), OWNERSHIP_DURATION_S, *states)}
                for node, i in names]
            overlap.append(_measured(_overlap(periods.values())))
            unowned.append(_measured(_gaps(periods.values())))
        variant["figures"] = {f"{component}.overlap_s": sum(overlap) / len(overlap),
                              f"{component}.unowned_s": sum(unowned) / len(unowned)}
    return data


def _overlap(periods):
    """Where two or more of the periods (lists of (start, end)) overlap: by brute force over the
    instants where any begins or ends (the plot's own computation is a sweep)."""
    flat = [p for node in periods for p in node]
    cuts = sorted({t for p in flat for t in p})
    return [(a, b) for a, b in zip(cuts, cuts[1:]) if sum(s <= a and b <= e for s, e in flat) >= 2]


def _gaps(periods):
    flat = [p for node in periods for p in node]
    cuts = sorted({0.0, OWNERSHIP_DURATION_S} | {t for p in flat for t in p})
    return [(a, b) for a, b in zip(cuts, cuts[1:]) if not any(s <= a and b <= e for s, e in flat)]


def _measured(intervals):
    return sum(max(0.0, e - max(s, OWNERSHIP_WARMUP_S)) for s, e in intervals)


# Downtime after a leader crash, per election-timeout range: (trials per seed, the quantile
# function's lowest and highest value in ms, its shape exponent); 150-155ms has a long tail.
ELECTION_VARIANTS = {
    "150-300ms": (1000, 105.0, 466.0, 2.0),
    "150-155ms": (480, 262.0, 8632.0, 3.0),
    "50-100ms": (1000, 52.0, 363.0, 2.5),
}


def downtime_quantiles(low, high, shape):
    """A quantile function at i = 0 .. 100: from low to high, convex (a tail to the right)."""
    return [round(low + (high - low) * (i / 100) ** shape, 3) for i in range(101)]


def make_election_report(name="leader-election", seeds=(1, 2), variants=tuple(ELECTION_VARIANTS),
                         crashers=("crasher",)):
    """make_report's report with an election scenario instead: "raft" (5 raft_node members) and
    each of `crashers` (a leader_crasher of "raft"). A crasher's figures are
    "NAME.downtime_cdf_ms[i]" for i = 0 .. 100 (ELECTION_VARIANTS[variant]; a variant of another
    name had no trial: its percentiles are null), "NAME.trials" and "NAME.unfinished_trials"."""
    data = make_report(name, seeds, variants)
    data["scenario"]["description"] = "The leader of five is crashed 1000 times: time without a leader."
    for variant in data["variants"]:
        components = {"raft": {"model": "raft_node", "count": 5, "election_timeout_min": "150ms"}}
        for crasher in crashers:
            components[crasher] = {"model": "leader_crasher", "count": 1, "target": "raft"}
        variant["scenario"].update(components=components, report={"per_replica": False})
        trials, low, high, shape = ELECTION_VARIANTS.get(variant["name"], (0, None, None, None))
        figures = {"raft.leader_changes": trials + 1.0, "raft.leaderless_fraction": 0.2}
        for crasher in crashers:
            values = downtime_quantiles(low, high, shape) if trials else [None] * 101
            for i, value in enumerate(values):
                figures[f"{crasher}.downtime_cdf_ms[{i}]"] = value
            figures[f"{crasher}.trials"] = float(trials)
            figures[f"{crasher}.unfinished_trials"] = 1.0 if variant["name"] == "150-155ms" else 0.0
            figures[f"{crasher}.downtime_p50_ms"] = values[50]
        variant["figures"] = figures
        variant["figures_ci95"] = {key: None for key in figures}
        for run in variant["runs"]:
            run["models"] = {"raft": {"model": "raft_node", "replicas": 5, "figures": {}},
                             **{c: {"model": "leader_crasher", "replicas": 1, "figures": {}} for c in crashers}}
    return data


if __name__ == "__main__":
    with open(sys.argv[1], "w") as out:
        if sys.argv[2:] == ["--sharded"]:
            json.dump(make_sharded_report(), out, indent=1)
        elif sys.argv[2:] == ["--detectors"]:
            json.dump(make_detector_report(), out, indent=1)
        elif sys.argv[2:] in (["--ownership"], ["--leader"]):
            json.dump(make_ownership_report(leader=sys.argv[2] == "--leader"), out, indent=1)
        elif sys.argv[2:] == ["--election"]:
            json.dump(make_election_report(), out, indent=1)
        else:
            json.dump(make_report(*sys.argv[2:3]), out, indent=1)
