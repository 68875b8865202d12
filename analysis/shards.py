"""`plot.py shards`: how a sharder spreads its load, shard by shard. One row per variant (and per
sharder): each shard's share of the routed requests against the even share 1/S, the p99 and
mean latency of the sharder's calls to it, and its utilization (the mean of its replicas', from
the per-replica figures) when the report has them. A row's title gives the variant's imbalance.

The sharder's per-shard figures are indexed, "NAME.shard_share[i]" for shard i = 0 .. S-1; its
shards are consecutive nodes of its target, shard i the next shard_replicas[i] of them."""

import re
import textwrap
from dataclasses import dataclass

import figure
from report import ReportError, by_component, describe, model_of

PLOT = "shards"
MODEL = "sharder"
LOG_RATIO = 30  # a log latency axis once the largest latency is 30x the smallest
MAX_VALUE_LABELS = 6  # shards per row up to which bars are labelled with their values
MAX_TICKS = 16  # shards per row up to which every shard has its tick
ROW_IN = 2.3  # height of one row, inches
NOTE_WIDTH = 140  # characters per line of the note under the figure


@dataclass
class Shard:
    index: int
    share: float  # of the routed requests; None when null
    share_ci: tuple  # 95 % CI across seeds, None without
    rate_per_s: float  # None when null
    p99_ms: float  # None: no call to the shard succeeded
    p99_ci: tuple
    mean_ms: float  # None like p99_ms
    replicas: int
    nodes: list  # the target's nodes that make the shard, in node order ([] without per-replica figures)
    utilization: float  # mean over runs of the mean over its replicas; None without a value
    replica_utilization: list  # per node, the mean over runs (None where no run had a value)


@dataclass
class Sharding:
    """One sharder in one variant: the per-shard table and what the row's title says."""

    variant: str
    sharder: str
    target: str
    imbalance: float  # max shard's requests / mean per shard; None when unknown
    max_share: float
    shards: list  # Shards, by index
    no_utilization: str  # why there is no utilization (None when there is)

    @property
    def even(self):
        return 1 / len(self.shards)


@dataclass
class Table:
    """What `shards` plots of one report: one Sharding per variant and sharder, and the
    (variant, sharder) pairs where a variant has no such sharder."""

    rows: list
    absent: list


def extract(report, component=None):
    """The per-shard table of every sharder of a report (only `component` when given), as a Table.
    Raises ReportError when the report has no sharder, `component` is none of its sharders, or a
    figure the plot needs is missing or of the wrong type."""
    return Table(*by_component(report, PLOT, MODEL, "sharder", component, _sharding))


def _shard_count(figures, sharder):
    """S: the shards of `sharder` that have a share figure, checked to be 0 .. S-1."""
    pattern = re.compile(re.escape(sharder) + r"\.shard_share\[(\d+)\]")
    indices = {int(m.group(1)) for m in map(pattern.fullmatch, figures.obj) if m}
    if not indices:
        raise ReportError(f'{figures.pointer}: no "{sharder}.shard_share[0]" (the {PLOT} plot needs the '
                          f"sharder's per-shard figures)")
    missing = sorted(set(range(max(indices) + 1)) - indices)
    if missing:
        raise ReportError(f'{figures.pointer}: no "{sharder}.shard_share[{missing[0]}]" (shards 0 to '
                          f"{max(indices)} have one)")
    return len(indices)


def _whole(need, key, optional=False):
    """A whole number >= 1 (a replica count); None when absent (optional)."""
    value = need.number(key, optional=optional, minimum=1)
    if value is not None and value != int(value):
        raise ReportError(f"{need.pointer}/{key}: expected a whole number, got {describe(need.obj[key])}")
    return None if value is None else int(value)


