"""Tests of analysis/plot.py: every kind of plot in every format, several reports, edge cases of
the report format, and bad input (one-line error, exit status 2, never a traceback)."""

import json
import os
import xml.etree.ElementTree as ElementTree

import matplotlib

matplotlib.use("Agg")
import matplotlib.image  # noqa: E402
import pytest  # noqa: E402

import sample_report  # noqa: E402
from conftest import PLOT, run_plot, run_plot_here, write_report  # noqa: E402

KINDS = ("p99", "cdf", "timeline", "availability")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def assert_image(path, fmt):
    """The file exists and is a readable image of the format."""
    assert path.is_file(), f"{path} was not written"
    data = path.read_bytes()
    if fmt == "png":
        assert data.startswith(PNG_MAGIC)
        pixels = matplotlib.image.imread(str(path))
        height, width = pixels.shape[:2]
        assert width >= 1200 and height >= 700, f"{width}x{height} px: expected ~10x6 in at 150 dpi"
    elif fmt == "svg":
        root = ElementTree.fromstring(data)
        assert root.tag.endswith("svg")
    else:
        assert data.startswith(b"%PDF")
        assert b"%%EOF" in data[-64:]


def assert_ok(done, expected_path):
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(expected_path)
    assert done.stderr == ""


def assert_bad_input(done, *fragments):
    """Exit status 2 and a single line on stderr, naming the problem."""
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("plot.py: ")
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert done.stdout == ""


# --- every kind, every format --------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_writes_a_png(any_report_path, kind, tmp_path):
    out = tmp_path / f"{kind}.png"
    assert_ok(run_plot(kind, any_report_path, "-o", out), out)
    assert_image(out, "png")


@pytest.mark.parametrize("fmt", ["svg", "pdf"])
@pytest.mark.parametrize("kind", KINDS)
def test_format_from_the_extension(sample_report_path, kind, fmt, tmp_path):
    out = tmp_path / f"figure.{fmt}"
    assert_ok(run_plot(kind, sample_report_path, "-o", out), out)
    assert_image(out, fmt)


def test_format_option_without_extension(sample_report_path, tmp_path):
    out = tmp_path / "figure"
    assert_ok(run_plot("cdf", sample_report_path, "-o", out, "--format", "svg"), tmp_path / "figure.svg")
    assert_image(tmp_path / "figure.svg", "svg")


@pytest.mark.parametrize("kind", KINDS)
def test_default_output_is_beside_the_report(sample_report_path, kind):
    expected = sample_report_path.parent / f"breaker-demo.{kind}.png"
    assert_ok(run_plot(kind, sample_report_path), expected)
    assert_image(expected, "png")


def test_output_into_a_directory(sample_report_path, tmp_path):
    figures = tmp_path / "figures"
    figures.mkdir()
    for output in (figures, f"{figures}/"):
        assert_ok(run_plot("cdf", sample_report_path, "-o", output), figures / "breaker-demo.cdf.png")
    assert_image(figures / "breaker-demo.cdf.png", "png")


def test_default_output_takes_the_format_option(sample_report_path):
    expected = sample_report_path.parent / "breaker-demo.availability.pdf"
    assert_ok(run_plot("availability", sample_report_path, "--format", "pdf"), expected)
    assert_image(expected, "pdf")


@pytest.mark.parametrize("kind", ["p99", "cdf", "availability"])
def test_several_reports_side_by_side(capsys, tmp_path, kind):
    first = write_report(tmp_path, sample_report.make_report("breaker-demo"), "breaker-demo")
    second = write_report(tmp_path, sample_report.make_report(
        "retry-storm", variants=("no-retry", "retry-3x", "retry-budget")), "retry-storm")
    out = tmp_path / "both.png"
    assert_ok(run_plot_here(capsys, kind, first, second, "-o", out), out)
    assert_image(out, "png")


