"""Tests of `plot.py shards`: the per-shard table it reads from a report (shares, latencies,
utilization averaged over replicas and seeds, nodes in numeric order), the figure, and its
errors (no sharder, --component, missing per-shard figures). None needs the dsim binary."""

import json

import matplotlib

matplotlib.use("Agg")
import pytest  # noqa: E402

import sample_report  # noqa: E402
from conftest import run_plot, run_plot_here, write_report  # noqa: E402
from test_plot import assert_bad_input, assert_image, assert_ok, figure_texts  # noqa: E402


def sharded(tmp_path, edit=None, name="hot-shard", **make):
    data = sample_report.make_sharded_report(name, **make)
    if edit is not None:
        edit(data)
    return write_report(tmp_path, data, name)


def table(path, component=None):
    import report
    import shards

    return shards.extract(report.load(path), component)


def flat_texts(fig):
    """figure_texts with each text's line breaks as spaces (the note under the figure is wrapped)."""
    return [" ".join(t.split()) for t in figure_texts(fig)]


def row(result, variant, sharder="sharder"):
    (found,) = [r for r in result.rows if r.variant == variant and r.sharder == sharder]
    return found


# --- the figure ---------------------------------------------------------------------------------


def test_writes_a_png_beside_the_report(tmp_path):
    path = sharded(tmp_path)
    expected = tmp_path / "hot-shard.shards.png"
    assert_ok(run_plot("shards", path), expected)
    assert_image(expected, "png")


@pytest.mark.parametrize("fmt", ["svg", "pdf"])
def test_other_formats(capsys, tmp_path, fmt):
    out = tmp_path / f"figure.{fmt}"
    assert_ok(run_plot_here(capsys, "shards", sharded(tmp_path), "-o", out), out)
    assert_image(out, fmt)


def test_several_reports(capsys, tmp_path):
    first = sharded(tmp_path)
    second = write_report(tmp_path, sample_report.make_sharded_report("wide", variants=("one-replica",), shards=20),
                          "wide")
    out = tmp_path / "both.png"
    assert_ok(run_plot_here(capsys, "shards", first, second, "-o", out), out)
    assert_image(out, "png")


def test_figure_says_what_it_shows(tmp_path):
    import shards

    result = table(sharded(tmp_path))
    texts = figure_texts(shards.draw([result], ["hot-shard"], [2]))
    assert "Load, latency and utilization per shard: hot-shard (2 seeds)" in texts
    assert "one-replica: imbalance 1.38, 4 shards, hottest shard 34.5 %" in texts
    assert "three-replicas: imbalance 1.38, 4 shards x 3 replicas, hottest shard 34.5 %" in texts
    assert "1/4" in texts  # the even share
    assert "0\n380/s" in texts  # the hot shard's rate under its bar
    assert "135" in texts  # its p99 above its bar
    assert not any("no utilization" in t for t in texts)


def test_several_sharders_are_each_a_row(tmp_path):
    import shards

    result = table(sharded(tmp_path, sharders=("sharder", "router")))
    assert [(r.variant, r.sharder) for r in result.rows] == [
        (v, s) for v in ("one-replica", "two-replicas", "three-replicas") for s in ("sharder", "router")]
    texts = figure_texts(shards.draw([result], ["hot-shard"], [2]))
    assert any(t.endswith("(sharder router)") for t in texts)


def test_same_report_gives_the_same_bytes(capsys, tmp_path):
    path = sharded(tmp_path)
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    assert_ok(run_plot_here(capsys, "shards", path, "-o", a), a)
    assert_ok(run_plot_here(capsys, "shards", path, "-o", b), b)
    assert a.read_bytes() == b.read_bytes()


# --- the per-shard table ------------------------------------------------------------------------


def test_per_shard_figures(tmp_path):
    result = table(sharded(tmp_path))
    assert [r.variant for r in result.rows] == ["one-replica", "two-replicas", "three-replicas"]
    assert result.absent == []
    one = row(result, "one-replica")
    assert (one.sharder, one.target) == ("sharder", "shards")
    assert one.imbalance == pytest.approx(1.38)
    assert one.max_share == pytest.approx(0.345)
    assert one.even == 0.25
    assert [s.index for s in one.shards] == [0, 1, 2, 3]
    assert [s.share for s in one.shards] == [0.345, 0.22, 0.22, 0.215]
    assert [s.rate_per_s for s in one.shards] == [379.5, 242.0, 242.0, 236.5]
    assert [s.p99_ms for s in one.shards] == [135.0, 14.0, 14.0, 13.5]
    assert [s.mean_ms for s in one.shards] == [48.0, 10.2, 10.2, 10.1]
    assert one.shards[0].share_ci == pytest.approx((0.345 * 0.96, 0.345 * 1.04))
    assert one.shards[0].p99_ci == pytest.approx((135 * 0.96, 135 * 1.04))
    assert [s.replicas for s in one.shards] == [1, 1, 1, 1]
    assert [s.replicas for s in row(result, "three-replicas").shards] == [3, 3, 3, 3]
    assert one.no_utilization is None


