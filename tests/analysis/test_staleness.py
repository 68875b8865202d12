"""Tests of `plot.py staleness`: P(stale | time since the write) per variant of a replicated store,
from its consistency checker's reads_at_age[i] / stale_at_age[i] (pooled over seeds, with a 95 %
Wilson interval): the Wilson interval itself, the bucket width (a duration string), empty and
open-ended buckets, both store models, the figure, the errors, and, with DSIM_BINARY, a report of
the real simulator.

The reports are built here: a store "store" (3 replicas) and a client, two seeds, with the
per-seed counts of each variant in COUNTS."""

import copy
import math

import matplotlib

matplotlib.use("Agg")
import pytest  # noqa: E402

import sample_report  # noqa: E402
from conftest import run_dsim, run_plot, run_plot_here, write_report  # noqa: E402
from test_plot import assert_bad_input, assert_image, assert_ok, figure_texts  # noqa: E402

# Per variant, per seed: (reads, stale) of each age bucket (4 buckets; the last one open-ended).
COUNTS = {
    "async": [
        [(100, 60), (50, 10), (0, 0), (40, 2)],  # seed 1
        [(100, 40), (50, 0), (0, 0), (60, 0)],  # seed 2
    ],
    "sync": [
        [(80, 0), (70, 0), (10, 0), (0, 0)],
        [(120, 0), (30, 0), (10, 0), (0, 0)],
    ],
}


def make_staleness_report(name="staleness", counts=None, width="2ms", stores=(("store", "leader_follower_store"),),
                          seeds=(1, 2)):
    """A report in the documented format: each variant's scenario has the store components (with
    age_bucket = width), the variant's figures are the means over seeds, each run has its own."""
    counts = copy.deepcopy(COUNTS if counts is None else counts)
    variants = []
    for variant, per_seed in counts.items():
        per_seed = per_seed[:len(seeds)]
        buckets = len(per_seed[0])
        components = {"clients": {"model": "open_loop_client", "rate": "500/s", "target": stores[0][0]}}
        figures, runs = {}, []
        for store, model in stores:
            components[store] = {"model": model, "count": 3, "keys": 1,
                                 "checker": {"age_bucket": width, "age_buckets": buckets, "history": 64}}
        for seed, seed_counts in zip(seeds, per_seed):
            models = {"clients": {"model": "open_loop_client", "replicas": 1, "figures": {}}}
            for store, model in stores:
                reads = sum(r for r, _ in seed_counts) + 7  # reads before any write: no age
                stale = sum(s for _, s in seed_counts)
                own = {"reads": reads, "stale_reads": stale, "stale_read_fraction": stale / reads}
                for i, (r, s) in enumerate(seed_counts):
                    own[f"reads_at_age[{i}]"] = float(r)
                    own[f"stale_at_age[{i}]"] = float(s)
                models[store] = {"model": model, "replicas": 3, "figures": own}
            runs.append({"seed": seed, "fingerprint": "0" * 16, "events": 1000, "simulated_s": 20.0,
                         "windows": [], "faults": [], "states": [], "models": models})
        for store, _ in stores:
            for key in runs[0]["models"][store]["figures"]:
                values = [run["models"][store]["figures"][key] for run in runs]
                figures[f"{store}.{key}"] = sum(values) / len(values)
        variants.append({
            "name": variant, "duration_s": 20.0, "warmup_s": 1.0, "window_s": 1.0,
            "scenario": {"name": name, "duration": "20s", "components": components},
            "figures": figures, "figures_ci95": {}, "runs": runs,
        })
    return {"dsim_version": "0.1.0", "scenario": {"name": name, "description": "stale reads"},
            "seeds": list(seeds), "percentiles": [50, 99], "variants": variants}


def staleness_report(tmp_path, edit=None, name="staleness", **make):
    data = make_staleness_report(name, **make)
    if edit is not None:
        edit(data)
    return write_report(tmp_path, data, name)