def test_same_report_gives_the_same_bytes(sample_report_path, tmp_path):
    for fmt in ("png", "svg", "pdf"):
        a, b = tmp_path / f"a.{fmt}", tmp_path / f"b.{fmt}"
        assert_ok(run_plot("timeline", sample_report_path, "-o", a), a)
        assert_ok(run_plot("timeline", sample_report_path, "-o", b), b)
        assert a.read_bytes() == b.read_bytes(), fmt


def test_plot_py_is_an_executable_script_for_the_system_python():
    assert PLOT.read_text().startswith("#!/usr/bin/python3\n")
    assert os.access(PLOT, os.X_OK)


# --- edge cases of valid reports ---------------------------------------------------------------


def edited(tmp_path, edit, **make):
    data = sample_report.make_report(**make)
    edit(data)
    return write_report(tmp_path, data)


def no_faults_no_states(data):
    for variant in data["variants"]:
        for run in variant["runs"]:
            del run["faults"], run["states"]


def nothing_succeeded(data):
    variant = data["variants"][1]
    variant["summary"]["latency_ms"].update(p50=None, p99=None, p999=None)
    variant["summary"].update(availability=0.0, succeeded=0.0)
    variant["ci95"]["latency_ms"]["p99"] = None
    variant["histogram_ms"] = []
    for run in variant["runs"]:
        for window in run["windows"]:
            window.update(p50_ms=None, p99_ms=None, availability=0.0 if window["requests"] else None)


def nothing_succeeded_as_dsim_writes_it(data):
    """As dsim writes it: the summaries' latency_ms is null, not an object of nulls."""
    nothing_succeeded(data)
    variant = data["variants"][1]
    variant["summary"]["latency_ms"] = None
    for run in variant["runs"]:
        run["summary"]["latency_ms"] = None


def no_requests(data):
    variant = data["variants"][0]
    variant["summary"].update(availability=None, requests=0.0)
    variant["ci95"] = None


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("case, edit, make", [
    ("one seed: ci95 null", lambda d: None, {"seeds": (1,)}),
    ("availability exactly 1", lambda d: None, {"perfect": ("breaker",)}),
    ("no faults and no states", no_faults_no_states, {}),
    ("a variant where nothing succeeded", nothing_succeeded, {}),
    ("nothing succeeded, latency_ms null", nothing_succeeded_as_dsim_writes_it, {}),
    ("a variant without requests", no_requests, {}),
    ("one variant", lambda d: None, {"variants": ("breaker",)}),
    ("many variants", lambda d: None, {"variants": tuple(f"variant-{i}" for i in range(9))}),
])
def test_valid_edge_cases(capsys, tmp_path, kind, case, edit, make):
    report = edited(tmp_path, edit, **make)
    out = tmp_path / f"{kind}.png"
    assert_ok(run_plot_here(capsys, kind, report, "-o", out), out)
    assert_image(out, "png")


def figure_texts(fig):
    """Every text drawn on a figure (annotations, titles, tick labels); closes the figure."""
    import matplotlib.pyplot as plt
    from matplotlib.text import Text

    texts = [t.get_text() for t in fig.findobj(Text)]
    plt.close(fig)
    return texts


@pytest.mark.parametrize("edit", [nothing_succeeded, nothing_succeeded_as_dsim_writes_it])
def test_a_variant_without_success_says_so(tmp_path, edit):
    import p99
    import report
    import timeline

    loaded = report.load(edited(tmp_path, edit))
    bars_fig = p99.draw([p99.extract(loaded)], ["breaker-demo"], [2])
    assert "no request\nsucceeded" in figure_texts(bars_fig)
    timeline_fig = timeline.draw(timeline.extract(loaded))
    texts = figure_texts(timeline_fig)
    assert "breaker: no successful request" in texts
    assert not any("no-breaker:" in t for t in texts)  # it has successes: no note


@pytest.mark.parametrize("kind", ["p99", "timeline"])
def test_plots_of_a_dsim_report_where_nothing_succeeded(dsim_failing_report_path, kind, tmp_path):
    out = tmp_path / f"{kind}.png"
    assert_ok(run_plot(kind, dsim_failing_report_path, "-o", out), out)
    assert_image(out, "png")