def _sharding(name, variant, components, sharder):
    config = components.child(sharder)
    target = config.string("target")
    figures = variant.child("figures")
    intervals = variant.child("figures_ci95", nullable=True, optional=True)
    default_replicas = _whole(config, "replicas", optional=True) or 1
    shards = []
    for i in range(_shard_count(figures, sharder)):
        key = f"{sharder}.{{}}[{i}]".format
        shards.append(Shard(
            index=i,
            share=figures.number(key("shard_share"), nullable=True, minimum=0),
            share_ci=intervals.interval(key("shard_share")) if intervals is not None else None,
            rate_per_s=figures.number(key("shard_rate_per_s"), nullable=True, minimum=0),
            p99_ms=figures.number(key("shard_p99_ms"), nullable=True, minimum=0),
            p99_ci=intervals.interval(key("shard_p99_ms")) if intervals is not None else None,
            mean_ms=figures.number(key("shard_mean_ms"), nullable=True, minimum=0),
            replicas=_whole(figures, key("shard_replicas"), optional=True) or default_replicas,
            nodes=[], utilization=None, replica_utilization=[],
        ))
    shares = [s.share for s in shards if s.share is not None]
    max_share = figures.number(f"{sharder}.max_shard_share", nullable=True, optional=True)
    if max_share is None and shares:
        max_share = max(shares)
    imbalance = figures.number(f"{sharder}.imbalance", nullable=True, optional=True)
    if imbalance is None and shares and sum(shares) > 0:
        imbalance = max(shares) / (sum(shares) / len(shards))
    target_model = model_of(components, target) if target in components.obj else None
    no_utilization = _utilization(variant, target, shards, target_model)
    return Sharding(name, sharder, target, imbalance, max_share, shards, no_utilization)


def _nodes(per_replica, target):
    """(name, Need) of a component's nodes, by their index: JSON objects come with their keys
    sorted as text ("shards[10]" before "shards[2]"); dsim names the nodes "NAME[i]", or just
    NAME when there is one."""
    pattern = re.compile(re.escape(target) + r"\[(\d+)\]")
    indexed = []
    for node in per_replica.obj:
        match = pattern.fullmatch(node)
        if match is None and node != target:
            raise ReportError(f"{per_replica.pointer}: {describe(node)} is not a node of {describe(target)} "
                              f"(expected {target}[0], {target}[1], ...)")
        indexed.append((int(match.group(1)) if match else 0, node))
    return [(node, per_replica.child(node)) for _, node in sorted(indexed)]


def _mean(values):
    values = [v for v in values if v is not None]
    return sum(values) / len(values) if values else None


def _utilization(variant, target, shards, target_model):
    """Fills in each shard's nodes and utilization from the runs' per-replica figures of the
    target; returns why there is none, or None when there is."""
    needed = sum(s.replicas for s in shards)
    names, per_run = None, []  # per run: the utilization of each node, in node order
    for run in variant.items("runs", optional=True):
        models = run.child("models", nullable=True, optional=True)
        model = models.child(target, nullable=True, optional=True) if models is not None else None
        per_replica = model.child("per_replica", nullable=True, optional=True) if model is not None else None
        if per_replica is None:
            continue
        nodes = _nodes(per_replica, target)
        if len(nodes) < needed:
            raise ReportError(f"{per_replica.pointer}: {len(nodes)} nodes, but the shards of the sharder have "
                              f"{needed} replicas in all (shard_replicas)")
        names = names or [node for node, _ in nodes]
        per_run.append([need.number("utilization", nullable=True, optional=True) for _, need in nodes])
        target_model = target_model or model.string("model", optional=True)
    if not per_run:
        return f'no per-replica figures of "{target}" (set "report": {{"per_replica": true}} in the scenario)'
    if all(v is None for values in per_run for v in values):
        return f'"{target}" ({target_model or "its model"}) has no utilization figure'
    first = 0
    for shard in shards:
        nodes = range(first, first + shard.replicas)
        first += shard.replicas
        shard.nodes = [names[n] for n in nodes]
        shard.replica_utilization = [_mean(values[n] for values in per_run) for n in nodes]
        shard.utilization = _mean(_mean(values[n] for n in nodes) for values in per_run)
    return None


# --- drawing ------------------------------------------------------------------------------------


def draw(groups, labels, seeds):
    """groups: one Table per report, labels: the reports' names. Returns the figure."""
    rows = [(label, row) for label, table in zip(labels, groups) for row in table.rows]
    several_sharders = len({row.sharder for _, row in rows}) > 1
    utilization = any(row.no_utilization is None for _, row in rows)
    columns = 3 if utilization else 2
    fig = figure.new_canvas(size=(figure.SIZE_IN[0], max(figure.SIZE_IN[1], 1.3 + ROW_IN * len(rows))))
    colour = figure.colours(row.variant for _, row in rows)
    log = _use_log(row for _, row in rows)
    shown = {"ci": False, "mean": False, "replicas": False, "no_calls": False}
    panels = []
    subfigures = fig.subfigures(len(rows), 1, squeeze=False)[:, 0]
    for number, ((label, row), sub) in enumerate(zip(rows, subfigures)):
        axes = sub.subplots(1, columns, squeeze=False)[0]
        _draw_share(axes[0], row, colour[row.variant], shown)
        _draw_latency(axes[1], row, colour[row.variant], shown, log)
        if utilization:
            _draw_utilization(axes[2], row, colour[row.variant], shown)
        if number == 0:
            for ax, title in zip(axes, ("share of the routed requests", "p99 of the sharder's calls",
                                        "utilization (mean of its replicas)")):
                ax.set_title(title, fontsize=11)
        for column, ax in enumerate(axes):
            _shard_ticks(ax, row, last=number == len(rows) - 1, rates=column == 0)
        sub.suptitle(_row_title(row, label if len(labels) > 1 else None, several_sharders), fontsize=12,
                     fontweight="bold")
        panels.append(axes)
    _share_limits([p[0] for p in panels], [r for _, r in rows])
    _latency_limits([p[1] for p in panels], [r for _, r in rows], log)
    fig.suptitle(figure.title("Load, latency and utilization per shard", labels, seeds))
    fig.supxlabel(_note(groups, labels, rows, utilization, shown), fontsize=10)
    return fig