def lines_of(path, component=None):
    import report
    import staleness

    return staleness.extract(report.load(path), component)


def draw(paths, labels=("staleness",), seeds=(2,)):
    import staleness

    return staleness.draw([lines_of(p) for p in paths], list(labels), list(seeds))


def texts_of(fig):
    return [" ".join(t.split()) for t in figure_texts(fig)]


# --- the Wilson interval ------------------------------------------------------------------------


@pytest.mark.parametrize("stale, reads, low, high", [
    (0, 10, 0.0, 0.2775),  # z^2 / (n + z^2): the rule of three's better-behaved cousin
    (5, 10, 0.2366, 0.7634),
    (10, 10, 0.7225, 1.0),
    (1, 20, 0.0089, 0.2361),
    (100, 200, 0.4314, 0.5686),
])
def test_wilson_interval_of_known_counts(stale, reads, low, high):
    import staleness

    got = staleness.wilson(stale, reads)
    assert got == pytest.approx((low, high), abs=1e-4)
    assert got[0] <= stale / reads <= got[1]


def test_wilson_interval_without_reads_and_at_scale():
    import staleness

    assert staleness.wilson(0, 0) is None
    low, high = staleness.wilson(1, 1_000_000)
    assert 0 < low < 1e-6 < high < 1e-5
    low, high = staleness.wilson(500_000, 1_000_000)
    assert high - low == pytest.approx(2 * 1.96 * math.sqrt(0.25 / 1e6), rel=1e-3)  # the normal interval


# --- the lines ----------------------------------------------------------------------------------


def test_probabilities_pooled_over_seeds(tmp_path):
    import staleness

    result = lines_of(staleness_report(tmp_path))
    assert [(line.variant, line.store, line.model) for line in result.lines] == [
        ("async", "store", "leader_follower_store"), ("sync", "store", "leader_follower_store")]
    assert result.absent == []
    line = result.lines[0]
    assert line.width_ms == 2.0 and line.runs == 2
    assert [b.index for b in line.buckets] == [0, 1]  # bucket 2 has no reads, 3 is the open one
    assert [(b.low_ms, b.high_ms, b.midpoint_ms) for b in line.buckets] == [(0, 2, 1), (2, 4, 3)]
    assert [(b.reads, b.stale) for b in line.buckets] == [(200, 100), (100, 10)]
    assert [b.probability for b in line.buckets] == [0.5, 0.1]
    assert [b.interval for b in line.buckets] == [staleness.wilson(100, 200), staleness.wilson(10, 100)]
    assert line.buckets[0].interval == pytest.approx((0.4314, 0.5686), abs=1e-4)
    # the open bucket: 2 stale of 40 in seed 1, 0 of 60 in seed 2: pooled 2 %, not the mean 2.5 %
    assert line.open.probability == 0.02 and line.open.reads == 100
    assert line.skipped == [2]
    assert line.stale_fraction == pytest.approx((72 / 197 + 40 / 217) / 2)
    assert line.reads == pytest.approx((197 + 217) / 2)


def test_the_interval_counts_every_seed(tmp_path):
    import staleness

    bucket = lines_of(staleness_report(tmp_path)).lines[0].buckets[0]
    low, high = bucket.interval
    one_seed = staleness.wilson(50, 100)  # the variant's mean counts: half the evidence
    assert high - low < one_seed[1] - one_seed[0]


def test_counts_from_the_means_when_the_runs_lack_them(tmp_path):
    def edit(data):
        for variant in data["variants"]:
            for run in variant["runs"]:
                del run["models"]

    pooled = lines_of(staleness_report(tmp_path, name="a"))
    means = lines_of(staleness_report(tmp_path, edit, name="b"))
    for a, b in zip(pooled.lines, means.lines):
        assert [(x.reads, x.stale, x.interval) for x in a.buckets] == [(x.reads, x.stale, x.interval)
                                                                        for x in b.buckets]
        assert b.runs == 2