# --- bad input -----------------------------------------------------------------------------------


def test_missing_file(tmp_path):
    assert_bad_input(run_plot("p99", tmp_path / "x.report.json"), "x.report.json: no such file")


def test_directory_instead_of_a_file(tmp_path):
    assert_bad_input(run_plot("cdf", tmp_path), "is a directory")


def test_second_report_missing(sample_report_path, tmp_path):
    assert_bad_input(run_plot("p99", sample_report_path, tmp_path / "missing.json", "-o", tmp_path / "o.png"),
                     "missing.json: no such file")
    assert not (tmp_path / "o.png").exists()


@pytest.mark.parametrize("content, fragment", [
    (b"", "not JSON"),
    (b"{", "not JSON (line 1"),
    (b"dsim report", "not JSON"),
    (b"\xff\xfe{}", "not JSON (not UTF-8"),
    (b'{"dsim_version": "0.1.0", "variants": [{"summary": NaN}]}', "NaN is not valid JSON"),
    (b"[1, 2]", "not a dsim report (the top level is a list"),
    (b'{"variants": []}', 'not a dsim report (no "dsim_version")'),
    (b'{"dsim_version": "0.1.0"}', 'not a dsim report (no "variants")'),
    (b'{"dsim_version": "0.1.0", "variants": []}', "no variants"),
    (b'{"dsim_version": "0.1.0", "variants": {}}', "/variants: expected a list of variants, got an object"),
    (b'{"dsim_version": "0.1.0", "variants": [3]}', "/variants/0: expected an object, got 3"),
])
@pytest.mark.parametrize("kind", KINDS)
def test_not_a_report(tmp_path, kind, content, fragment):
    path = tmp_path / "x.report.json"
    path.write_bytes(content)
    assert_bad_input(run_plot(kind, path, "-o", tmp_path / "o.png"), f"{path}: ", fragment)
    assert not (tmp_path / "o.png").exists()


def first_variant(data):
    return data["variants"][0]


def first_run(data):
    return data["variants"][0]["runs"][0]


MISSING_FIELDS = [
    ("p99", lambda d: first_variant(d).pop("summary"), '/variants/0: no "summary" (the p99 plot needs it)'),
    ("p99", lambda d: first_variant(d)["summary"]["latency_ms"].pop("p99"),
     '/variants/0/summary/latency_ms: no "p99"'),
    ("p99", lambda d: first_variant(d)["summary"]["latency_ms"].update(p99="12ms"),
     '/variants/0/summary/latency_ms/p99: expected a number or null, got "12ms"'),
    ("p99", lambda d: first_variant(d)["ci95"]["latency_ms"].update(p99=[3]),
     "/variants/0/ci95/latency_ms/p99: expected [low, high] or null"),
    ("cdf", lambda d: d["variants"][1].pop("histogram_ms"), '/variants/1: no "histogram_ms" (the cdf plot needs it)'),
    ("cdf", lambda d: first_variant(d)["histogram_ms"].__setitem__(3, [1.0, 2.0]),
     "/variants/0/histogram_ms/3: expected a list of 3 numbers"),
    ("cdf", lambda d: first_variant(d)["histogram_ms"].__setitem__(0, [2.0, 1.0, 5]),
     "/variants/0/histogram_ms/0: expected [low, high, count]"),
    ("timeline", lambda d: first_variant(d).pop("runs"), '/variants/0: no "runs" (the timeline plot needs it)'),
    ("timeline", lambda d: first_variant(d).update(runs=[]), "/variants/0/runs: empty"),
    ("timeline", lambda d: first_run(d).pop("windows"), '/variants/0/runs/0: no "windows"'),
    ("timeline", lambda d: first_run(d)["windows"][4].update(start_s="4s"),
     '/variants/0/runs/0/windows/4/start_s: expected a number, got "4s"'),
    ("timeline", lambda d: first_run(d)["windows"][4].update(p99_ms=True),
     "/variants/0/runs/0/windows/4/p99_ms: expected a number or null, got true"),
    ("timeline", lambda d: first_run(d).update(faults=[{"target": "api[0]", "start_s": 1.0}]),
     '/variants/0/runs/0/faults/0: no "kind"'),
    ("timeline", lambda d: d["variants"][1]["runs"][0]["states"][0]["intervals"][0].pop("state"),
     '/variants/1/runs/0/states/0/intervals/0: no "state"'),
    ("timeline", lambda d: [r.update(windows=[], series={k: [] for k in r["series"]})
                            for v in d["variants"] for r in v["runs"]],
     "no run has any windows"),
    ("timeline", lambda d: first_run(d).update(series=[]),
     "/variants/0/runs/0/series: expected an object, got a list"),
    ("timeline", lambda d: first_run(d)["series"]["api.queued"].pop(),
     "/variants/0/runs/0/series/api.queued: expected a list of 60 numbers or nulls (one per window)"),
    ("timeline", lambda d: first_run(d)["series"]["api.busy"].__setitem__(2, "8"),
     '/variants/0/runs/0/series/api.busy/2: expected a number or null, got "8"'),
    ("availability", lambda d: first_variant(d)["summary"].pop("availability"),
     '/variants/0/summary: no "availability" (the availability plot needs it)'),
    ("availability", lambda d: first_variant(d)["summary"].update(availability=99.9),
     "/variants/0/summary/availability: expected a number in [0, 1], got 99.9"),
]