def test_utilization_is_the_mean_of_the_replicas_over_the_seeds(tmp_path):
    result = table(sharded(tmp_path))
    # One replica: 2.76 x 0.345 = 0.9522 in seed 1, + 0.005 in seed 2.
    hot = row(result, "one-replica").shards[0]
    assert hot.utilization == pytest.approx(0.9547)
    assert hot.replica_utilization == pytest.approx([0.9547])
    # Three replicas of shard 3 (share 0.215): 2.76 x 0.215 / 3 = 0.1978, + 0, 1, 2 points by
    # replica, + 0.5 point in seed 2.
    last = row(result, "three-replicas").shards[3]
    assert last.replica_utilization == pytest.approx([0.2003, 0.2103, 0.2203])
    assert last.utilization == pytest.approx(0.2103)


def test_nodes_are_in_numeric_order_not_text_order(tmp_path):
    path = sharded(tmp_path)
    keys = list(json.loads(path.read_text())["variants"][2]["runs"][0]["models"]["shards"]["per_replica"])
    assert keys.index("shards[10]") < keys.index("shards[2]")  # as dsim writes it: sorted as text
    shards = row(table(path), "three-replicas").shards
    assert [s.nodes for s in shards] == [[f"shards[{n}]" for n in range(3 * i, 3 * i + 3)] for i in range(4)]
    assert shards[3].nodes == ["shards[9]", "shards[10]", "shards[11]"]
    assert shards[0].utilization < shards[1].utilization * 2  # not shards[0], [10], [11] mixed up
    assert shards[0].utilization == pytest.approx(0.345 * 2.76 / 3 + 0.01 + 0.0025)


def test_utilization_by_hand(tmp_path):
    """Shard 1 of two replicas = shards[2] and shards[3]: seed 1 gives 0.2 and 0.4 (mean 0.3),
    seed 2 gives 0.6 and null (0.6): 0.45, the mean of the seeds' means, not of all values (0.4)."""

    def edit(data):
        runs = data["variants"][1]["runs"]
        for run, values in zip(runs, ((0.2, 0.4), (0.6, None))):
            for node, value in zip(("shards[2]", "shards[3]"), values):
                run["models"]["shards"]["per_replica"][node]["utilization"] = value

    shard = row(table(sharded(tmp_path, edit)), "two-replicas").shards[1]
    assert shard.nodes == ["shards[2]", "shards[3]"]
    assert shard.utilization == pytest.approx(0.45)
    assert shard.replica_utilization == pytest.approx([0.4, 0.4])


def test_one_node_per_shard_named_without_an_index(tmp_path):
    """A target of one node is named like its component, without [0]."""

    def edit(data):
        variant = data["variants"][0]
        for key in [k for k in variant["figures"] if "[" in k and not k.endswith("[0]")]:
            del variant["figures"][key]
        for run in variant["runs"]:
            run["models"]["shards"]["per_replica"] = {"shards": {"utilization": 0.5}}

    one = table(sharded(tmp_path, edit, variants=("one-replica",))).rows[0]
    assert len(one.shards) == 1 and one.even == 1.0
    assert one.shards[0].nodes == ["shards"]
    assert one.shards[0].utilization == 0.5


def test_imbalance_and_replicas_when_not_reported(tmp_path):
    def edit(data):
        variant = data["variants"][1]
        for key in [k for k in variant["figures"] if "imbalance" in k or "max_shard" in k or "replicas[" in k]:
            del variant["figures"][key]

    two = row(table(sharded(tmp_path, edit)), "two-replicas")
    assert two.imbalance == pytest.approx(1.38)  # max share over the mean share
    assert two.max_share == 0.345
    assert [s.replicas for s in two.shards] == [2, 2, 2, 2]  # the sharder's "replicas"
    assert two.shards[1].nodes == ["shards[2]", "shards[3]"]