def test_empty_buckets_are_skipped(tmp_path):
    line = lines_of(staleness_report(tmp_path)).lines[1]  # sync: nothing stale, no read in the last
    assert [b.index for b in line.buckets] == [0, 1, 2]
    assert [b.probability for b in line.buckets] == [0.0, 0.0, 0.0]
    assert line.buckets[0].interval[0] == 0 and 0 < line.buckets[0].interval[1] < 0.02
    assert line.open is None and line.skipped == [3]


def test_a_variant_without_any_read(tmp_path):
    counts = {"async": COUNTS["async"], "idle": [[(0, 0)] * 4, [(0, 0)] * 4]}
    line = lines_of(staleness_report(tmp_path, counts=counts)).lines[1]
    assert line.empty and line.skipped == [0, 1, 2, 3]
    texts = texts_of(draw([staleness_report(tmp_path, counts=counts)]))
    assert "idle (no reads with an age)" in texts


# --- the bucket width ---------------------------------------------------------------------------


@pytest.mark.parametrize("text, ms", [
    ("2ms", 2.0), ("500us", 0.5), ("1.5s", 1500.0), ("250ns", 0.00025), ("1m", 60_000.0), ("2h", 7_200_000.0),
    ("0.1ms", 0.1), (".5ms", 0.5), ("0", 0.0),
])
def test_duration_strings(text, ms):
    import report

    assert report.parse_duration_ms(text) == ms


@pytest.mark.parametrize("text, reason", [
    ("2", "missing unit"), ("2xs", 'unknown unit "xs"'), ("2 ms", 'like "250ms"'), ("ms", 'like "250ms"'),
    ("1e3ms", 'like "250ms"'), ("", 'like "250ms"'), ("1.2.3ms", 'like "250ms"'),
])
def test_bad_duration_strings(text, reason):
    import report

    with pytest.raises(ValueError, match=reason):
        report.parse_duration_ms(text)


def test_the_bucket_width_places_the_buckets(tmp_path):
    line = lines_of(staleness_report(tmp_path, width="500us")).lines[0]
    assert line.width_ms == 0.5
    assert [b.midpoint_ms for b in line.buckets] == [0.25, 0.75]
    assert line.open.low_ms == 1.5 and line.open.high_ms is None
    texts = texts_of(draw([staleness_report(tmp_path, width="500us")]))
    assert "last bucket: ≥ 1.5 ms" in texts
    assert any(t.endswith("bucket width 0.5 ms") for t in texts)


# --- the open-ended last bucket -------------------------------------------------------------------


def test_the_open_bucket_is_a_marker_at_its_lower_edge(tmp_path):
    fig = draw([staleness_report(tmp_path)])
    ax = fig.get_axes()[0]
    joined = [line for line in ax.get_lines() if line.get_marker() == "o" and line.get_linestyle() != "None"]
    assert [list(line.get_xdata()) for line in joined] == [[1.0, 3.0], [1.0, 3.0, 5.0]]  # not the open bucket
    markers = [line for line in ax.get_lines() if line.get_marker() == ">" and len(line.get_xdata()) == 1]
    assert [(line.get_xdata()[0], line.get_ydata()[0]) for line in markers] == [(6.0, 0.02)]
    texts = texts_of(fig)
    assert "last bucket: ≥ 6 ms" in texts
    assert "last bucket (open-ended), at its lower edge" in texts


def test_no_open_marker_without_reads_in_the_last_bucket(tmp_path):
    counts = {"sync": COUNTS["sync"]}
    fig = draw([staleness_report(tmp_path, counts=counts)])
    assert not [line for line in fig.get_axes()[0].get_lines() if line.get_marker() == ">"]
    texts = texts_of(fig)
    assert not any(t.startswith("last bucket") for t in texts)


