"""Fixtures of the analysis tests: reports to plot, and a runner for analysis/plot.py.

Two sources of reports: `sample_report` builds one in Python (sample_report.py, always there),
`dsim_report` runs the real simulator when DSIM_BINARY names it (skipped only when unset).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import sample_report

REPO = Path(__file__).resolve().parents[2]
ANALYSIS = REPO / "analysis"
PLOT = ANALYSIS / "plot.py"
DSIM_SCENARIO = REPO / "scenarios" / "mm1.json"

sys.path.insert(0, str(ANALYSIS))  # the unit tests import the plot modules


def run_plot(*args, cwd=None):
    """Runs plot.py with this interpreter (the one with matplotlib); returns CompletedProcess."""
    return subprocess.run([sys.executable, str(PLOT), *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=120)


class Done:
    """What a plot.py run left: returncode, stdout, stderr (like subprocess.CompletedProcess)."""

    def __init__(self, returncode, stdout, stderr):
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


def run_plot_here(capsys, *args):
    """Runs plot.py's main() in this process: the same as run_plot without starting Python and
    importing matplotlib again (most tests need only that; a few keep the real subprocess)."""
    import plot

    capsys.readouterr()
    try:
        code = plot.main([str(a) for a in args])
    except SystemExit as exit:  # argparse
        code = exit.code
    out, err = capsys.readouterr()
    return Done(code, out, err)


def write_report(directory, data, name="breaker-demo"):
    path = Path(directory) / f"{name}.report.json"
    path.write_text(json.dumps(data, indent=1))
    return path


@pytest.fixture
def sample_report_path(tmp_path):
    """A report in the documented format: 2 variants x 2 seeds, windows with nulls, three faults
    (one open-ended), a circuit-breaker state timeline and latency histograms."""
    return write_report(tmp_path, sample_report.make_report())


def dsim_binary():
    """$DSIM_BINARY, checked; skips the test when it is not set."""
    binary = os.environ.get("DSIM_BINARY")
    if not binary:
        pytest.skip("DSIM_BINARY is not set: no report from the real simulator")
    if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
        pytest.fail(f"DSIM_BINARY={binary} is not an executable file")
    return binary


def run_dsim(scenario, out, *args):
    """Runs `$DSIM_BINARY run SCENARIO --out OUT --quiet ARGS` and returns the one report it wrote."""
    command = [dsim_binary(), "run", str(scenario), "--out", str(out), "--quiet", *map(str, args)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=REPO, timeout=600)
    if done.returncode != 0:
        pytest.fail(f"{' '.join(command)} exited with {done.returncode}: {done.stderr.strip()[-2000:]}")
    written = sorted(Path(out).glob("*.report.json"))
    if len(written) != 1:
        pytest.fail(f"{' '.join(command)} wrote {len(written)} *.report.json files in {out}, expected 1: "
                    f"{sorted(p.name for p in Path(out).iterdir())}")
    return written[0]


@pytest.fixture(scope="session")
def dsim_report_path(tmp_path_factory):
    """A report written by the real dsim: `$DSIM_BINARY run scenarios/mm1.json --seeds 2`."""
    dsim_binary()
    if not DSIM_SCENARIO.is_file():
        pytest.fail(f"DSIM_BINARY is set but the scenario {DSIM_SCENARIO} does not exist")
    return run_dsim(DSIM_SCENARIO, tmp_path_factory.mktemp("dsim"), "--seeds", "2")


# A server that answers every request with an error in the variant "all-errors": nothing succeeds.
FAILING_SCENARIO = """{
  "name": "failing", "description": "one variant where no request succeeds",
  "duration": "3s", "warmup": "1s",
  "components": {
    "api": {"model": "server", "service_time": {"dist": "exponential", "mean": "1ms"}},
    "client": {"model": "open_loop_client", "rate": "200/s", "target": "api"}
  },
  "variants": {"all-errors": {"components": {"api": {"error_rate": 1}}}}
}"""


@pytest.fixture(scope="session")
def dsim_failing_report_path(tmp_path_factory):
    """A report of the real dsim in which the variant "all-errors" has no successful request
    (its summary's latency_ms is null)."""
    directory = tmp_path_factory.mktemp("dsim-failing")
    scenario = directory / "failing.json"
    scenario.write_text(FAILING_SCENARIO)
    return run_dsim(scenario, directory / "out", "--seeds", "2")


@pytest.fixture(params=["sample", "dsim"])
def any_report_path(request):
    """Each plot test runs on the Python-built report and on one from the real dsim."""
    if request.param == "sample":
        return request.getfixturevalue("sample_report_path")
    return request.getfixturevalue("dsim_report_path")
