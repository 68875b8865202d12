"""Tests of `plot.py downtime`: the lines it reads from a report (a leader crasher's quantile
function, downtime_cdf_ms[0 .. 100], per variant), the figure (axis scale, labels, guides), its
errors (no leader crasher, --component, a missing, null or decreasing percentile), and, with
DSIM_BINARY, a report of the real simulator."""

import matplotlib

matplotlib.use("Agg")
import pytest  # noqa: E402

import sample_report  # noqa: E402
from conftest import run_dsim, run_plot, run_plot_here, write_report  # noqa: E402
from test_plot import assert_bad_input, assert_image, assert_ok, figure_texts  # noqa: E402


def election(tmp_path, edit=None, name="leader-election", **make):
    data = sample_report.make_election_report(name, **make)
    if edit is not None:
        edit(data)
    return write_report(tmp_path, data, name)


def lines_of(path, component=None):
    import downtime
    import report

    return downtime.extract(report.load(path), component)


def draw(path, scale="auto", seeds=2):
    import downtime

    return downtime.draw([lines_of(path)], ["leader-election"], [seeds], scale)


def axis_scale(fig):
    scale = fig.get_axes()[0].get_xscale()
    figure_texts(fig)  # closes it
    return scale


# --- the figure ---------------------------------------------------------------------------------


def test_writes_a_png_beside_the_report(tmp_path):
    path = election(tmp_path)
    expected = tmp_path / "leader-election.downtime.png"
    assert_ok(run_plot("downtime", path), expected)
    assert_image(expected, "png")


@pytest.mark.parametrize("fmt", ["svg", "pdf"])
def test_other_formats(capsys, tmp_path, fmt):
    out = tmp_path / f"figure.{fmt}"
    assert_ok(run_plot_here(capsys, "downtime", election(tmp_path), "-o", out), out)
    assert_image(out, fmt)


def test_figure_says_what_it_shows(tmp_path):
    texts = figure_texts(draw(election(tmp_path)))
    assert "Time without a leader after a leader crash (CDF over trials): leader-election (2 seeds)" in texts
    assert "150-300ms (1,000 trials per seed, median 195 ms)" in texts  # 105 + 361 x 0.5^2
    assert "150-155ms (480 trials per seed, median 1308 ms, 1 unfinished)" in texts
    assert "50-100ms (1,000 trials per seed, median 107 ms)" in texts
    assert "median" in texts and "p99" in texts
    assert "cumulative percent of trials" in texts
    assert "time without a leader after the leader's crash (ms), log scale" in texts


def test_one_seed_and_long_downtimes_in_seconds(tmp_path):
    import downtime

    def edit(data):
        figures = data["variants"][1]["figures"]
        for i in range(101):
            figures[f"crasher.downtime_cdf_ms[{i}]"] = 5000.0 + 400.0 * i  # median 25 s

    texts = figure_texts(downtime.draw([lines_of(election(tmp_path, edit))], ["leader-election"], [1]))
    assert "150-155ms (480 trials, median 25 s, 1 unfinished)" in texts
    assert "Time without a leader after a leader crash (CDF over trials): leader-election (1 seed)" in texts


def test_the_time_axis_turns_logarithmic_for_a_long_tail(tmp_path):
    path = election(tmp_path)
    assert axis_scale(draw(path)) == "log"  # 52 ms to 8.6 s
    assert axis_scale(draw(path, "linear")) == "linear"
    short = election(tmp_path, variants=("150-300ms",), name="short")
    assert axis_scale(draw(short)) == "linear"  # 105 to 466 ms: under 30x
    assert axis_scale(draw(short, "log")) == "log"


def test_the_line_joins_the_percentiles(tmp_path):
    import downtime

    result = lines_of(election(tmp_path))
    fig = downtime.draw([result], ["leader-election"], [2])
    plotted = [line for line in fig.get_axes()[0].get_lines() if len(line.get_xdata()) == 101]
    assert len(plotted) == 3
    first = plotted[0]
    assert list(first.get_xdata()) == result.lines[0].downtime_ms
    assert list(first.get_ydata()) == pytest.approx([float(i) for i in range(101)])
    figure_texts(fig)


