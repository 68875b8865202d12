"""Tests of `plot.py detectors`: the points it reads from a report (detection time and false
suspicions per hour with their intervals, per variant and detector), the figure, and its errors
(no failure detector, --component, missing figures). None needs the dsim binary."""

import matplotlib

matplotlib.use("Agg")
import pytest  # noqa: E402

import sample_report  # noqa: E402
from conftest import run_plot, run_plot_here, write_report  # noqa: E402
from test_plot import assert_bad_input, assert_image, assert_ok, figure_texts  # noqa: E402


def detecting(tmp_path, edit=None, name="fd-tradeoff", **make):
    data = sample_report.make_detector_report(name, **make)
    if edit is not None:
        edit(data)
    return write_report(tmp_path, data, name)


def table(path, component=None):
    import detectors
    import report

    return detectors.extract(report.load(path), component)


def flat_texts(fig):
    return [" ".join(t.split()) for t in figure_texts(fig)]


def point(result, variant, detector="fd"):
    (found,) = [p for p in result.points if p.variant == variant and p.detector == detector]
    return found


# --- the figure ---------------------------------------------------------------------------------


def test_writes_a_png_beside_the_report(tmp_path):
    path = detecting(tmp_path)
    expected = tmp_path / "fd-tradeoff.detectors.png"
    assert_ok(run_plot("detectors", path), expected)
    assert_image(expected, "png")


@pytest.mark.parametrize("fmt", ["svg", "pdf"])
def test_other_formats(capsys, tmp_path, fmt):
    out = tmp_path / f"figure.{fmt}"
    assert_ok(run_plot_here(capsys, "detectors", detecting(tmp_path), "-o", out), out)
    assert_image(out, fmt)


def test_figure_says_what_it_shows(tmp_path):
    import detectors

    fig = detectors.draw([table(detecting(tmp_path))], ["fd-tradeoff"], [2])
    ax = fig.get_axes()[0]
    assert ax.get_xscale() == "symlog"  # 0 to 1099 per hour
    assert ax.get_yscale() == "log"  # 151 to 2927 ms
    texts = flat_texts(fig)
    assert "Failure detection: detection time against false suspicions: fd-tradeoff (2 seeds)" in texts
    for variant in sample_report.DETECTOR_VARIANTS:
        assert variant in texts  # each point is named
    assert any("error bars: 95 % CI across seeds" in t and "up to the longest detection" in t for t in texts)


def test_several_reports_and_detectors(capsys, tmp_path):
    import detectors

    first = detecting(tmp_path, detectors=("fd", "gossip"))
    second = write_report(tmp_path, sample_report.make_detector_report("other", variants=("phi-8",)), "other")
    result = table(first)
    assert [(p.variant, p.detector) for p in result.points] == [
        (v, d) for v in sample_report.DETECTOR_VARIANTS for d in ("fd", "gossip")]
    texts = flat_texts(detectors.draw([result, table(second)], ["fd-tradeoff", "other"], [2, 2]))
    assert "fd-tradeoff / phi-1 (gossip)" in texts
    assert "other / phi-8 (fd)" in texts
    assert any("circles: fd-tradeoff, squares: other" in t for t in texts)
    out = tmp_path / "both.png"
    assert_ok(run_plot_here(capsys, "detectors", first, second, "-o", out), out)
    assert_image(out, "png")


def test_same_report_gives_the_same_bytes(capsys, tmp_path):
    path = detecting(tmp_path)
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    assert_ok(run_plot_here(capsys, "detectors", path, "-o", a), a)
    assert_ok(run_plot_here(capsys, "detectors", path, "-o", b), b)
    assert a.read_bytes() == b.read_bytes()


# --- the points ---------------------------------------------------------------------------------


def test_points(tmp_path):
    result = table(detecting(tmp_path))
    assert [p.variant for p in result.points] == list(sample_report.DETECTOR_VARIANTS)
    assert result.absent == []
    short = point(result, "timeout-500ms")
    assert (short.detection_ms, short.max_detection_ms, short.false_per_hour) == (369.2, 427.3, 70.0)
    assert short.detection_ci == pytest.approx((369.2 * 0.8, 369.2 * 1.2))
    assert short.false_ci == pytest.approx((56.0, 84.0))
    assert (short.crashes, short.detections) == (3.0, 3.0)
    long = point(result, "timeout-3s")
    assert long.false_per_hour == 0.0 and long.false_ci == (0.0, 5.0)


def test_one_seed_has_no_intervals(tmp_path):
    result = table(detecting(tmp_path, seeds=(1,)))
    assert all(p.detection_ci is None and p.false_ci is None for p in result.points)


