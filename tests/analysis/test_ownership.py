"""Tests of `plot.py ownership`: the overlaps (two owners at once) and the time without an owner
that it computes from state timelines, exactly, on hand-made intervals; rows in node order; the
seed it plots; Raft-like leader states; the figure; and its errors. Only the last test needs the
dsim binary: there, the plot's overlap must equal the lease_owner model's own figure."""

import json

import matplotlib

matplotlib.use("Agg")
import pytest  # noqa: E402

import sample_report  # noqa: E402
from conftest import run_plot, run_plot_here, write_report  # noqa: E402
from test_plot import assert_bad_input, assert_image, assert_ok, figure_texts  # noqa: E402

END_S = sample_report.OWNERSHIP_DURATION_S
WARMUP_S = sample_report.OWNERSHIP_WARMUP_S


def owned(tmp_path, edit=None, name="lease-demo", **make):
    data = sample_report.make_ownership_report(name, **make)
    if edit is not None:
        edit(data)
    return write_report(tmp_path, data, name)


def extract(path, seed=None):
    import ownership
    import report

    return ownership.extract(report.load(path), seed)


def panel(result, variant):
    (found,) = [p for p in result.panels if p.variant == variant]
    return found


def by_hand(tmp_path, nodes, end_s=END_S, warmup_s=WARMUP_S, state_names=("owner", "seeking")):
    """A report of one variant and one seed whose owners' timelines are given by hand: nodes maps
    a node name to its intervals (start_s, end_s or None, state); returns its one Panel."""

    def edit(data):
        variant = data["variants"][0]
        variant["warmup_s"] = warmup_s
        run = variant["runs"][0]
        run["simulated_s"] = end_s
        run["states"] = [{"component": "owners", "node": node, "name": "ownership",
                          "intervals": [{"start_s": s, "end_s": e, "state": state} for s, e, state in intervals]}
                         for node, intervals in nodes.items()]

    (only,) = extract(owned(tmp_path, edit, variants=("pause",), seeds=(1,))).panels
    return only


def approx(intervals):
    return [pytest.approx(i) for i in intervals]


# --- overlaps and unowned time, by hand -----------------------------------------------------------


def test_two_nodes_overlapping(tmp_path):
    p = by_hand(tmp_path, {
        "owners[0]": [(0.0, 12.0, "owner"), (12.0, 40.0, "seeking")],
        "owners[1]": [(0.0, 10.0, "seeking"), (10.0, 30.0, "owner"), (30.0, 40.0, "seeking")],
    })
    assert p.overlaps == [(10.0, 12.0)]
    assert p.overlap_s == 2.0 and p.run_overlap_s == 2.0
    assert p.max_owners == 2
    assert p.unowned == [(30.0, 40.0)]
    assert p.unowned_s == 10.0


def test_three_nodes_overlapping(tmp_path):
    """One overlap from when the second begins to when only one is left, however many at once."""
    p = by_hand(tmp_path, {
        "owners[0]": [(0.0, 6.0, "seeking"), (6.0, 16.0, "owner"), (16.0, 40.0, "seeking")],
        "owners[1]": [(0.0, 10.0, "seeking"), (10.0, 20.0, "owner"), (20.0, 40.0, "seeking")],
        "owners[2]": [(0.0, 12.0, "seeking"), (12.0, 14.0, "owner"), (14.0, 40.0, "seeking")],
    })
    assert p.overlaps == [(10.0, 16.0)]
    assert p.overlap_s == 6.0
    assert p.max_owners == 3
    assert p.unowned == [(0.0, 6.0), (20.0, 40.0)]
    assert p.unowned_s == 1.0 + 20.0  # 5 to 6 and 20 to 40: the warm-up ends at 5 s
    assert p.run_unowned_s == 26.0


