"""`plot.py ownership`: who believes it owns the resource (or leads), and when, in one seed's
runs. One panel per variant (stacked, sharing the time axis), one row per node of the ownership
components, a bar wherever the node believes it owns or leads (a lighter bar while it is a
candidate); the time when two or more nodes believe it at once is shaded red ("two owners", a
safety violation), the time when none does grey (unavailability), and each panel's title gives
both totals. The faults of the variant's run are a strip above its panel.

An ownership timeline is a state timeline (runs[k].states) in which some interval's state is in
OWNING_STATES, or whose states all belong to the vocabulary of ownership models (VOCABULARY: a
node that never won still has its row). The lease_owner model's timeline "ownership" goes
"seeking" / "owner"; a Raft node's "follower" / "candidate" / "leader". Timelines are grouped by
(component, timeline name): overlaps are counted within a group, one resource each.

The totals in the titles are over the measured interval, from the warm-up's end (the variant's
warmup_s) to the end of the run: the interval over which the lease_owner model's ghost state
computes its figures overlap_s and unowned_s, so the plot and the report's columns agree. The
bars and shading cover the whole run, warm-up included (hatched)."""

import re
import textwrap
from dataclasses import dataclass, field
from types import SimpleNamespace

import figure
import timeline
from report import ReportError, describe, variants

PLOT = "ownership"
# States in which a node believes it owns the resource or leads: lease_owner's "owner", Raft's
# "leader". Two nodes in these states at once is the overlap the plot shades.
OWNING_STATES = frozenset({"owner", "leader"})
# States of a node trying to become the leader (Raft's "candidate"): drawn as a lighter bar,
# not counted as owning.
CANDIDATE_STATES = frozenset({"candidate"})
# States of the ownership models in which a node neither owns nor tries to lead.
OTHER_STATES = frozenset({"seeking", "follower"})
VOCABULARY = OWNING_STATES | CANDIDATE_STATES | OTHER_STATES

OWNER_COLOUR = "#1f77b4"
OVERLAP_COLOUR = "#d62728"
UNOWNED_COLOUR = "0.55"
NODE_ROW_IN = 0.34  # height of a node's row, inches
FAULT_ROW_IN = 0.27  # height of a row of the fault strip
PANEL_IN = 0.75  # a panel's title and margins
NOTE_WIDTH = 120  # characters per line of the note under the figure
LEGEND_PT = 24  # the legend's bottom above the first axes: room for the first panel's title
MIN_SHADE = 1 / 500  # of the run: a shorter overlap is widened to this, so that it shows


@dataclass
class Row:
    """One node of an ownership group in one run."""

    node: str
    owning: list  # (start_s, end_s) while it believes it owns or leads, merged, in order
    candidate: list  # (start_s, end_s) while a candidate


@dataclass
class Panel:
    """One ownership group (component, timeline name) in one variant's run of the seed."""

    variant: str
    component: str
    timeline: str  # the timelines' name, e.g. "ownership"
    rows: list  # Rows, in node order (owners[2] before owners[10])
    overlaps: list  # (start_s, end_s): two or more rows own at once, merged
    unowned: list  # (start_s, end_s): no row owns
    max_owners: int  # the most rows owning at once
    measured_from_s: float  # the warm-up's end (warmup_s)
    end_s: float  # the end of the run
    faults: list  # timeline.Span, of this run
    states: list = field(default_factory=list)  # the states seen, in order of appearance

    @property
    def overlap_s(self):
        """Time with two or more owners over the measured interval (the model's overlap_s)."""
        return total(self.overlaps, self.measured_from_s, self.end_s)

    @property
    def unowned_s(self):
        """Time with no owner over the measured interval (the model's unowned_s)."""
        return total(self.unowned, self.measured_from_s, self.end_s)

    @property
    def run_overlap_s(self):
        """Time with two or more owners over the whole run, warm-up included."""
        return total(self.overlaps, 0.0, self.end_s)

    @property
    def run_unowned_s(self):
        return total(self.unowned, 0.0, self.end_s)


@dataclass
class Ownership:
    """What `ownership` plots of one report: a Panel per variant (and ownership group) for one
    seed, and the variants whose run of that seed has no ownership timeline."""

    name: str
    seed: int
    seeds: list  # every seed of the report, in order
    panels: list
    absent: list  # variant names
    end_s: float  # the longest run


# --- intervals ----------------------------------------------------------------------------------


def merge(intervals):
    """Sorted, with touching and overlapping intervals joined and empty ones dropped."""
    merged = []
    for start, end in sorted(intervals):
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [tuple(i) for i in merged]