def _use_log(rows):
    values = [v for row in rows for s in row.shards for v in (s.p99_ms, s.mean_ms) if v is not None and v > 0]
    return bool(values) and max(values) / min(values) > LOG_RATIO


def _shard_ticks(ax, row, last, rates=False):
    """Shard numbers under the bars; with rates (and few shards), each shard's requests/s too."""
    from matplotlib.ticker import MaxNLocator

    count = len(row.shards)
    if rates and count <= MAX_VALUE_LABELS and any(s.rate_per_s is not None for s in row.shards):
        ax.set_xticks(range(count), [f"{s.index}\n{_rate(s.rate_per_s)}" if s.rate_per_s is not None
                                     else str(s.index) for s in row.shards])
    elif count <= MAX_TICKS:
        ax.set_xticks(range(count))
    else:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlim(-0.6, count - 0.4)
    ax.grid(False, axis="x")
    if last:
        ax.set_xlabel("shard")


def _error_bar(ax, x, value, ci):
    low, high = ci
    ax.errorbar(x, value, yerr=[[max(value - low, 0)], [max(high - value, 0)]], fmt="none", ecolor="black",
                elinewidth=1.2, capsize=4, capthick=1.2, zorder=3)


def _draw_share(ax, row, colour, shown):
    from matplotlib.ticker import PercentFormatter

    for shard in row.shards:
        if shard.share is None:
            continue
        ax.bar(shard.index, shard.share, width=0.7, color=colour, alpha=0.85, edgecolor="black", linewidth=0.6)
        if shard.share_ci is not None and shard.share_ci[1] > shard.share_ci[0]:
            _error_bar(ax, shard.index, shard.share, shard.share_ci)
            shown["ci"] = True
    ax.axhline(row.even, color="black", linestyle="--", linewidth=1.2, zorder=4)
    ax.annotate(f"1/{len(row.shards)}", (1, row.even), xycoords=("axes fraction", "data"), xytext=(-3, 3),
                textcoords="offset points", ha="right", va="bottom", fontsize=10, zorder=5,
                bbox={"boxstyle": "square,pad=0.1", "facecolor": "white", "edgecolor": "none", "alpha": 0.8})
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_ylabel("share")


def _value_labels(ax, row, value, high):
    """Writes value(shard) above each bar (ending at high(shard)) when the row has few shards."""
    if len(row.shards) > MAX_VALUE_LABELS:
        return
    for shard in row.shards:
        text = value(shard)
        if text is not None:
            ax.annotate(text, (shard.index, high(shard)), xytext=(0, 3), textcoords="offset points",
                        ha="center", va="bottom", fontsize=10)


def _ms(value):
    """A latency above its bar (the axis says ms): 3 significant digits, whole ms from 100."""
    return f"{value:.0f}" if value >= 100 else f"{value:.3g}"


def _rate(value):
    return f"{value:,.0f}/s" if value >= 10 else f"{value:.2g}/s"