@pytest.mark.parametrize("kind, edit, fragment", MISSING_FIELDS)
def test_report_without_what_the_plot_needs(capsys, tmp_path, kind, edit, fragment):
    data = sample_report.make_report()
    edit(data)
    path = write_report(tmp_path, data)
    assert_bad_input(run_plot_here(capsys, kind, path, "-o", tmp_path / "o.png"), f"{path}: {fragment}")
    assert not (tmp_path / "o.png").exists()


def test_field_error_from_the_script_itself(tmp_path):
    data = sample_report.make_report()
    del data["variants"][1]["histogram_ms"]
    path = write_report(tmp_path, data)
    assert_bad_input(run_plot("cdf", path), f'{path}: /variants/1: no "histogram_ms"')


@pytest.mark.parametrize("output, extra, fragment", [
    ("figure.jpg", [], 'unknown image format ".jpg"'),
    ("figure.png", ["--format", "svg"], "the extension says png but --format says svg"),
    ("no-such-dir/figure.png", [], "cannot write (no directory"),
    ("no-such-dir/", [], "cannot write (no directory"),
])
def test_bad_output(sample_report_path, tmp_path, output, extra, fragment):
    assert_bad_input(run_plot("p99", sample_report_path, "-o", f"{tmp_path}/{output}", *extra), fragment)


def test_empty_output_name(sample_report_path):
    assert_bad_input(run_plot("p99", sample_report_path, "-o", ""), "-o: the file name is empty")


@pytest.mark.parametrize("args", [
    [],
    ["histogram"],
    ["p99"],
    ["timeline", "a.json", "b.json"],
    ["cdf", "a.json", "--format", "gif"],
    ["p99", "a.json", "--scale", "cubic"],
])
def test_bad_arguments_exit_2(args):
    done = run_plot(*args)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("kind", ("",) + KINDS)
def test_help(kind):
    done = run_plot(*([kind] if kind else []), "--help")
    assert done.returncode == 0, done.stderr
    assert "usage: plot.py" in done.stdout and done.stderr == ""


# --- the pieces ------------------------------------------------------------------------------