def total(intervals, start, end):
    """The length of the intervals inside [start, end]."""
    return sum(max(0.0, min(e, end) - max(s, start)) for s, e in intervals)


def sweep(owning, end_s):
    """(overlaps, unowned, max_owners) of rows whose owning intervals are `owning` (one list per
    row, each merged), over [0, end_s]: where two or more rows own at once, where none does.
    Intervals that only touch (one ends when the next begins) are not an overlap."""
    events = sorted((t, delta) for intervals in owning for s, e in intervals
                    for t, delta in ((max(s, 0.0), +1), (min(e, end_s), -1)) if min(e, end_s) > max(s, 0.0))
    overlaps, unowned = [], []
    count, most, last = 0, 0, 0.0
    for t, delta in events:  # at the same instant, ends (-1) come before starts (+1)
        if t > last:
            if count >= 2:
                overlaps.append((last, t))
            elif count == 0:
                unowned.append((last, t))
            last = t
        count += delta
        most = max(most, count)
    if end_s > last:
        unowned.append((last, end_s))
    return merge(overlaps), merge(unowned), most


# --- reading the report -------------------------------------------------------------------------


def _seed_of(run):
    if "seed" not in run.obj:
        raise ReportError(f'{run.pointer}: no "seed" (the {PLOT} plot needs it)')
    value = run.obj["seed"]
    if not isinstance(value, int) or isinstance(value, bool):
        raise ReportError(f"{run.pointer}/seed: expected a whole number, got {describe(value)}")
    return value


def _timelines(run):
    """[(Need, component, name, node, [(start, end or None, state)])] of a run's states."""
    found = []
    for entry in run.items("states", optional=True):
        node = entry.string("node", optional=True)
        component = entry.string("component", optional=True)
        if node is None and component is None:
            raise ReportError(f'{entry.pointer}: no "node" (the {PLOT} plot needs it)')
        node = node if node is not None else component
        component = component if component is not None else re.sub(r"\[\d+\]$", "", node)
        name = entry.string("name", optional=True) or "state"
        intervals = []
        for interval in entry.items("intervals"):
            start = interval.number("start_s")
            end = interval.number("end_s", nullable=True, optional=True)
            if end is not None and end < start:
                raise ReportError(f"{interval.pointer}: end_s {end:g} is before start_s {start:g}")
            intervals.append((start, end, interval.string("state")))
        found.append((entry, component, name, node, intervals))
    return found


def is_ownership(states):
    """Whether a timeline with these states (any iterable) is an ownership timeline."""
    states = set(states)
    return bool(states) and (bool(states & OWNING_STATES) or states <= VOCABULARY)


def _node_key(node):
    """owners[2] before owners[10]: the name, then the index as a number."""
    match = re.fullmatch(r"(.*)\[(\d+)\]", node)
    return (match.group(1), int(match.group(2)), node) if match else (node, -1, node)


def _run_end(variant, run, timelines):
    """The end of a run: its simulated_s (else the variant's duration_s), or later if an interval
    or a fault ends later."""
    end = run.number("simulated_s", optional=True)
    if end is None:
        end = variant.number("duration_s", optional=True) or 0.0
    times = [t for *_, intervals in timelines for start, stop, _ in intervals for t in (start, stop) if t is not None]
    for fault in run.items("faults", optional=True):
        times += [fault.number("start_s"), fault.number("end_s", nullable=True, optional=True) or 0.0]
    return max([end] + times)


def extract(report, seed=None):
    """The ownership panels of one seed's runs (the first seed when None), as an Ownership.
    Raises ReportError when the report has no ownership timeline, `seed` has no run, or a field
    the plot needs is missing or of the wrong type."""
    checked = []
    seeds = []
    for name, variant in variants(report, PLOT):
        runs = variant.items("runs")
        if not runs:
            raise ReportError(f"{variant.pointer}/runs: empty (the {PLOT} plot needs at least one run)")
        by_seed = {}
        for run in runs:
            by_seed.setdefault(_seed_of(run), run)
        seeds += [s for s in by_seed if s not in seeds]
        checked.append((name, variant, by_seed))
    groups = []  # (component, name) of the ownership timelines, anywhere in the report
    for _, _, by_seed in checked:
        for run in by_seed.values():
            for _, component, name, _, intervals in _timelines(run):
                if is_ownership(state for *_, state in intervals) and (component, name) not in groups:
                    groups.append((component, name))
    if not groups:
        raise ReportError(f"no ownership or leadership timelines (states {_quoted(OWNING_STATES)}) in "
                          f"/variants/*/runs/*/states (the {PLOT} plot needs them)")
    if seed is None:
        seed = seeds[0]
    elif seed not in seeds:
        raise ReportError(f"--seed: no run of seed {seed} (the seeds: {', '.join(map(str, seeds))})")
    panels, absent = [], []
    for name, variant, by_seed in checked:
        if seed not in by_seed:
            raise ReportError(f"{variant.pointer}/runs: no run of seed {seed} (its seeds: "
                              f"{', '.join(map(str, by_seed))})")
        found = _panels(name, variant, by_seed[seed], groups)
        panels += found
        if not found:
            absent.append(name)
    if not panels:
        raise ReportError(f"the runs of seed {seed} have no ownership or leadership timelines (states "
                          f"{_quoted(OWNING_STATES)})")
    return Ownership(report.name, seed, seeds, panels, absent, max(p.end_s for p in panels))