def test_a_single_open_bucket(tmp_path):
    counts = {"one": [[(50, 5)], [(50, 0)]]}
    line = lines_of(staleness_report(tmp_path, counts=counts)).lines[0]
    assert line.buckets == [] and line.open.index == 0 and line.open.low_ms == 0
    assert line.open.probability == 0.05
    out = tmp_path / "one.png"
    assert_ok(run_plot(*["staleness", staleness_report(tmp_path, counts=counts), "-o", out]), out)


# --- the figure ---------------------------------------------------------------------------------


def test_writes_a_png(tmp_path):
    path = staleness_report(tmp_path)
    out = tmp_path / "out.png"
    assert_ok(run_plot("staleness", path, "-o", out), out)  # the real script, as a user runs it
    assert_image(out, "png")


def test_default_output_and_other_formats(capsys, tmp_path):
    path = staleness_report(tmp_path)
    expected = tmp_path / "staleness.staleness.png"
    assert_ok(run_plot_here(capsys, "staleness", path), expected)
    assert_image(expected, "png")
    for fmt in ("svg", "pdf"):
        out = tmp_path / f"figure.{fmt}"
        assert_ok(run_plot_here(capsys, "staleness", path, "-o", out), out)
        assert_image(out, fmt)


def test_figure_says_what_it_shows(tmp_path):
    texts = texts_of(draw([staleness_report(tmp_path)]))
    assert "Stale reads against the time since the write (95 % Wilson interval): staleness (2 seeds)" in texts
    assert "async" in texts and "sync" in texts
    note = next(t for t in texts if t.startswith("stale reads overall"))
    assert "async 27.5 % of 207 reads per seed (1 empty bucket skipped)" in note  # (72/197 + 40/217) / 2
    assert "sync 0 % of 167 reads per seed (1 empty bucket skipped)" in note
    assert any(t.startswith("P(stale | time since the write)") for t in texts)


def test_the_band_is_the_wilson_interval(tmp_path):
    import staleness

    result = lines_of(staleness_report(tmp_path))
    fig = staleness.draw([result], ["staleness"], [2])
    bands = fig.get_axes()[0].collections
    first = bands[0].get_paths()[0].vertices
    low, high = staleness.wilson(100, 200)
    assert min(first[:, 1]) == pytest.approx(min(low, staleness.wilson(10, 100)[0]))
    assert max(first[:, 1]) == pytest.approx(high)
    figure_texts(fig)


def test_same_report_gives_the_same_bytes(capsys, tmp_path):
    path = staleness_report(tmp_path)
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    assert_ok(run_plot_here(capsys, "staleness", path, "-o", a), a)
    assert_ok(run_plot_here(capsys, "staleness", path, "-o", b), b)
    assert a.read_bytes() == b.read_bytes()


def test_several_reports(capsys, tmp_path):
    first = staleness_report(tmp_path)
    second = staleness_report(tmp_path, name="wan", width="5ms", seeds=(1,))
    out = tmp_path / "both.png"
    assert_ok(run_plot_here(capsys, "staleness", first, second, "-o", out), out)
    texts = texts_of(draw([first, second], ["staleness", "wan"], [2, 1]))
    assert "Stale reads against the time since the write (95 % Wilson interval) (1-2 seeds)" in texts
    assert "wan: async" in texts
    assert any(t.endswith("bucket widths 2 ms, 5 ms") for t in texts)


# --- both store models, --component -------------------------------------------------------------


def test_a_quorum_store(tmp_path):
    path = staleness_report(tmp_path, stores=(("kv", "quorum_store"),))
    result = lines_of(path)
    assert [(line.variant, line.store, line.model) for line in result.lines] == [
        ("async", "kv", "quorum_store"), ("sync", "kv", "quorum_store")]
    assert result.lines[0].buckets[0].probability == 0.5


def test_several_stores_and_component(capsys, tmp_path):
    path = staleness_report(tmp_path, stores=(("store", "leader_follower_store"), ("kv", "quorum_store")))
    result = lines_of(path)
    assert [(line.variant, line.store) for line in result.lines] == [
        ("async", "store"), ("async", "kv"), ("sync", "store"), ("sync", "kv")]
    texts = texts_of(draw([path]))
    assert "async (kv)" in texts and "sync (store)" in texts
    assert [line.store for line in lines_of(path, "kv").lines] == ["kv", "kv"]
    out = tmp_path / "kv.png"
    assert_ok(run_plot_here(capsys, "staleness", path, "--component", "kv", "-o", out), out)


