"""`plot.py p99`: p99 latency per variant as bars with their 95 % interval across seeds, p50 and
p99.9 as markers; several reports side by side, grouped by report."""

from dataclasses import dataclass

import bars
import figure
from report import variants

LOG_RATIO = 30  # a log latency axis once the largest figure is 30x the smallest
MIN_SLOTS = 5  # the x axis has room for at least this many bars


@dataclass
class Bar:
    variant: str
    p50: float  # None: nothing succeeded
    p99: float
    p999: float
    ci: tuple  # (low, high) of p99, None with fewer than two seeds
    availability: float  # succeeded / requests; latency covers successes only, so show both


def _latency(summary):
    """(p50, p99, p99.9) in ms; None where nothing succeeded. dsim then writes "latency_ms": null
    (docs/report-format.md); an object of nulls means the same."""
    latency = summary.child("latency_ms", nullable=True)
    if latency is None:
        return None, None, None
    p999 = latency.number("p999", nullable=True, optional=True)
    if p999 is None:
        by_percentile = latency.child("percentiles", nullable=True, optional=True)
        if by_percentile is not None:
            p999 = by_percentile.number("99.9", nullable=True, optional=True)
    return latency.number("p50", nullable=True), latency.number("p99", nullable=True), p999


def extract(report):
    """The bars of one report (raises ReportError when a figure is missing)."""
    result = []
    for name, variant in variants(report, "p99"):
        summary = variant.child("summary")
        p50, p99, p999 = _latency(summary)
        ci = None
        ci95 = variant.child("ci95", nullable=True, optional=True)
        if ci95 is not None:
            ci_latency = ci95.child("latency_ms", nullable=True, optional=True)
            ci = ci_latency.interval("p99") if ci_latency is not None else None
        availability = summary.number("availability", nullable=True, optional=True)
        result.append(Bar(name, p50, p99, p999, ci, availability))
    return result


def _use_log(groups):
    values = [v for group in groups for b in group for v in (b.p50, b.p99, b.p999) if v is not None and v > 0]
    return bool(values) and max(values) / min(values) > LOG_RATIO


def draw(groups, labels, seeds, scale="auto"):
    """groups: one list of Bars per report, labels: the reports' names. Returns the figure."""
    fig, ax = figure.new_figure()
    colour = figure.colours(b.variant for group in groups for b in group)
    xs, centres, separators = bars.positions(groups)
    log = scale == "log" or scale == "auto" and _use_log(groups)
    if log:
        ax.set_yscale("log")
        figure.plain_log_ticks(ax.yaxis)
    shown = {"ci": False, "p50": False, "p999": False}
    for group, group_xs in zip(groups, xs):
        for bar, x in zip(group, group_xs):
            _draw_bar(ax, bar, x, colour[bar.variant], shown)
    all_bars = [b for group in groups for b in group]
    ticks = [x for group_xs in xs for x in group_xs]
    names = [b.variant for b in all_bars]
    # The p99 value goes under the variant's name, where it never collides with a marker.
    tick_labels = [b.variant + ("\np99 " + figure.format_ms(b.p99) if b.p99 is not None else "")
                   + (f"\n{b.availability * 100:.2f} % ok" if b.availability is not None else "")
                   for b in all_bars]
    rotate = len(ticks) > 8 or max(len(n) for n in names) * len(ticks) > 90
    if rotate:
        tick_labels = [t.replace("\n", ": ") for t in tick_labels]
        ax.set_xticks(ticks, tick_labels, rotation=25, ha="right", rotation_mode="anchor")
    else:
        ax.set_xticks(ticks, tick_labels)
    spare = max(0.0, (MIN_SLOTS - len(ticks) - len(groups) + 1) / 2)  # keep a few bars from being very wide
    ax.set_xlim(-0.6 - spare, ticks[-1] + 0.6 + spare)
    ax.grid(False, axis="x")
    ax.set_ylabel("latency (ms)" + (", log scale" if log else ""))
    if not log:
        ax.set_ylim(bottom=0)
    ax.margins(y=0.12)
    bars.label_groups(ax, centres, separators, labels)
    fig.suptitle(figure.title("Latency of successful requests by variant", labels, seeds))
    # Above the axes, where it cannot hide a marker.
    ax.legend(handles=_legend_handles(shown), loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=4,
              frameon=False)
    return fig


def _draw_bar(ax, bar, x, colour, shown):
    if bar.p99 is None:
        ax.annotate("no request\nsucceeded", (x, 0), xycoords=("data", "axes fraction"), xytext=(0, 6),
                    textcoords="offset points", ha="center", va="bottom", fontsize=10, color="0.4")
        return
    ax.bar(x, bar.p99, width=0.7, color=colour, alpha=0.85, edgecolor="black", linewidth=0.6)
    if bar.ci is not None:
        low, high = bar.ci
        ax.errorbar(x, bar.p99, yerr=[[max(bar.p99 - low, 0)], [max(high - bar.p99, 0)]], fmt="none",
                    ecolor="black", elinewidth=1.4, capsize=6, capthick=1.4, zorder=3)
        shown["ci"] = True
    if bar.p50 is not None:
        ax.plot(x, bar.p50, marker="o", markersize=8, color="white", markeredgecolor="black", zorder=4)
        shown["p50"] = True
    if bar.p999 is not None:
        ax.plot(x, bar.p999, marker="D", markersize=7, color="black", zorder=4)
        shown["p999"] = True


def _legend_handles(shown):
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles = [Patch(facecolor="0.75", edgecolor="black", label="p99 (mean across seeds)")]
    if shown["ci"]:
        handles.append(Line2D([], [], color="black", marker="|", markersize=10, linewidth=1.4,
                              label="95 % CI of p99 across seeds"))
    if shown["p50"]:
        handles.append(Line2D([], [], linestyle="none", marker="o", markersize=8, color="white",
                              markeredgecolor="black", label="p50"))
    if shown["p999"]:
        handles.append(Line2D([], [], linestyle="none", marker="D", markersize=7, color="black", label="p99.9"))
    return handles