def test_touching_intervals_are_not_an_overlap(tmp_path):
    """One steps down at the instant the next takes over: no overlap, and no time without an owner."""
    p = by_hand(tmp_path, {
        "owners[0]": [(0.0, 15.5, "owner"), (15.5, 40.0, "seeking")],
        "owners[1]": [(0.0, 15.5, "seeking"), (15.5, 27.25, "owner"), (27.25, 40.0, "seeking")],
        "owners[2]": [(0.0, 27.25, "seeking"), (27.25, 40.0, "owner")],
    })
    assert p.overlaps == [] and p.overlap_s == 0.0
    assert p.max_owners == 1
    assert p.unowned == [] and p.unowned_s == 0.0


def test_an_interval_open_to_the_end_of_the_run(tmp_path):
    """end_s null: the state lasts until the run's end (its simulated_s)."""
    p = by_hand(tmp_path, {
        "owners[0]": [(0.0, 2.0, "seeking"), (2.0, 33.0, "owner"), (33.0, None, "seeking")],
        "owners[1]": [(0.0, 31.5, "seeking"), (31.5, None, "owner")],
    }, end_s=36.0)
    assert p.end_s == 36.0
    assert p.rows[1].owning == [(31.5, 36.0)]
    assert p.overlaps == [(31.5, 33.0)]
    assert p.unowned == [(0.0, 2.0)]
    assert p.unowned_s == 0.0  # before the end of the warm-up
    assert p.run_unowned_s == 2.0


def test_the_same_owner_twice_in_a_row_is_one_ownership(tmp_path):
    """Two consecutive "owner" intervals of one node (a renewal, say) are one: not two owners."""
    p = by_hand(tmp_path, {"owners[0]": [(0.0, 10.0, "owner"), (10.0, 20.0, "owner"), (20.0, 40.0, "seeking")]})
    assert p.rows[0].owning == [(0.0, 20.0)]
    assert p.overlaps == [] and p.unowned == [(20.0, 40.0)]


def test_the_measured_interval_cuts_an_overlap(tmp_path):
    """An overlap across the end of the warm-up counts only after it (as the model's ghost state)."""
    p = by_hand(tmp_path, {
        "owners[0]": [(0.0, 7.0, "owner"), (7.0, 40.0, "seeking")],
        "owners[1]": [(0.0, 3.0, "seeking"), (3.0, 40.0, "owner")],
    })
    assert p.overlaps == [(3.0, 7.0)]
    assert p.overlap_s == 2.0 and p.run_overlap_s == 4.0
    assert p.unowned == []


def test_without_warmup_the_totals_are_the_whole_run(tmp_path):
    p = by_hand(tmp_path, {"owners[0]": [(0.0, 1.0, "seeking"), (1.0, 40.0, "owner")]}, warmup_s=0.0)
    assert p.unowned_s == p.run_unowned_s == 1.0


def test_sweep():
    import ownership

    assert ownership.sweep([[(0, 5)], [(5, 10)]], 10) == ([], [], 1)
    assert ownership.sweep([[(1, 4)], [(2, 3)]], 10) == ([(2, 3)], [(0, 1), (4, 10)], 2)
    assert ownership.sweep([[(0, 4)], [(2, 6)], [(4, 8)]], 8) == ([(2, 6)], [], 2)  # 2 to 4, 4 to 6
    assert ownership.sweep([[(0, 4)], [(0, 4)], [(0, 4)]], 4) == ([(0, 4)], [], 3)
    assert ownership.sweep([], 3) == ([], [(0.0, 3)], 0)
    assert ownership.sweep([[(2, 12)]], 10) == ([], [(0.0, 2)], 1)  # past the end: cut
    assert ownership.merge([(5, 6), (1, 2), (2, 3), (4, 4)]) == [(1, 3), (5, 6)]
    assert ownership.total([(0, 4), (6, 10)], 3, 8) == 3