def test_a_variant_that_detected_nothing_is_named_not_drawn(tmp_path):
    import detectors

    def edit(data):
        figures = data["variants"][1]["figures"]
        figures["fd.mean_detection_ms"] = figures["fd.max_detection_ms"] = None
        data["variants"][1]["figures_ci95"]["fd.mean_detection_ms"] = None

    result = table(detecting(tmp_path, edit))
    assert point(result, "timeout-3s").detection_ms is None
    texts = flat_texts(detectors.draw([result], ["fd-tradeoff"], [2]))
    assert any("no crash detected (or no value), not shown: timeout-3s" in t for t in texts)
    assert "timeout-3s" not in texts


def test_a_variant_without_the_detector(tmp_path):
    import detectors

    def edit(data):
        del data["variants"][0]["scenario"]["components"]["fd"]

    result = table(detecting(tmp_path, edit))
    assert [p.variant for p in result.points] == list(sample_report.DETECTOR_VARIANTS)[1:]
    assert result.absent == [("timeout-500ms", "fd")]
    texts = flat_texts(detectors.draw([result], ["fd-tradeoff"], [2]))
    assert any("without the failure detector, not shown: timeout-500ms" in t for t in texts)


def test_close_values_keep_linear_axes(tmp_path):
    import detectors

    result = table(detecting(tmp_path, variants=("timeout-500ms", "phi-8")))
    ax = detectors.draw([result], ["fd-tradeoff"], [2]).get_axes()[0]
    assert (ax.get_xscale(), ax.get_yscale()) == ("linear", "linear")


# --- errors -----------------------------------------------------------------------------------


def test_a_report_without_a_failure_detector(sample_report_path):
    done = run_plot("detectors", sample_report_path)
    assert_bad_input(done, f"plot.py: {sample_report_path}: no failure detector component",
                     "the detectors plot needs a failure detector component: one whose model is")


@pytest.mark.parametrize("name, fragment", [
    ("nope", '--component: no failure detector "nope" (the failure detectors: fd, gossip)'),
    ("api", '--component: "api" is a server, not a failure detector (the failure detectors: fd, gossip)'),
])
def test_component_that_is_not_a_failure_detector(capsys, tmp_path, name, fragment):
    path = detecting(tmp_path, detectors=("fd", "gossip"))
    done = run_plot_here(capsys, "detectors", path, "--component", name, "-o", tmp_path / "o.png")
    assert_bad_input(done, f"{path}: {fragment}")
    assert not (tmp_path / "o.png").exists()


def test_component_picks_one_detector(capsys, tmp_path):
    path = detecting(tmp_path, detectors=("fd", "gossip"))
    assert {p.detector for p in table(path, "gossip").points} == {"gossip"}
    out = tmp_path / "o.png"
    assert_ok(run_plot_here(capsys, "detectors", path, "--component", "gossip", "-o", out), out)


def test_help():
    done = run_plot("detectors", "--help")
    assert done.returncode == 0 and "--component NAME" in done.stdout and "failure_detector" in done.stdout


def figures_of(data, index=0):
    return data["variants"][index]["figures"]


BAD = [
    (lambda d: figures_of(d).pop("fd.mean_detection_ms"),
     '/variants/0/figures: no "fd.mean_detection_ms" (the detectors plot needs it)'),
    (lambda d: figures_of(d).pop("fd.false_suspicions_per_hour"),
     '/variants/0/figures: no "fd.false_suspicions_per_hour" (the detectors plot needs it)'),
    (lambda d: figures_of(d).update({"fd.false_suspicions_per_hour": "often"}),
     '/variants/0/figures/fd.false_suspicions_per_hour: expected a number or null, got "often"'),
    (lambda d: figures_of(d).update({"fd.mean_detection_ms": -1}),
     "/variants/0/figures/fd.mean_detection_ms: expected a number >= 0, got -1"),
    (lambda d: d["variants"][0]["figures_ci95"].update({"fd.mean_detection_ms": [3]}),
     "/variants/0/figures_ci95/fd.mean_detection_ms: expected [low, high] or null"),
    (lambda d: d["variants"][0].pop("figures"), '/variants/0: no "figures" (the detectors plot needs it)'),
]


@pytest.mark.parametrize("edit, fragment", BAD)
def test_report_without_what_the_plot_needs(capsys, tmp_path, edit, fragment):
    path = detecting(tmp_path, edit)
    assert_bad_input(run_plot_here(capsys, "detectors", path, "-o", tmp_path / "o.png"), f"{path}: {fragment}")
    assert not (tmp_path / "o.png").exists()
