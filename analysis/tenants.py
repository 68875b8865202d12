"""`plot.py tenants`: how many tenants a fault hurt, and how badly, one curve per variant.

Each client group of a run is a tenant (a client's `group`, or each node with
`tenant_per_node`). For every seed, the tenants' failed shares (failed / requests of
`runs[].groups`, requests started after the warm-up; 0 for a tenant without requests) are
sorted from the worst down, and the seeds' sorted curves are averaged rank by rank (quantile
averaging, as `downtime` averages its CDFs). The curve of a variant is drawn as steps over the
tenants' share, worst on the left: where it drops to zero is the share of tenants affected (a
dot marks it), how high it starts is how badly the worst were hurt. A fault contained by
bulkheads, shuffle shards or cells is a narrow spike at the left; one that spreads is a wide
plateau. The legend gives the tenants affected per seed (of how many) and the worst tenant's
availability, both means over the seeds."""

from dataclasses import dataclass

import figure
from report import ReportError, variants

PLOT = "tenants"
LINESTYLES = ("-", "--", "-.", ":")


@dataclass
class Curve:
    """One variant: its tenants' failed shares sorted worst first, averaged over the seeds."""

    variant: str
    failed: list  # fractions in [0, 1], non-increasing; one per tenant
    affected: float  # tenants with a failure, mean over the seeds
    worst_availability: float  # the worst tenant's availability, mean over the seeds; None: no request
    seeds: int


def extract(report):
    """One Curve per variant of a report. Raises ReportError when a variant has no runs, a run no
    groups, a group's counts are missing or not numbers, or the seeds disagree on the tenants."""
    return [_curve(name, variant) for name, variant in variants(report, PLOT)]


def _curve(name, variant):
    runs = variant.items("runs")
    if not runs:
        raise ReportError(f'{variant.pointer}/runs: no runs (the {PLOT} plot needs each seed\'s groups)')
    sorted_runs, affected, worst = [], [], []
    names = None
    for run in runs:
        groups = run.child("groups")
        if not groups.obj:
            raise ReportError(f"{groups.pointer}: no groups (the {PLOT} plot needs the client groups)")
        if names is None:
            names = sorted(groups.obj)
        elif sorted(groups.obj) != names:
            raise ReportError(f"{groups.pointer}: other groups than the first seed's")
        shares, availabilities = [], []
        for group in names:
            summary = groups.child(group)
            requests = summary.number("requests", minimum=0)
            failed = summary.number("failed", minimum=0)
            if failed > requests:
                raise ReportError(f"{summary.pointer}/failed: {failed:g} is above its requests ({requests:g})")
            shares.append(failed / requests if requests > 0 else 0.0)
            if requests > 0:
                availabilities.append(1 - failed / requests)
        sorted_runs.append(sorted(shares, reverse=True))
        affected.append(sum(1 for s in shares if s > 0))
        if availabilities:
            worst.append(min(availabilities))
    count = len(sorted_runs)
    failed = [sum(run[i] for run in sorted_runs) / count for i in range(len(names))]
    return Curve(name, failed, sum(affected) / count, sum(worst) / len(worst) if worst else None, count)


# --- drawing ------------------------------------------------------------------------------------


def _number(value):
    return f"{value:.0f}" if abs(value - round(value)) < 1e-9 else f"{value:.1f}"


def _label(curve, report_label):
    name = f"{report_label}: {curve.variant}" if report_label else curve.variant
    tenants = len(curve.failed)
    share = 100 * curve.affected / tenants
    per_seed = " per seed" if curve.seeds > 1 and curve.affected > 0 else ""
    text = f"{name}: {_number(curve.affected)} of {tenants} tenants affected{per_seed} ({share:.3g} %)"
    if curve.worst_availability is not None and curve.affected > 0:
        text += f", the worst {100 * curve.worst_availability:.4g} % available"
    return text


def draw(groups, labels, seeds):
    """groups: one list of Curves per report, labels: the reports' names. Returns the figure."""
    fig, ax = figure.new_figure()
    colour = figure.colours(curve.variant for group in groups for curve in group)
    several = len(groups) > 1
    top = 0.0
    for index, (group, label) in enumerate(zip(groups, labels)):
        style = LINESTYLES[index % len(LINESTYLES)]
        for curve in group:
            tenants = len(curve.failed)
            edges = [100 * i / tenants for i in range(tenants + 1)]
            values = [100 * f for f in curve.failed]
            top = max(top, max(values))
            ax.stairs(values, edges, color=colour[curve.variant], linestyle=style, linewidth=2,
                      baseline=None, label=_label(curve, label if several else None))
            ax.plot([100 * curve.affected / tenants], [0], "o", color=colour[curve.variant], markersize=6,
                    clip_on=False, zorder=3)
    ax.set_xlim(0, 100)
    ax.set_ylim(0, top * 1.08 if top > 0 else 1)
    ax.set_xlabel("tenants, worst first (% of the tenants)")
    ax.set_ylabel("the tenant's failed requests (%)")
    ax.set_title(figure.title("Tenants hurt per variant", labels, seeds))
    # Under the axes: inside, it would hide the curves of the worst tenants (top left).
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.11), ncol=1, frameon=False)
    return fig