def test_which_timelines_are_ownership_timelines():
    import ownership

    assert ownership.OWNING_STATES == {"owner", "leader"}
    assert ownership.is_ownership(["seeking", "owner"])
    assert ownership.is_ownership(["seeking"])  # a node that never won
    assert ownership.is_ownership(["follower", "candidate"])
    assert ownership.is_ownership(["owner", "fenced"])  # an owning state, whatever the others
    assert not ownership.is_ownership(["closed", "open", "half_open"])
    assert not ownership.is_ownership(["trusted", "suspected"])
    assert not ownership.is_ownership([])


# --- the synthetic scenario ------------------------------------------------------------------------


def test_pause_and_margin(tmp_path):
    result = extract(owned(tmp_path))
    assert (result.name, result.seed, result.seeds, result.absent) == ("lease-demo", 1, [1, 2], [])
    assert [p.variant for p in result.panels] == ["pause", "drift-margin"]
    pause = panel(result, "pause")
    assert (pause.component, pause.timeline) == ("owners", "ownership")
    assert [r.node for r in pause.rows] == ["owners[0]", "owners[1]", "owners[2]"]
    assert pause.overlaps == approx([(24.2, 28.0)])
    assert pause.overlap_s == pytest.approx(3.8)
    assert pause.unowned == approx([(0.0, 0.005), (31.0, 32.5)])
    assert pause.unowned_s == pytest.approx(1.5)
    assert pause.run_unowned_s == pytest.approx(1.505)
    assert pause.measured_from_s == WARMUP_S and pause.end_s == END_S
    assert [(f.label, f.start_s, f.end_s) for f in pause.faults] == [("pause owners[0]", 20.0, 28.0)]
    margin = panel(result, "drift-margin")
    assert margin.overlaps == [] and margin.overlap_s == 0
    assert margin.unowned_s == pytest.approx(0.3)
    assert margin.rows[2].owning == []  # owners[2] never owns: still a row
    assert margin.faults[0].end_s == END_S  # the clock drift lasts to the end


def test_the_builder_agrees_with_the_plot(tmp_path):
    """sample_report's figures (brute force over the periods, means over the seeds) against the
    plot's sweep, seed by seed."""
    path = owned(tmp_path)
    seeds = [extract(path, seed) for seed in (1, 2)]
    for index, variant in enumerate(json.loads(path.read_text())["variants"]):
        panels = [panel(result, variant["name"]) for result in seeds]
        for figure in ("overlap_s", "unowned_s"):
            mean = sum(getattr(p, figure) for p in panels) / len(panels)
            assert mean == pytest.approx(variant["figures"][f"owners.{figure}"]), (index, figure)


def test_nodes_are_in_numeric_order_not_text_order(tmp_path):
    def edit(data):  # owners[10] owns from 35 s: a second owner beside owners[2]
        states = data["variants"][0]["runs"][0]["states"]
        (ten,) = [s for s in states if s["node"] == "owners[10]"]
        ten["intervals"] = [{"start_s": 0.0, "end_s": 35.0, "state": "seeking"},
                            {"start_s": 35.0, "end_s": 40.0, "state": "owner"}]

    path = owned(tmp_path, edit, nodes=12)
    nodes = [s["node"] for s in json.loads(path.read_text())["variants"][0]["runs"][0]["states"]]
    assert nodes.index("owners[10]") < nodes.index("owners[2]")  # as listed: sorted as text
    pause = panel(extract(path), "pause")
    assert [r.node for r in pause.rows] == [f"owners[{i}]" for i in range(12)]
    assert pause.rows[10].owning == [(35.0, 40.0)]
    assert pause.overlaps == approx([(24.2, 28.0), (35.0, 40.0)])


def test_seed_picks_the_runs(tmp_path):
    path = owned(tmp_path)
    assert panel(extract(path), "pause").overlap_s == pytest.approx(3.8)  # the first seed
    second = extract(path, 2)
    assert second.seed == 2
    assert panel(second, "pause").overlaps == approx([(24.1, 28.0)])
    assert panel(second, "pause").overlap_s == pytest.approx(3.9)


