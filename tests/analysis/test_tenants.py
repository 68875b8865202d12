"""Tests of `plot.py tenants`: the per-tenant curves it reads from a report (failed shares sorted
worst first, averaged over the seeds rank by rank, tenants affected and the worst availability),
the figure, its errors, and a report of the real simulator (a cell outage behind a cell router)."""

import json

import matplotlib

matplotlib.use("Agg")
import pytest  # noqa: E402

from conftest import run_dsim, run_plot, run_plot_here, write_report  # noqa: E402
from test_plot import assert_bad_input, assert_image, assert_ok, figure_texts  # noqa: E402


def group(requests, failed):
    return {"requests": requests, "succeeded": requests - failed, "failed": failed,
            "availability": (requests - failed) / requests if requests else None}


def make_report(variants=None, seeds=(1, 2)):
    """Two variants of 10 tenants: "cells" hurts 2 of them badly (seed 1: 100 % and 50 %
    failed; seed 2: 80 % and 60 %), "shared" hurts all 10 a little (10 % failed each; one
    tenant without requests in seed 2)."""
    variants = variants or {
        "cells": [{f"t{i}": group(100, {0: 100, 1: 50}.get(i, 0)) for i in range(10)},
                  {f"t{i}": group(100, {3: 60, 7: 80}.get(i, 0)) for i in range(10)}],
        "shared": [{f"t{i}": group(100, 10) for i in range(10)},
                   {f"t{i}": group(0 if i == 9 else 100, 0 if i == 9 else 10) for i in range(10)}],
    }
    return {
        "dsim_version": "0.1.0",
        "scenario": {"name": "noisy", "description": "", "file": "scenarios/noisy.json"},
        "seeds": list(seeds),
        "variants": [{"name": name, "runs": [{"seed": s, "groups": g} for s, g in zip(seeds, runs)]}
                     for name, runs in variants.items()],
    }


def report_path(tmp_path, edit=None, **make):
    data = make_report(**make)
    if edit is not None:
        edit(data)
    return write_report(tmp_path, data, "noisy")


def curves(path):
    import report
    import tenants

    return {c.variant: c for c in tenants.extract(report.load(path))}


def test_curves_are_sorted_worst_first_and_averaged_rank_by_rank(tmp_path):
    result = curves(report_path(tmp_path))
    cells = result["cells"]
    # Rank by rank: (1.0 + 0.8) / 2, (0.5 + 0.6) / 2, then zeros.
    assert cells.failed == pytest.approx([0.9, 0.55] + [0.0] * 8)
    assert cells.affected == 2
    assert cells.worst_availability == pytest.approx((0.0 + 0.2) / 2)
    assert cells.seeds == 2
    shared = result["shared"]
    # Seed 2: nine tenants at 10 %, one without requests (0 %).
    assert shared.failed == pytest.approx([0.1] * 9 + [0.05])
    assert shared.affected == 9.5
    assert shared.worst_availability == pytest.approx(0.9)


def test_writes_a_png_beside_the_report(tmp_path):
    path = report_path(tmp_path)
    expected = tmp_path / "noisy.tenants.png"
    assert_ok(run_plot("tenants", path), expected)
    assert_image(expected, "png")


@pytest.mark.parametrize("fmt", ["svg", "pdf"])
def test_other_formats(capsys, tmp_path, fmt):
    out = tmp_path / f"figure.{fmt}"
    assert_ok(run_plot_here(capsys, "tenants", report_path(tmp_path), "-o", out), out)
    assert_image(out, fmt)


def test_figure_says_what_it_shows(tmp_path):
    import report
    import tenants

    path = report_path(tmp_path)
    texts = figure_texts(tenants.draw([tenants.extract(report.load(path))], ["noisy"], [2]))
    assert "Tenants hurt per variant: noisy (2 seeds)" in texts
    assert "cells: 2 of 10 tenants affected per seed (20 %), the worst 10 % available" in texts
    assert "shared: 9.5 of 10 tenants affected per seed (95 %), the worst 90 % available" in texts
    assert "tenants, worst first (% of the tenants)" in texts


def test_several_reports_and_no_affected_tenant(capsys, tmp_path):
    first = report_path(tmp_path)
    calm = {"calm": [{f"t{i}": group(50, 0) for i in range(4)}]}
    second = write_report(tmp_path, make_report(variants=calm, seeds=(1,)), "calm")
    out = tmp_path / "both.png"
    assert_ok(run_plot_here(capsys, "tenants", first, second, "-o", out), out)
    assert_image(out, "png")
    import report
    import tenants

    (curve,) = tenants.extract(report.load(second))
    assert curve.failed == [0.0] * 4 and curve.affected == 0
    assert "calm: 0 of 4 tenants affected (0 %)" in figure_texts(tenants.draw([[curve]], ["calm"], [1]))