def _quoted(states):
    return " or ".join(f'"{s}"' for s in sorted(states, reverse=True))


def _panels(variant_name, variant, run, groups):
    timelines = _timelines(run)
    end_s = _run_end(variant, run, timelines)
    warmup = min(variant.number("warmup_s", optional=True, minimum=0) or 0.0, end_s)
    faults = timeline._faults(run, end_s)
    panels = []
    for component, name in groups:
        rows, states, seen = [], [], {}
        for entry, c, n, node, intervals in timelines:
            if (c, n) != (component, name):
                continue
            if node in seen:
                raise ReportError(f'{entry.pointer}: a second "{name}" timeline of node {describe(node)} '
                                  f"(the first: {seen[node]})")
            seen[node] = entry.pointer
            closed = [(s, end_s if e is None else e, state) for s, e, state in intervals]
            states += [state for *_, state in closed if state not in states]
            rows.append(Row(node, merge((s, e) for s, e, state in closed if state in OWNING_STATES),
                            merge((s, e) for s, e, state in closed if state in CANDIDATE_STATES)))
        if not rows:
            continue
        rows.sort(key=lambda r: _node_key(r.node))
        overlaps, unowned, most = sweep([r.owning for r in rows], end_s)
        panels.append(Panel(variant_name, component, name, rows, overlaps, unowned, most, warmup, end_s,
                            faults, states))
    return panels


# --- drawing ------------------------------------------------------------------------------------


def _seconds(value):
    """A duration for a title: '0 s', '263 ms', '3.97 s', '124 s' (never 0 for a positive time)."""
    if value == 0:
        return "0 s"
    if value < 1:
        return f"{value * 1000:.3g} ms"
    if value < 100:
        return f"{value:.3g} s"
    return f"{value:.0f} s"


def _believes(panels):
    """What the bars mean, from the owning states seen: 'owner', 'leader' or 'owner or leader'."""
    seen = [s for s in sorted(OWNING_STATES, reverse=True) if any(s in p.states for p in panels)]
    return " or ".join(seen) or "owner"


def panel_title(panel, with_group=False):
    title = (f"{panel.variant}: {_seconds(panel.overlap_s)} with two owners, "
             f"{_seconds(panel.unowned_s)} with none")
    if panel.max_owners > 2:
        title += f" (up to {panel.max_owners} at once)"
    if with_group:
        title += f"  [{panel.component} {panel.timeline}]"
    return title