def test_seed_option(capsys, tmp_path):
    import ownership

    path = owned(tmp_path)
    out = tmp_path / "seed2.png"
    assert_ok(run_plot_here(capsys, "ownership", path, "--seed", "2", "-o", out), out)
    assert_image(out, "png")
    texts = figure_texts(ownership.draw(extract(path, 2)))
    assert "Who believes it is owner: lease-demo (seed 2)" in texts
    assert "pause: 3.9 s with two owners, 1.5 s with none" in texts


def test_an_unknown_seed(capsys, tmp_path):
    path = owned(tmp_path, seeds=(1, 2, 3))
    done = run_plot_here(capsys, "ownership", path, "--seed", "7", "-o", tmp_path / "o.png")
    assert_bad_input(done, f"{path}: --seed: no run of seed 7 (the seeds: 1, 2, 3)")
    assert not (tmp_path / "o.png").exists()


def test_a_variant_without_a_run_of_the_seed(capsys, tmp_path):
    path = owned(tmp_path, lambda d: d["variants"][1]["runs"].pop(1))
    done = run_plot_here(capsys, "ownership", path, "--seed", "2", "-o", tmp_path / "o.png")
    assert_bad_input(done, f"{path}: /variants/1/runs: no run of seed 2 (its seeds: 1)")


def test_leader_states_are_recognized(tmp_path):
    result = extract(owned(tmp_path, leader=True))
    pause = panel(result, "pause")
    assert (pause.component, pause.timeline) == ("raft", "role")
    assert [r.node for r in pause.rows] == ["raft[0]", "raft[1]", "raft[2]"]
    assert pause.overlaps == approx([(24.2, 28.0)])
    assert pause.overlap_s == pytest.approx(3.8)
    assert pause.unowned_s == pytest.approx(1.5)  # a candidate does not own
    assert pause.rows[1].candidate == approx([(24.05, 24.2)])
    assert set(pause.states) == {"leader", "follower", "candidate"}


def test_a_candidate_is_drawn_lighter(tmp_path):
    import ownership

    texts = figure_texts(ownership.draw(extract(owned(tmp_path, leader=True))))
    assert "candidate" in texts and "believes it is leader" in texts and "two owners" in texts


def test_other_timelines_are_left_out(tmp_path):
    """A circuit breaker's timeline beside the owners' is not a row."""

    def edit(data):
        for variant in data["variants"]:
            for run in variant["runs"]:
                run["states"].append({"component": "client", "node": "client[0]", "name": "circuit_breaker",
                                      "intervals": [{"start_s": 0.0, "end_s": 40.0, "state": "closed"}]})

    result = extract(owned(tmp_path, edit))
    assert [len(p.rows) for p in result.panels] == [3, 3]


def test_two_ownership_components_are_separate_panels(tmp_path):
    """Two groups, two resources: a node of each owning at once is no overlap."""

    def edit(data):
        run = data["variants"][0]["runs"][0]
        run["states"].append({"component": "keeper", "node": "keeper[0]", "name": "ownership",
                              "intervals": [{"start_s": 0.0, "end_s": 40.0, "state": "owner"}]})

    result = extract(owned(tmp_path, edit, variants=("pause",), seeds=(1,)))
    assert [(p.component, len(p.rows)) for p in result.panels] == [("owners", 3), ("keeper", 1)]
    assert result.panels[1].overlaps == [] and result.panels[0].overlap_s == pytest.approx(3.8)


def test_a_variant_without_ownership_timelines(tmp_path):
    import ownership

    def edit(data):
        for run in data["variants"][1]["runs"]:
            run["states"] = []

    result = extract(owned(tmp_path, edit))
    assert [p.variant for p in result.panels] == ["pause"]
    assert result.absent == ["drift-margin"]
    texts = [" ".join(t.split()) for t in figure_texts(ownership.draw(result))]
    assert any("without ownership timelines in seed 1, not shown: drift-margin" in t for t in texts)