def test_nines_and_downtime():
    import availability

    assert availability.annotation(0.999) == "99.9 % = 43 min / 30 days"
    assert availability.annotation(0.99) == "99 % = 7.2 h / 30 days"
    assert availability.annotation(0.9999) == "99.99 % = 4.3 min / 30 days"
    assert availability.annotation(0.99999) == "99.999 % = 26 s / 30 days"
    assert availability.annotation(0.9) == "90 % = 3 days / 30 days"
    assert availability.percent(0.98537) == "98.5 %"
    assert availability.percent(1.0) == "100 %"
    assert availability.nines(0.999) == pytest.approx(3)
    assert availability.nines(0.0) == 0
    assert availability.nines(1.0, cap=5.2) == 5.2
    bar = availability.Bar("v", 1.0, None, 200000.0)
    assert bar.cap == pytest.approx(5.30103, abs=1e-5)  # log10(200000): no failure in 200000


def test_ccdf_from_histogram():
    import cdf

    xs, ys, n = cdf.ccdf_points([[2.0, 4.0, 25], [1.0, 2.0, 50], [4.0, 8.0, 0], [8.0, 16.0, 25]])
    assert n == 100
    assert xs == [1.0, 2.0, 4.0]  # sorted; the empty bucket and the last edge (1 - F = 0) dropped
    assert ys == [1.0, 0.5, 0.25]
    assert cdf.ccdf_points([]) == ([], [], 0)
    xs, ys, _ = cdf.ccdf_points([[0.0, 1.0, 1], [1.0, 2.0, 1]])
    assert xs == [1.0] and ys == [0.5]  # 0 ms cannot go on a log axis


def test_timeline_averages_seeds_and_skips_nulls(tmp_path):
    import report
    import timeline

    data = sample_report.make_report()
    runs = data["variants"][0]["runs"]
    runs[0]["windows"][12].update(p99_ms=10.0, throughput_per_s=100.0, failed=4)
    runs[1]["windows"][12].update(p99_ms=None, throughput_per_s=300.0, failed=8)
    for run in runs:
        run["windows"][13].update(p99_ms=None)
    result = timeline.extract(report.load(write_report(tmp_path, data)))
    series = result.series[0]
    assert series.mid_s[12] == 12.5
    assert series.p99[12] == 10.0  # the null of seed 2 is skipped, not counted as 0
    assert series.throughput[12] == 200.0
    assert series.errors[12] == 6.0  # failed per second of a 1 s window
    assert series.p99[13] != series.p99[13]  # NaN: no seed had a value, the line has a gap
    assert result.warmup == [(0.0, 10.0)]
    assert [f.label for f in result.faults] == ["crash api[0]", "degrade lb->api[1]", "pause api[2]"]
    assert result.faults[-1].end_s == 60.0  # end_s null: until the end of the run
    assert [b.variant for b in result.bands] == ["breaker"]
    assert result.bands[0].intervals[-1] == (58.4, 60.0, "open")


def test_timeline_shows_the_state_machines_that_changed_first():
    import timeline

    def band(variant, where, *states):
        return timeline.Band(variant, "fd", where, [(i, i + 1.0, s) for i, s in enumerate(states)])

    bands = [band("a", "api[0]", "trusted"), band("a", "api[1]", "trusted", "suspected"),
             band("a", "api[2]", "trusted", "suspected", "trusted"), band("b", "api[0]", "trusted")]
    chosen = timeline._some_bands(bands * 3)  # 2 variants: 4 rows each; changed ones in order
    assert [(b.variant, b.what) for b in chosen] == [
        ("a", "api[1]"), ("a", "api[2]"), ("a", "api[1]"), ("a", "api[2]"),
        ("b", "api[0]"), ("b", "api[0]"), ("b", "api[0]")]
    assert timeline.STATE_COLOURS["suspected"] == timeline.STATE_COLOURS["open"]


def test_report_stem():
    import report

    assert report.stem("results/retry-storm.report.json") == "retry-storm"
    assert report.stem("x.json") == "x"
    assert report.stem("plain") == "plain"


def test_sample_report_is_json_without_nan():
    text = json.dumps(sample_report.make_report(), allow_nan=False)
    assert json.loads(text)["variants"][0]["name"] == "no-breaker"