def test_a_variant_without_the_store(tmp_path):
    def edit(data):
        del data["variants"][1]["scenario"]["components"]["store"]

    result = lines_of(staleness_report(tmp_path, edit))
    assert [line.variant for line in result.lines] == ["async"]
    assert result.absent == [("sync", "store")]
    texts = texts_of(draw([staleness_report(tmp_path, edit)]))
    assert "without a replicated store, not shown: sync" in texts[-1] or any(
        "without a replicated store, not shown: sync" in t for t in texts)


def test_the_other_plots_still_pick_one_model(tmp_path):
    import report

    data = sample_report.make_election_report()
    loaded = report.load(write_report(tmp_path, data, "election"))
    items, _ = report.by_component(loaded, "x", "leader_crasher", "leader_crasher", None, lambda *a: a[3])
    assert set(items) == {"crasher"}
    items, _ = report.by_component(loaded, "x", ("raft_node", "leader_crasher"), "thing", None, lambda *a: a[3])
    assert set(items) == {"raft", "crasher"}


# --- errors -----------------------------------------------------------------------------------


def test_a_report_without_a_store(sample_report_path):
    done = run_plot("staleness", sample_report_path)
    assert_bad_input(done, f"plot.py: {sample_report_path}: no replicated store component (the staleness plot "
                           'needs one: a component whose model is "leader_follower_store" or "quorum_store" in '
                           "/variants/*/scenario/components)")
    assert not (sample_report_path.parent / "breaker-demo.staleness.png").exists()


@pytest.mark.parametrize("name, fragment", [
    ("nope", '--component: no replicated store "nope" (the replicated stores: store)'),
    ("clients", '--component: "clients" is a open_loop_client, not a replicated store (the replicated stores: '
                "store)"),
])
def test_component_that_is_not_a_store(capsys, tmp_path, name, fragment):
    path = staleness_report(tmp_path)
    done = run_plot_here(capsys, "staleness", path, "--component", name, "-o", tmp_path / "o.png")
    assert_bad_input(done, f"{path}: {fragment}")
    assert not (tmp_path / "o.png").exists()


def figures_of(data, index=0):
    return data["variants"][index]["figures"]


def config_of(data, index=0):
    return data["variants"][index]["scenario"]["components"]["store"]["checker"]


def run_figures(data, run, index=0):
    return data["variants"][index]["runs"][run]["models"]["store"]["figures"]


