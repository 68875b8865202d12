"""A small but realistic dsim report in the documented format (docs/report-format.md), built in
Python so that the analysis tests do not need the simulator.

The story: 1000 requests/s to three API replicas for 60 s (10 s warm-up, 1 s windows);
api[0] crashes from 20 s to 30 s, the link to api[1] degrades from 40 s to 45 s, and api[2]
pauses from 57 s to the end of the run. Without a circuit breaker, requests to the crashed
replica time out after 1 s; with one, they fail fast while the breaker is open.

Run as a script to write one: /usr/bin/python3 tests/analysis/sample_report.py out.report.json
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
                "windows": windows, "faults": FAULTS, "states": _states(variant),
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


if __name__ == "__main__":
    with open(sys.argv[1], "w") as out:
        json.dump(make_report(*sys.argv[2:3]), out, indent=1)