def test_several_reports(capsys, tmp_path):
    first = election(tmp_path)
    second = election(tmp_path, name="lan", variants=("150-300ms",), seeds=(1,))
    out = tmp_path / "both.png"
    assert_ok(run_plot_here(capsys, "downtime", first, second, "-o", out), out)
    assert_image(out, "png")
    import downtime

    fig = downtime.draw([lines_of(first), lines_of(second)], ["leader-election", "lan"], [2, 1])
    styles = {line.get_linestyle() for line in fig.get_axes()[0].get_lines() if len(line.get_xdata()) == 101}
    texts = figure_texts(fig)
    assert "Time without a leader after a leader crash (CDF over trials) (1-2 seeds)" in texts
    assert any(t.startswith("lan: 150-300ms (1,000 trials per seed") for t in texts)
    assert len(styles) == 2  # one line style per report


def test_same_report_gives_the_same_bytes(capsys, tmp_path):
    path = election(tmp_path)
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    assert_ok(run_plot_here(capsys, "downtime", path, "-o", a), a)
    assert_ok(run_plot_here(capsys, "downtime", path, "-o", b), b)
    assert a.read_bytes() == b.read_bytes()


# --- the lines ------------------------------------------------------------------------------------


def test_lines_per_variant(tmp_path):
    result = lines_of(election(tmp_path))
    assert [(line.variant, line.crasher) for line in result.lines] == [
        ("150-300ms", "crasher"), ("150-155ms", "crasher"), ("50-100ms", "crasher")]
    assert result.absent == []
    line = result.lines[0]
    assert len(line.downtime_ms) == 101
    assert line.downtime_ms[0] == 105.0 and line.downtime_ms[100] == 466.0
    assert line.downtime_ms == sorted(line.downtime_ms)
    assert line.trials == 1000.0 and line.unfinished == 0.0


def test_a_variant_without_trials_is_named_without_a_line(capsys, tmp_path):
    import downtime

    path = election(tmp_path, variants=("150-300ms", "150-150ms"))
    result = lines_of(path)
    assert result.lines[1].variant == "150-150ms" and result.lines[1].downtime_ms == []
    fig = downtime.draw([result], ["leader-election"], [2])
    assert len([line for line in fig.get_axes()[0].get_lines() if len(line.get_xdata()) == 101]) == 1
    assert "150-150ms (no trial)" in figure_texts(fig)
    out = tmp_path / "o.png"
    assert_ok(run_plot_here(capsys, "downtime", path, "-o", out), out)


def test_several_crashers_and_component(capsys, tmp_path):
    import downtime

    path = election(tmp_path, crashers=("crasher", "chaos"))
    result = lines_of(path)
    assert [line.crasher for line in result.lines] == ["crasher", "chaos"] * 3
    texts = figure_texts(downtime.draw([result], ["leader-election"], [2]))
    assert any(t.startswith("150-300ms (chaos) (") for t in texts)
    assert {line.crasher for line in lines_of(path, "chaos").lines} == {"chaos"}
    out = tmp_path / "o.png"
    assert_ok(run_plot_here(capsys, "downtime", path, "--component", "chaos", "-o", out), out)


def test_a_variant_without_the_crasher(tmp_path):
    import downtime

    def edit(data):
        del data["variants"][2]["scenario"]["components"]["crasher"]

    result = lines_of(election(tmp_path, edit))
    assert [line.variant for line in result.lines] == ["150-300ms", "150-155ms"]
    assert result.absent == [("50-100ms", "crasher")]
    texts = [" ".join(t.split()) for t in figure_texts(downtime.draw([result], ["leader-election"], [2]))]
    assert "without a leader crasher, not shown: 50-100ms" in texts


# --- errors -----------------------------------------------------------------------------------


def test_a_report_without_a_leader_crasher(sample_report_path):
    done = run_plot("downtime", sample_report_path)
    assert_bad_input(done, f"plot.py: {sample_report_path}: no leader_crasher component",
                     "the downtime plot needs one")
    assert not (sample_report_path.parent / "breaker-demo.downtime.png").exists()