BAD = [
    (lambda d: figures_of(d).pop("store.stale_at_age[1]"),
     '/variants/0/figures: no "store.stale_at_age[1]" (the staleness plot needs it)'),
    (lambda d: [figures_of(d, 1).pop(f"store.reads_at_age[{i}]") for i in range(4)],
     '/variants/1/figures: no "store.reads_at_age[0]" (the staleness plot needs the store\'s consistency-checker '
     "figures reads_at_age[i] and stale_at_age[i])"),
    (lambda d: figures_of(d).pop("store.reads_at_age[2]"),
     '/variants/0/figures: no "store.reads_at_age[2]" (buckets 0 to 3 have one)'),
    (lambda d: figures_of(d).update({"store.stale_at_age[0]": 120.0}),
     "/variants/0/figures/store.stale_at_age[0]: 120 stale reads but only 100 reads in the bucket"),
    (lambda d: figures_of(d).update({"store.reads_at_age[1]": "many"}),
     '/variants/0/figures/store.reads_at_age[1]: expected a number, got "many"'),
    (lambda d: figures_of(d).update({"store.reads_at_age[1]": None}),
     "/variants/0/figures/store.reads_at_age[1]: expected a number, got null"),
    (lambda d: run_figures(d, 1).pop("stale_at_age[2]"),
     '/variants/0/runs/1/models/store/figures: no "stale_at_age[2]" (the staleness plot needs it)'),
    (lambda d: config_of(d).pop("age_bucket"),
     '/variants/0/scenario/components/store/checker: no "age_bucket" (the staleness plot needs it)'),
    (lambda d: config_of(d).update({"age_bucket": "2xs"}),
     '/variants/0/scenario/components/store/checker/age_bucket: expected a duration (unknown unit "xs": use ns, us, ms, '
     's, m or h), got "2xs"'),
    (lambda d: config_of(d).update({"age_bucket": 2}),
     '/variants/0/scenario/components/store/checker/age_bucket: expected a duration like "2ms", got 2'),
    (lambda d: config_of(d).update({"age_bucket": "0s"}),
     '/variants/0/scenario/components/store/checker/age_bucket: expected a duration above 0, got "0s"'),
    (lambda d: config_of(d).update({"age_buckets": 50}),
     '/variants/0/scenario/components/store/checker/age_buckets: 50 buckets, but /variants/0/figures has '
     '"store.reads_at_age[0]" to [3] (4)'),
    (lambda d: d["variants"][0].pop("figures"), '/variants/0: no "figures" (the staleness plot needs it)'),
]


@pytest.mark.parametrize("edit, fragment", BAD)
def test_report_without_what_the_plot_needs(capsys, tmp_path, edit, fragment):
    path = staleness_report(tmp_path, edit)
    assert_bad_input(run_plot_here(capsys, "staleness", path, "-o", tmp_path / "o.png"), f"{path}: {fragment}")
    assert not (tmp_path / "o.png").exists()


def test_help():
    done = run_plot("staleness", "--help")
    assert done.returncode == 0
    assert "--component NAME" in done.stdout
    assert "leader_follower_store or quorum_store" in " ".join(done.stdout.split())


# --- the real simulator ---------------------------------------------------------------------------

STALENESS_SCENARIO = """{
  "name": "staleness", "description": "async replication, reads from any replica",
  "duration": "20s", "warmup": "1s",
  "network": {"latency": {"dist": "exponential", "mean": "5ms"}},
  "components": {
    "store": {"model": "leader_follower_store", "count": 3, "keys": 1,
              "replication": "async", "replication_lag": "10ms", "read_from": "any",
              "checker": {"age_bucket": "2ms", "age_buckets": 20}},
    "clients": {"model": "open_loop_client", "rate": "500/s", "target": "store",
                "keys": 1, "write_fraction": 0.01, "timeout": "1s"}
  },
  "variants": {"leader-reads": {"components": {"store": {"read_from": "leader"}}}}
}"""


def test_a_report_of_the_real_simulator(capsys, tmp_path):
    import json

    scenario = tmp_path / "staleness.json"
    scenario.write_text(STALENESS_SCENARIO)
    path = run_dsim(scenario, tmp_path / "out", "--seeds", "2")
    result = lines_of(path)
    assert [line.variant for line in result.lines] == ["base", "leader-reads"]
    base, leader = result.lines
    assert base.width_ms == 2.0 and base.runs == 2
    data = json.loads(path.read_text())
    runs = data["variants"][0]["runs"]
    for bucket in base.buckets:
        assert bucket.reads == sum(run["models"]["store"]["figures"][f"reads_at_age[{bucket.index}]"] for run in runs)
    # async, lag 10 ms: a follower read soon after a write is often stale, long after it rarely
    assert base.buckets[0].probability > 0.3 > base.buckets[-1].probability
    assert base.stale_fraction > 0
    # the leader applies before it acknowledges: its reads are never stale
    assert all(b.stale == 0 for b in leader.buckets) and leader.stale_fraction == 0
    out = tmp_path / "o.png"
    assert_ok(run_plot_here(capsys, "staleness", path, "-o", out), out)
    assert_image(out, "png")