def test_without_per_replica_figures_the_panel_is_left_out(capsys, tmp_path):
    import shards

    path = sharded(tmp_path, per_replica=False)
    result = table(path)
    for r in result.rows:
        assert r.no_utilization.startswith('no per-replica figures of "shards"')
        assert all(s.utilization is None and s.nodes == [] for s in r.shards)
    fig = shards.draw([result], ["hot-shard"], [2])
    assert len(fig.get_axes()) == 2 * 3  # share and p99 for 3 variants
    assert any("no utilization panel: no per-replica figures" in t for t in flat_texts(fig))
    out = tmp_path / "o.png"
    assert_ok(run_plot_here(capsys, "shards", path, "-o", out), out)
    assert_image(out, "png")


def test_a_target_without_utilization(tmp_path):
    """A cache shard, say: per-replica figures, but no utilization among them."""

    def edit(data):
        for variant in data["variants"]:
            variant["scenario"]["components"]["shards"]["model"] = "cache"
            for run in variant["runs"]:
                for figures in run["models"]["shards"]["per_replica"].values():
                    del figures["utilization"]

    result = table(sharded(tmp_path, edit))
    assert result.rows[0].no_utilization == '"shards" (cache) has no utilization figure'


def test_only_some_variants_with_per_replica_figures(tmp_path):
    import shards

    def edit(data):
        for run in data["variants"][0]["runs"]:
            del run["models"]["shards"]["per_replica"]

    result = table(sharded(tmp_path, edit))
    assert result.rows[0].no_utilization is not None and result.rows[1].no_utilization is None
    fig = shards.draw([result], ["hot-shard"], [2])
    assert len(fig.get_axes()) == 3 * 3
    texts = figure_texts(fig)
    assert any(t.startswith("no utilization:\nno per-replica figures") for t in texts)


def null_p99(data):
    """No call to shard 2 of the second variant succeeded: its latencies are null."""
    variant = data["variants"][1]
    for figure in ("shard_p99_ms", "shard_mean_ms"):
        variant["figures"][f"sharder.{figure}[2]"] = None
        variant["figures_ci95"][f"sharder.{figure}[2]"] = None


def test_a_shard_with_a_null_p99(capsys, tmp_path):
    import shards

    path = sharded(tmp_path, null_p99)
    result = table(path)
    shard = row(result, "two-replicas").shards[2]
    assert (shard.p99_ms, shard.mean_ms, shard.p99_ci) == (None, None, None)
    assert shard.share == 0.22
    assert "no\ncalls" in figure_texts(shards.draw([result], ["hot-shard"], [2]))
    out = tmp_path / "o.png"
    assert_ok(run_plot_here(capsys, "shards", path, "-o", out), out)
    assert_image(out, "png")


def test_a_variant_without_the_sharder(tmp_path):
    import shards

    def edit(data):
        del data["variants"][0]["scenario"]["components"]["sharder"]

    result = table(sharded(tmp_path, edit))
    assert [r.variant for r in result.rows] == ["two-replicas", "three-replicas"]
    assert result.absent == [("one-replica", "sharder")]
    texts = flat_texts(shards.draw([result], ["hot-shard"], [2]))
    assert any("without the sharder, not shown: one-replica" in t for t in texts)


@pytest.mark.parametrize("make", [{"seeds": (1,)}, {"shards": 20}, {"shards": 1, "variants": ("x",)}])
def test_valid_edge_cases(capsys, tmp_path, make):
    out = tmp_path / "o.png"
    assert_ok(run_plot_here(capsys, "shards", sharded(tmp_path, **make), "-o", out), out)
    assert_image(out, "png")


# --- errors -----------------------------------------------------------------------------------


def test_a_report_without_a_sharder(sample_report_path):
    done = run_plot("shards", sample_report_path)
    assert_bad_input(done, f"plot.py: {sample_report_path}: no sharder component",
                     "the shards plot needs a sharder component")
    assert not (sample_report_path.parent / "breaker-demo.shards.png").exists()


def test_the_second_report_without_a_sharder(capsys, tmp_path, sample_report_path):
    path = sharded(tmp_path)
    done = run_plot_here(capsys, "shards", path, sample_report_path, "-o", tmp_path / "o.png")
    assert_bad_input(done, f"{sample_report_path}: no sharder component")


@pytest.mark.parametrize("name, fragment", [
    ("nope", '--component: no sharder "nope" (the sharders: sharder, router)'),
    ("shards", '--component: "shards" is a server, not a sharder (the sharders: sharder, router)'),
])
def test_component_that_is_not_a_sharder(capsys, tmp_path, name, fragment):
    path = sharded(tmp_path, sharders=("sharder", "router"))
    done = run_plot_here(capsys, "shards", path, "--component", name, "-o", tmp_path / "o.png")
    assert_bad_input(done, f"{path}: {fragment}")
    assert not (tmp_path / "o.png").exists()