def draw(ownership):
    from matplotlib.patches import Patch
    from matplotlib.transforms import offset_copy

    panels = ownership.panels
    end_s = ownership.end_s
    layout = []  # per panel: (faults sorted, their places, fault rows or 0)
    ratios = []
    for panel in panels:
        faults = sorted(panel.faults, key=lambda s: (s.start_s, s.end_s))
        places, n_rows = timeline._rows(faults, end_s)
        layout.append((faults, places, n_rows if faults else 0))
        if faults:
            ratios.append(0.15 + FAULT_ROW_IN * n_rows)
        ratios.append(0.3 + NODE_ROW_IN * len(panel.rows))
    height = max(figure.SIZE_IN[1], 1.6 + sum(ratios) + PANEL_IN * len(panels))
    fig, axes = figure.new_figure(size=(figure.SIZE_IN[0], height), nrows=len(ratios), sharex=True,
                                  gridspec_kw={"height_ratios": ratios}, squeeze=False)
    axes = list(axes[:, 0])
    several_groups = len({(p.component, p.timeline) for p in panels}) > 1
    shown = {"candidate": False, "warmup": False}
    for panel, (faults, places, n_rows) in zip(panels, layout):
        fault_ax = axes.pop(0) if faults else None
        ax = axes.pop(0)
        if fault_ax is not None:
            timeline._draw_faults(fault_ax, SimpleNamespace(warmup=[], end_s=end_s), faults, places, n_rows)
            _hatch_warmup(fault_ax, panel, shown)
        _draw_rows(ax, panel, faults, shown)
        (fault_ax or ax).set_title(panel_title(panel, several_groups), loc="left", fontsize=11,
                                   fontweight="bold")
        ax.set_xlim(0, end_s)
    ax.set_xlabel("simulated time (s)")
    top = fig.axes[0]
    handles = [Patch(facecolor=OWNER_COLOUR, label=f"believes it is {_believes(panels)}")]
    if shown["candidate"]:
        handles.append(Patch(facecolor=OWNER_COLOUR, alpha=0.35, label="candidate"))
    handles += [Patch(facecolor=OVERLAP_COLOUR, alpha=0.35, label="two owners"),
                Patch(facecolor=UNOWNED_COLOUR, alpha=0.3, label="no owner")]
    if shown["warmup"]:
        handles.append(Patch(facecolor="none", edgecolor="0.6", hatch="///", label="warm-up (not in the totals)"))
    # Above the first panel's title: anchored LEGEND_PT above the top of its axes.
    above = offset_copy(top.transAxes, fig=fig, y=LEGEND_PT, units="points")
    top.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 1), bbox_transform=above,
               ncol=len(handles), frameon=False, borderaxespad=0, columnspacing=1.5, handlelength=1.5)
    fig.suptitle(f"Who believes it is {_believes(panels)}: {ownership.name} (seed {ownership.seed})",
                 fontweight="bold")
    fig.supxlabel(_note(ownership), fontsize=10)
    return fig


def _hatch_warmup(ax, panel, shown):
    if panel.measured_from_s > 0:
        ax.axvspan(0, panel.measured_from_s, facecolor="none", edgecolor="0.6", hatch="///", linewidth=0,
                   zorder=0)
        shown["warmup"] = True


def _draw_rows(ax, panel, faults, shown):
    n = len(panel.rows)
    for start, end in panel.unowned:
        ax.broken_barh([(start, end - start)], (0, n), facecolors=UNOWNED_COLOUR, alpha=0.3, linewidth=0,
                       zorder=0)
    widest = panel.end_s * MIN_SHADE
    for start, end in panel.overlaps:
        middle, width = (start + end) / 2, max(end - start, widest)
        ax.broken_barh([(middle - width / 2, width)], (0, n), facecolors=OVERLAP_COLOUR, alpha=0.35,
                       linewidth=0, zorder=1)
    _hatch_warmup(ax, panel, shown)
    for row, node in enumerate(panel.rows):
        y = n - 1 - row
        if node.candidate:
            ax.broken_barh([(s, e - s) for s, e in node.candidate], (y + 0.3, 0.4), facecolors=OWNER_COLOUR,
                           alpha=0.35, linewidth=0, zorder=2)
            shown["candidate"] = True
        ax.broken_barh([(s, e - s) for s, e in node.owning], (y + 0.2, 0.6), facecolors=OWNER_COLOUR,
                       linewidth=0, zorder=3)
    for span in faults:  # where each fault begins (solid) and ends (dotted)
        colour = timeline._fault_colour(span.kind)
        ax.axvline(span.start_s, color=colour, linewidth=1, alpha=0.8, zorder=4)
        if span.end_s < panel.end_s:
            ax.axvline(span.end_s, color=colour, linewidth=1, linestyle=":", alpha=0.8, zorder=4)
    ax.set_ylim(0, n)
    ax.set_yticks([n - 0.5 - row for row in range(n)], [timeline._short(r.node) for r in panel.rows],
                  fontsize=10)
    ax.tick_params(axis="y", length=0)
    ax.grid(False, axis="y")


def _note(ownership):
    warmups = sorted({p.measured_from_s for p in ownership.panels})
    if warmups == [0.0]:
        measured = "totals over the whole run"
    else:
        when = f"{warmups[0]:g} s" if len(warmups) == 1 else "its warmup_s"
        measured = f"totals after the warm-up ({when}), like lease_owner's overlap_s and unowned_s"
    lines = [f"{measured}; lines: a fault begins (solid), ends (dotted)"]
    if len(ownership.seeds) > 1:
        lines.append(f"seed {ownership.seed} of {len(ownership.seeds)} (--seed picks another: "
                     f"{', '.join(map(str, ownership.seeds))})")
    if ownership.absent:
        lines.append(f"without ownership timelines in seed {ownership.seed}, not shown: "
                     + ", ".join(ownership.absent))
    return "\n".join(textwrap.fill(line, NOTE_WIDTH, break_on_hyphens=False) for line in lines)