# --- the figure ---------------------------------------------------------------------------------


def test_writes_a_png_beside_the_report(tmp_path):
    path = owned(tmp_path)
    expected = tmp_path / "lease-demo.ownership.png"
    assert_ok(run_plot("ownership", path), expected)
    assert_image(expected, "png")


@pytest.mark.parametrize("fmt", ["svg", "pdf"])
def test_other_formats(capsys, tmp_path, fmt):
    out = tmp_path / f"figure.{fmt}"
    assert_ok(run_plot_here(capsys, "ownership", owned(tmp_path), "-o", out), out)
    assert_image(out, fmt)


def test_output_in_a_directory(capsys, tmp_path):
    directory = tmp_path / "figures"
    directory.mkdir()
    expected = directory / "lease-demo.ownership.png"
    assert_ok(run_plot_here(capsys, "ownership", owned(tmp_path), "-o", f"{directory}/"), expected)


def test_figure_says_what_it_shows(tmp_path):
    import ownership

    texts = [t.strip() for t in figure_texts(ownership.draw(extract(owned(tmp_path))))]
    assert "Who believes it is owner: lease-demo (seed 1)" in texts
    assert "pause: 3.8 s with two owners, 1.5 s with none" in texts
    assert "drift-margin: 0 s with two owners, 300 ms with none" in texts
    for label in ("two owners", "no owner", "believes it is owner", "warm-up (not in the totals)",
                  "pause owners[0]", "owners[0]", "owners[2]"):
        assert label in texts, label
    assert any(t.startswith("totals after the warm-up (5 s)") for t in texts)


def test_three_at_once_in_the_title(tmp_path):
    import ownership

    # Two owners from 2 s to 30 s, 25 s of it after the warm-up; none from 30 s to the end.
    p = by_hand(tmp_path, {f"owners[{i}]": [(1.0 + i, 30.0, "owner")] for i in range(3)})

    assert ownership.panel_title(p) == "pause: 25 s with two owners, 10 s with none (up to 3 at once)"


@pytest.mark.parametrize("value, text", [(0, "0 s"), (3.8, "3.8 s"), (0.3, "300 ms"), (0.0004, "0.4 ms"),
                                         (12.4, "12.4 s"), (1.5, "1.5 s"),
                                         (3.970050295, "3.97 s"), (123.4, "123 s")])
def test_seconds(value, text):
    import ownership

    assert ownership._seconds(value) == text


def test_same_report_gives_the_same_bytes(capsys, tmp_path):
    path = owned(tmp_path)
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    assert_ok(run_plot_here(capsys, "ownership", path, "-o", a), a)
    assert_ok(run_plot_here(capsys, "ownership", path, "-o", b), b)
    assert a.read_bytes() == b.read_bytes()


@pytest.mark.parametrize("make", [{"seeds": (1,)}, {"nodes": 1, "variants": ("pause",)}, {"nodes": 20},
                                  {"variants": tuple(f"v{i}" for i in range(7))}, {"leader": True}])
def test_valid_edge_cases(capsys, tmp_path, make):
    out = tmp_path / "o.png"
    assert_ok(run_plot_here(capsys, "ownership", owned(tmp_path, **make), "-o", out), out)
    assert_image(out, "png")


def test_without_faults(capsys, tmp_path):
    def edit(data):
        for variant in data["variants"]:
            for run in variant["runs"]:
                run["faults"] = []

    out = tmp_path / "o.png"
    assert_ok(run_plot_here(capsys, "ownership", owned(tmp_path, edit), "-o", out), out)
    assert_image(out, "png")


# --- errors -------------------------------------------------------------------------------------


def test_a_report_without_ownership_states(sample_report_path):
    done = run_plot("ownership", sample_report_path)
    assert_bad_input(done, f"plot.py: {sample_report_path}: no ownership or leadership timelines "
                           '(states "owner" or "leader") in /variants/*/runs/*/states')
    assert not (sample_report_path.parent / "breaker-demo.ownership.png").exists()