def test_component_picks_one_sharder(capsys, tmp_path):
    path = sharded(tmp_path, sharders=("sharder", "router"))
    assert {r.sharder for r in table(path, "router").rows} == {"router"}
    out = tmp_path / "o.png"
    assert_ok(run_plot_here(capsys, "shards", path, "--component", "router", "-o", out), out)


def test_component_is_an_option_of_shards_only(sample_report_path):
    done = run_plot("p99", sample_report_path, "--component", "sharder")
    assert done.returncode == 2 and "Traceback" not in done.stderr


def test_help():
    done = run_plot("shards", "--help")
    assert done.returncode == 0 and "--component NAME" in done.stdout


def figures_of(data, index=0):
    return data["variants"][index]["figures"]


def per_replica(data, index=0):
    return data["variants"][index]["runs"][0]["models"]["shards"]["per_replica"]


BAD = [
    (lambda d: figures_of(d).pop("sharder.shard_p99_ms[2]"),
     '/variants/0/figures: no "sharder.shard_p99_ms[2]" (the shards plot needs it)'),
    (lambda d: figures_of(d).pop("sharder.shard_share[1]"),
     '/variants/0/figures: no "sharder.shard_share[1]" (shards 0 to 3 have one)'),
    (lambda d: [figures_of(d, 1).pop(f"sharder.shard_share[{i}]") for i in range(4)],
     '/variants/1/figures: no "sharder.shard_share[0]" (the shards plot needs the sharder\'s per-shard figures)'),
    (lambda d: figures_of(d).update({"sharder.shard_share[0]": "35%"}),
     '/variants/0/figures/sharder.shard_share[0]: expected a number or null, got "35%"'),
    (lambda d: figures_of(d).update({"sharder.shard_replicas[0]": 1.5}),
     "/variants/0/figures/sharder.shard_replicas[0]: expected a whole number, got 1.5"),
    (lambda d: d["variants"][0]["figures_ci95"].update({"sharder.shard_p99_ms[0]": [3]}),
     "/variants/0/figures_ci95/sharder.shard_p99_ms[0]: expected [low, high] or null"),
    (lambda d: d["variants"][0]["scenario"]["components"]["sharder"].pop("target"),
     '/variants/0/scenario/components/sharder: no "target" (the shards plot needs it)'),
    (lambda d: d["variants"][0].pop("figures"), '/variants/0: no "figures" (the shards plot needs it)'),
    (lambda d: per_replica(d).update({"other[0]": {}}),
     '/variants/0/runs/0/models/shards/per_replica: "other[0]" is not a node of "shards"'),
    (lambda d: per_replica(d).pop("shards[3]"),
     "/variants/0/runs/0/models/shards/per_replica: 3 nodes, but the shards of the sharder have 4 replicas"),
    (lambda d: per_replica(d)["shards[1]"].update(utilization="high"),
     '/variants/0/runs/0/models/shards/per_replica/shards[1]/utilization: expected a number or null, got "high"'),
]


@pytest.mark.parametrize("edit, fragment", BAD)
def test_report_without_what_the_plot_needs(capsys, tmp_path, edit, fragment):
    path = sharded(tmp_path, edit)
    assert_bad_input(run_plot_here(capsys, "shards", path, "-o", tmp_path / "o.png"), f"{path}: {fragment}")
    assert not (tmp_path / "o.png").exists()


# --- a report of the real simulator -------------------------------------------------------------


def test_the_hot_shard_scenario_of_the_real_simulator(tmp_path):
    """dsim's own sharder figures and per-replica utilization read as the plot expects: the
    shares add up to 1, the hot-shard-replicated variant's shard 3 has two replicas whose mean
    utilization is half its load's, and the figure is drawn."""
    from conftest import REPO, run_dsim

    path = run_dsim(REPO / "scenarios" / "hot-shard.json", tmp_path / "out", "--seeds", "1",
                    "--variant", "one-replica", "--variant", "hot-shard-replicated")
    result = table(path)
    one, split = row(result, "one-replica"), row(result, "hot-shard-replicated")
    assert sum(s.share for s in one.shards) == pytest.approx(1)
    assert [s.replicas for s in split.shards] == [1, 1, 1, 2]
    assert one.shards[3].share == max(s.share for s in one.shards)  # key 0's shard
    # The same calls spread over two replicas: each at about half of the one replica's load.
    assert split.shards[3].utilization == pytest.approx(one.shards[3].utilization / 2, rel=0.1)
    expected = tmp_path / "shards.png"
    assert_ok(run_plot("shards", path, "-o", expected), expected)
    assert_image(expected, "png")
