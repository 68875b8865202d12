"""The timeline's model series panels (runs[].series, docs/report-format.md "Model series"): one
panel per series that varies, a line per variant with the mean over its seeds of each window's
snapshot, drawn at the window's end; at most timeline.MAX_SERIES panels, the others counted in
the figure; reports without series (written before they existed) and series with nulls plot."""

import math

import pytest

import sample_report
from conftest import run_plot_here, write_report

DURATION = sample_report.DURATION_S


def extracted(tmp_path, data):
    import report
    import timeline

    return timeline.extract(report.load(write_report(tmp_path, data)))


def drawn(timeline_data):
    """{y label: [(x, y) of each line]} of the series panels, and every text of the figure."""
    import matplotlib.pyplot as plt
    from matplotlib.text import Text

    import timeline

    fig = timeline.draw(timeline_data)
    texts = [t.get_text() for t in fig.findobj(Text)]
    others = {label for _, label in timeline.METRICS} | {"faults", ""}  # "": the states' panel
    panels = {}
    for ax in fig.axes:
        if ax.get_ylabel() not in others:
            panels[ax.get_ylabel()] = [(list(line.get_xdata()), list(line.get_ydata())) for line in ax.get_lines()]
    n_axes = len(fig.axes)
    plt.close(fig)
    return panels, texts, n_axes


def test_series_panels_show_the_mean_over_seeds_at_window_ends(tmp_path):
    result = extracted(tmp_path, sample_report.make_report())
    assert result.model_series == ["api.queued", "api.busy", "api.workers"]  # report order
    no_breaker, breaker = result.series
    # Seeds 1 and 2 add 0 and 1 to the queue: their mean adds 0.5.
    assert no_breaker.model["api.queued"][5] == 0.5
    assert no_breaker.model["api.queued"][25] == 40.5  # the crash, without a breaker
    assert breaker.model["api.queued"][25] == 0.5
    assert no_breaker.model["api.queued"][59] == 300.5  # 3 s into the pause
    assert no_breaker.model["api.busy"][25] == 8.0
    assert len(no_breaker.model["api.busy"]) == DURATION

    panels, texts, n_axes = drawn(result)
    # api.workers is constant: no panel, but the figure says so.
    assert set(panels) == {"queued\n(api)", "busy\n(api)"}
    assert n_axes == 1 + 5 + 2 + 1  # faults, the metrics, two series, the breaker's states
    assert "model series, snapshots at window ends (1 constant: not shown)" in texts
    (xs, ys), (_, breaker_ys) = panels["queued\n(api)"]
    assert xs == [float(s + 1) for s in range(DURATION)]  # at each window's end
    assert ys == no_breaker.model["api.queued"]
    assert breaker_ys == breaker.model["api.queued"]


def test_a_report_without_series_plots_as_before(capsys, tmp_path):
    data = sample_report.make_report()
    for variant in data["variants"]:
        for run in variant["runs"]:
            del run["series"]
    result = extracted(tmp_path, data)
    assert result.model_series == []
    assert all(s.model == {} for s in result.series)
    panels, texts, n_axes = drawn(result)
    assert panels == {}
    assert n_axes == 1 + 5 + 1
    assert not any("model series" in t for t in texts)
    out = tmp_path / "t.png"
    done = run_plot_here(capsys, "timeline", write_report(tmp_path, data, "old"), "-o", out)
    assert done.returncode == 0, done.stderr
    assert out.is_file()


def test_nulls_are_skipped_and_a_variant_without_values_is_named(tmp_path):
    data = sample_report.make_report()
    first, second = data["variants"][0]["runs"]
    first["series"]["api.queued"][3] = None  # seed 1 has no value: the mean is seed 2's
    for run in (first, second):
        run["series"]["api.queued"][4] = None  # no seed has a value: a gap
    for run in data["variants"][1]["runs"]:  # the breaker variant has no busy value at all
        run["series"]["api.busy"] = [None] * DURATION
    result = extracted(tmp_path, data)
    no_breaker, breaker = result.series
    assert no_breaker.model["api.queued"][3] == 1.0
    assert math.isnan(no_breaker.model["api.queued"][4])
    assert all(math.isnan(v) for v in breaker.model["api.busy"])
    panels, texts, _ = drawn(result)
    assert set(panels) == {"queued\n(api)", "busy\n(api)"}
    assert "breaker: no value" in texts
    assert "no-breaker: no value" not in texts


def test_at_most_six_series_panels_the_others_counted(tmp_path):
    import timeline

    data = sample_report.make_report()
    for variant in data["variants"]:
        for run in variant["runs"]:
            run["series"] = {f"g{i}.depth": [float(i * w) for w in range(DURATION)] for i in range(9)}
    result = extracted(tmp_path, data)
    assert timeline.MAX_SERIES == 6
    # g0 is constant (all 0); g1 .. g6 are the first six that vary, g7 and g8 are left out.
    assert timeline._some_series(result) == [f"g{i}.depth" for i in range(1, 7)]
    panels, texts, _ = drawn(result)
    assert sorted(panels) == [f"depth\n(g{i})" for i in range(1, 7)]
    assert "model series, snapshots at window ends (2 more, 1 constant: not shown)" in texts


def test_a_series_that_varies_only_between_variants_is_shown(tmp_path):
    import timeline

    data = sample_report.make_report()
    for index, variant in enumerate(data["variants"]):
        for run in variant["runs"]:
            run["series"] = {"pool.size": [float(index + 1)] * DURATION}
    assert timeline._some_series(extracted(tmp_path, data)) == ["pool.size"]


@pytest.mark.parametrize("edit", ["empty", "constant"])
def test_hidden_series_without_any_panel_are_counted(tmp_path, edit):
    data = sample_report.make_report()
    for variant in data["variants"]:
        for run in variant["runs"]:
            run["series"] = {} if edit == "empty" else {"api.workers": [12.0] * DURATION}
    panels, texts, _ = drawn(extracted(tmp_path, data))
    assert panels == {}
    noted = "model series: 1 constant, not shown" in texts
    assert noted == (edit == "constant")