def _draw_latency(ax, row, colour, shown, log):
    if log:
        ax.set_yscale("log")
        figure.plain_log_ticks(ax.yaxis)
    for shard in row.shards:
        if shard.p99_ms is None:
            ax.annotate("no\ncalls", (shard.index, 0), xycoords=("data", "axes fraction"), xytext=(0, 4),
                        textcoords="offset points", ha="center", va="bottom", fontsize=10, color="0.4")
            shown["no_calls"] = True
        elif not log or shard.p99_ms > 0:
            ax.bar(shard.index, shard.p99_ms, width=0.7, color=colour, alpha=0.85, edgecolor="black",
                   linewidth=0.6)
            if shard.p99_ci is not None and shard.p99_ci[1] > shard.p99_ci[0]:
                _error_bar(ax, shard.index, shard.p99_ms, shard.p99_ci)
                shown["ci"] = True
        if shard.mean_ms is not None and (not log or shard.mean_ms > 0):
            ax.plot(shard.index, shard.mean_ms, marker="o", markersize=7, color="white", markeredgecolor="black",
                    zorder=4)
            shown["mean"] = True
    _value_labels(ax, row, lambda s: _ms(s.p99_ms) if s.p99_ms is not None and (not log or s.p99_ms > 0) else None,
                  lambda s: max(v for v in (s.p99_ms, s.mean_ms, s.p99_ci[1] if s.p99_ci else None) if v is not None))
    ax.set_ylabel("p99 (ms)" + (", log" if log else ""))


def _draw_utilization(ax, row, colour, shown):
    from matplotlib.ticker import PercentFormatter

    if row.no_utilization is not None:
        ax.set_axis_off()
        ax.text(0.5, 0.5, "no utilization:\n" + textwrap.fill(row.no_utilization, 34, break_on_hyphens=False),
                transform=ax.transAxes, ha="center", va="center", fontsize=10, color="0.4")
        return
    for shard in row.shards:
        if shard.utilization is not None:
            ax.bar(shard.index, shard.utilization, width=0.7, color=colour, alpha=0.85, edgecolor="black",
                   linewidth=0.6)
        values = [v for v in shard.replica_utilization if v is not None]
        if len(values) > 1:
            offsets = [0.25 * (2 * k / (len(values) - 1) - 1) for k in range(len(values))]
            ax.plot([shard.index + o for o in offsets], values, linestyle="none", marker="o", markersize=4,
                    color="black", zorder=4)
            shown["replicas"] = True
    ax.axhline(1.0, color="0.4", linewidth=0.8, zorder=1)
    ax.set_ylim(0, 1.1)
    ax.set_yticks([0, 0.25, 0.5, 0.75, 1.0])
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_ylabel("utilization")


def _share_limits(axes, rows):
    tops = [row.even for row in rows]
    tops += [max(s.share, s.share_ci[1] if s.share_ci else 0) for row in rows for s in row.shards
             if s.share is not None]
    top = max(tops) * 1.15
    for ax in axes:
        ax.set_ylim(0, top)


def _latency_limits(axes, rows, log):
    values = [v for row in rows for s in row.shards
              for v in (s.p99_ms, s.mean_ms, s.p99_ci[1] if s.p99_ci else None) if v is not None]
    if log:
        positive = [v for v in values if v > 0]
        limits = (min(positive) / 1.5, max(positive) * 2.5)  # room for the values above the bars
    else:
        limits = (0, max(values) * 1.25 if values and max(values) > 0 else 1)
    for ax in axes:
        ax.set_ylim(*limits)


def _row_title(row, report_label, several_sharders):
    imbalance = f"imbalance {row.imbalance:.2f}" if row.imbalance is not None else "imbalance unknown"
    replicas = {s.replicas for s in row.shards}
    count = len(row.shards)
    size = f"{count} shard{'s' if count != 1 else ''}"
    if replicas != {1}:
        size += f" x {replicas.pop()} replicas" if len(replicas) == 1 else " of 1-{} replicas".format(max(replicas))
    title = f"{row.variant}: {imbalance}, {size}"
    if row.max_share is not None:
        title += f", hottest shard {row.max_share * 100:.1f} %"
    if several_sharders:
        title += f" (sharder {row.sharder})"
    return f"{report_label} / {title}" if report_label else title


def _note(groups, labels, rows, utilization, shown):
    """The key of the figure, and on lines of their own what it leaves out, under it."""
    key = ["bars: mean over seeds", "dashed: the even share 1/S"]
    if shown["ci"]:
        key.append("error bars: 95 % CI across seeds")
    if shown["mean"]:
        key.append("white dots: mean latency")
    if shown["replicas"]:
        key.append("black dots: each replica's utilization")
    lines = ["; ".join(key)]
    if not utilization:
        lines.append("no utilization panel: " + "; ".join(sorted({row.no_utilization for _, row in rows})))
    absent = [f"{variant}{f' ({label})' if len(labels) > 1 else ''}" for label, table in zip(labels, groups)
              for variant, _ in table.absent]
    if absent:
        lines.append("without the sharder, not shown: " + ", ".join(dict.fromkeys(absent)))
    return "\n".join(textwrap.fill(line, NOTE_WIDTH, break_on_hyphens=False) for line in lines)