@pytest.mark.parametrize("name, fragment", [
    ("nope", '--component: no leader_crasher "nope" (the leader crashers: crasher)'),
    ("raft", '--component: "raft" is a raft_node, not a leader_crasher (the leader crashers: crasher)'),
])
def test_component_that_is_not_a_crasher(capsys, tmp_path, name, fragment):
    path = election(tmp_path)
    done = run_plot_here(capsys, "downtime", path, "--component", name, "-o", tmp_path / "o.png")
    assert_bad_input(done, f"{path}: {fragment}")
    assert not (tmp_path / "o.png").exists()


def figures_of(data, index=0):
    return data["variants"][index]["figures"]


BAD = [
    (lambda d: figures_of(d).pop("crasher.downtime_cdf_ms[37]"),
     '/variants/0/figures: no "crasher.downtime_cdf_ms[37]" (the downtime plot needs it)'),
    (lambda d: [figures_of(d, 1).pop(f"crasher.downtime_cdf_ms[{i}]") for i in range(101)],
     '/variants/1/figures: no "crasher.downtime_cdf_ms[0]" (the downtime plot needs the crasher\'s quantile'),
    (lambda d: figures_of(d).update({"crasher.downtime_cdf_ms[5]": None}),
     "/variants/0/figures/crasher.downtime_cdf_ms[5]: expected a number (the other percentiles have one), got null"),
    (lambda d: figures_of(d).update({"crasher.downtime_cdf_ms[5]": 500.0}),
     "/variants/0/figures/crasher.downtime_cdf_ms[6]: 106.3 is below the percentile before it (500): "
     "not a quantile function"),
    (lambda d: figures_of(d).update({"crasher.downtime_cdf_ms[9]": "9ms"}),
     '/variants/0/figures/crasher.downtime_cdf_ms[9]: expected a number or null, got "9ms"'),
    (lambda d: figures_of(d).update({"crasher.downtime_cdf_ms[0]": -1.0}),
     "/variants/0/figures/crasher.downtime_cdf_ms[0]: expected a number >= 0, got -1.0"),
    (lambda d: figures_of(d).update({"crasher.trials": "many"}),
     '/variants/0/figures/crasher.trials: expected a number or null, got "many"'),
    (lambda d: d["variants"][0].pop("figures"), '/variants/0: no "figures" (the downtime plot needs it)'),
]


@pytest.mark.parametrize("edit, fragment", BAD)
def test_report_without_what_the_plot_needs(capsys, tmp_path, edit, fragment):
    path = election(tmp_path, edit)
    assert_bad_input(run_plot_here(capsys, "downtime", path, "-o", tmp_path / "o.png"), f"{path}: {fragment}")
    assert not (tmp_path / "o.png").exists()


def test_help():
    done = run_plot("downtime", "--help")
    assert done.returncode == 0
    assert "--component NAME" in done.stdout and "--scale" in done.stdout


# --- the real simulator ---------------------------------------------------------------------------

ELECTION_SCENARIO = """{
  "name": "election", "description": "a leader of five crashed 30 times, two timeout ranges",
  "duration": "60s",
  "network": {"latency": {"dist": "uniform", "low": "5ms", "high": "10ms"}},
  "components": {
    "raft": {"model": "raft_node", "count": 5, "heartbeat_interval": "75ms"},
    "crasher": {"model": "leader_crasher", "target": "raft", "stable_for": "500ms", "trials": 30}
  },
  "variants": {"150-155ms": {"components": {"raft": {"election_timeout_max": "155ms"}}}}
}"""


def test_a_report_of_the_real_simulator(capsys, tmp_path):
    scenario = tmp_path / "election.json"
    scenario.write_text(ELECTION_SCENARIO)
    path = run_dsim(scenario, tmp_path / "out", "--seeds", "2")
    result = lines_of(path)
    assert [line.variant for line in result.lines] == ["base", "150-155ms"]
    base = result.lines[0]
    assert base.trials == 30
    assert len(base.downtime_ms) == 101 and base.downtime_ms == sorted(base.downtime_ms)
    assert 75 < base.downtime_ms[0] < base.downtime_ms[50] < 400  # 150-300 ms timeouts
    assert result.lines[1].downtime_ms[50] > base.downtime_ms[50]  # split votes
    out = tmp_path / "o.png"
    assert_ok(run_plot_here(capsys, "downtime", path, "-o", out), out)
    assert_image(out, "png")
