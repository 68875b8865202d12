"""Tests of `plot.py budget`: an SLO's error budget over time with its alerts and the faults,
drawn from a real run of scenarios/slo-burn-rate.json (needs DSIM_BINARY), and its error on a
report without SLOs."""

import json

import matplotlib

matplotlib.use("Agg")
import pytest  # noqa: E402

from conftest import REPO, run_dsim, run_plot_here  # noqa: E402
from test_plot import assert_bad_input, assert_image, assert_ok  # noqa: E402

SCENARIO = REPO / "scenarios" / "slo-burn-rate.json"


@pytest.fixture(scope="module")
def slo_report_path(tmp_path_factory):
    return run_dsim(SCENARIO, tmp_path_factory.mktemp("slo"), "--seeds", "1")


def test_reads_the_budget_and_the_firings_of_a_real_run(slo_report_path):
    import budget
    import report

    data = json.loads(slo_report_path.read_text())
    result = budget.extract(report.load(slo_report_path))
    (panel,) = result.panels
    assert panel.slo == "availability" and panel.objective == 0.999
    assert [c.variant for c in panel.curves] == [v["name"] for v in data["variants"]]
    for curve, variant in zip(panel.curves, data["variants"]):
        consumed = variant["slos"][0]["budget_consumed_windows"]
        assert curve.remaining == pytest.approx([100 * (1 - c) for c in consumed])
        assert curve.times == [w["end_s"] for w in variant["runs"][0]["windows"]]
        # The budget only shrinks; the incidents spend some of it.
        assert all(a >= b for a, b in zip(curve.remaining, curve.remaining[1:]))
        assert curve.remaining[-1] < 100
    rows = [(r.variant, r.rule, len(r.firings)) for r in panel.rows]
    expected = [(v["name"], rule["name"], len(rule["firings"]))
                for v in data["variants"] for rule in v["runs"][0]["slos"][0]["rules"]]
    assert rows == expected
    assert any(n > 0 for _, _, n in rows)  # some rule fired
    # A fault on the four replicas of "api" is one span, named after the component.
    assert [label for label, _, _ in result.faults] == ["crash api", "degrade api", "crash api[0]"]


def test_draws_it(capsys, slo_report_path, tmp_path):
    out = tmp_path / "budget.png"
    assert_ok(run_plot_here(capsys, "budget", slo_report_path, "-o", out), out)
    assert_image(out, "png")


def test_a_report_without_slos(capsys, sample_report_path, tmp_path):
    done = run_plot_here(capsys, "budget", sample_report_path, "-o", tmp_path / "o.png")
    assert_bad_input(done, f"{sample_report_path}: no SLO (the budget plot needs a scenario with \"slos\"")
    assert not (tmp_path / "o.png").exists()