def test_same_report_gives_the_same_bytes(capsys, tmp_path):
    path = report_path(tmp_path)
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    assert_ok(run_plot_here(capsys, "tenants", path, "-o", a), a)
    assert_ok(run_plot_here(capsys, "tenants", path, "-o", b), b)
    assert a.read_bytes() == b.read_bytes()


BAD = [
    (lambda d: d["variants"][0].pop("runs"), '/variants/0: no "runs" (the tenants plot needs it)'),
    (lambda d: d["variants"][0].update(runs=[]), "/variants/0/runs: no runs"),
    (lambda d: d["variants"][1]["runs"][0].pop("groups"), '/variants/1/runs/0: no "groups"'),
    (lambda d: d["variants"][0]["runs"][0].update(groups={}), "/variants/0/runs/0/groups: no groups"),
    (lambda d: d["variants"][0]["runs"][1]["groups"].pop("t3"),
     "/variants/0/runs/1/groups: other groups than the first seed's"),
    (lambda d: d["variants"][0]["runs"][0]["groups"]["t1"].update(failed="many"),
     '/variants/0/runs/0/groups/t1/failed: expected a number, got "many"'),
    (lambda d: d["variants"][0]["runs"][0]["groups"]["t1"].update(failed=101),
     "/variants/0/runs/0/groups/t1/failed: 101 is above its requests (100)"),
]


@pytest.mark.parametrize("edit, fragment", BAD)
def test_report_without_what_the_plot_needs(capsys, tmp_path, edit, fragment):
    path = report_path(tmp_path, edit)
    assert_bad_input(run_plot_here(capsys, "tenants", path, "-o", tmp_path / "o.png"), f"{path}: {fragment}")
    assert not (tmp_path / "o.png").exists()


# --- a report of the real simulator -------------------------------------------------------------

CELL_OUTAGE = {
    "name": "cell-outage",
    "description": "One cell of four down: a quarter of the tenants fail, the others never notice.",
    "duration": "2s", "warmup": "500ms", "seeds": 2,
    "components": {
        "api": {"model": "server", "count": 8, "workers": 4,
                "service_time": {"dist": "exponential", "mean": "1ms"}},
        "router": {"model": "cell_router", "target": "api", "cells": 4, "timeout": "50ms"},
        "clients": {"model": "open_loop_client", "count": 40, "rate": "20/s", "target": "router",
                    "timeout": "100ms", "tenant_per_node": True},
    },
    "faults": [{"action": "crash", "target": ["api[2]", "api[3]"], "at": "1s"}],
    "variants": {"healthy": {"faults": []}},
}


def test_a_cell_outage_of_the_real_simulator(tmp_path):
    """dsim's groups and tenant summary read as the plot expects: the tenants of the dead cell
    (cell 1) are the affected ones, the same in the plot's curve as in the report's summary, and
    the figure is drawn."""
    scenario = tmp_path / "cell-outage.json"
    scenario.write_text(json.dumps(CELL_OUTAGE))
    path = run_dsim(scenario, tmp_path / "out")
    data = json.loads(path.read_text())
    outage, healthy = data["variants"]
    assert outage["name"] == "base" and healthy["name"] == "healthy"
    result = curves(path)
    summary = outage["tenants"]["summary"]
    assert summary["tenants"] == 40
    assert result["base"].affected == summary["tenants_affected"]
    assert 0 < result["base"].affected < 40
    assert result["base"].worst_availability == pytest.approx(summary["worst_availability"])
    # The dead cell's tenants fail what they start from 1 s on; what they start after 1.9 s has
    # not timed out by the end (2 s) and is not counted: 0.9 s of the 1.4 s counted fail.
    hurt = result["base"].failed[:round(result["base"].affected)]
    assert sum(hurt) / len(hurt) == pytest.approx(0.9 / 1.4, abs=0.05)
    assert all(f > 0.3 for f in hurt)
    # Cell 1's tenants, by the router's own count, are the affected ones.
    figures = outage["figures"]
    assert figures["router.cell_tenants[1]"] == summary["tenants_affected"]
    assert result["healthy"].affected == 0 and healthy["tenants"]["summary"]["tenants_affected"] == 0
    expected = tmp_path / "tenants.png"
    assert_ok(run_plot("tenants", path, "-o", expected), expected)
    assert_image(expected, "png")