@pytest.mark.parametrize("args", [["ownership", "a.json", "b.json"], ["ownership", "a.json", "--seed", "one"],
                                  ["p99", "a.json", "--seed", "1"]])
def test_bad_arguments_exit_2(args):
    done = run_plot(*args)
    assert done.returncode == 2 and "Traceback" not in done.stderr


def test_help():
    done = run_plot("ownership", "--help")
    assert done.returncode == 0 and "--seed N" in done.stdout


def states_of(data, variant=0, run=0):
    return data["variants"][variant]["runs"][run]["states"]


BAD = [
    (lambda d: states_of(d)[1]["intervals"][1].update(end_s=20.0),
     "/variants/0/runs/0/states/1/intervals/1: end_s 20 is before start_s 24.2"),
    (lambda d: states_of(d)[0]["intervals"][0].update(state=3),
     "/variants/0/runs/0/states/0/intervals/0/state: expected a string, got 3"),
    (lambda d: states_of(d)[0]["intervals"][0].pop("start_s"),
     '/variants/0/runs/0/states/0/intervals/0: no "start_s" (the ownership plot needs it)'),
    (lambda d: states_of(d)[0].pop("intervals"), '/variants/0/runs/0/states/0: no "intervals"'),
    (lambda d: states_of(d).append(dict(states_of(d)[1])),
     '/variants/0/runs/0/states/3: a second "ownership" timeline of node "owners[1]" '
     "(the first: /variants/0/runs/0/states/1)"),
    (lambda d: d["variants"][0]["runs"][0].update(seed="one"), '/variants/0/runs/0/seed: expected a whole number'),
    (lambda d: d["variants"][1].update(runs=[]), "/variants/1/runs: empty (the ownership plot needs at least one run)"),
    (lambda d: d["variants"][0].update(warmup_s=-1), "/variants/0/warmup_s: expected a number >= 0, got -1"),
    (lambda d: d["variants"][0]["runs"][0]["faults"][0].pop("kind"), '/variants/0/runs/0/faults/0: no "kind"'),
]


@pytest.mark.parametrize("edit, fragment", BAD)
def test_report_without_what_the_plot_needs(capsys, tmp_path, edit, fragment):
    path = owned(tmp_path, edit)
    assert_bad_input(run_plot_here(capsys, "ownership", path, "-o", tmp_path / "o.png"), f"{path}: {fragment}")
    assert not (tmp_path / "o.png").exists()


# --- a report of the real simulator -------------------------------------------------------------


def test_the_lease_scenario_of_the_real_simulator(tmp_path):
    """The lease_owner model integrates the number of owners in its ghost state over the measured
    interval, from the end of the warm-up to the end of the run; the plot's overlap and unowned
    time over the same interval, from the state timelines, must be the same figures."""
    from conftest import REPO, run_dsim

    path = run_dsim(REPO / "scenarios" / "lease-clock-drift.json", tmp_path / "out", "--seeds", "1",
                    "--variant", "pause")
    data = json.loads(path.read_text())
    figures = data["variants"][0]["figures"]
    pause = panel(extract(path), "pause")
    assert pause.measured_from_s == data["variants"][0]["warmup_s"] > 0
    assert [r.node for r in pause.rows] == ["owners[0]", "owners[1]", "owners[2]"]
    assert pause.overlap_s == pytest.approx(figures["owners.overlap_s"], abs=1e-6)
    assert pause.unowned_s == pytest.approx(figures["owners.unowned_s"], abs=1e-6)
    assert pause.overlap_s > 3  # the 8 s pause outlasts the 5 s lease: two owners
    expected = tmp_path / "ownership.png"
    assert_ok(run_plot("ownership", path, "-o", expected), expected)
    assert_image(expected, "png")
