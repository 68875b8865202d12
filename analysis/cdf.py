"""`plot.py cdf`: latency of succeeded requests per variant as a complementary CDF, P(latency > x),
on log-log axes, from each variant's merged histogram. The tail reads off directly: where a
curve crosses 1e-2 is its p99, where it crosses 1e-3 its p99.9."""

from dataclasses import dataclass

import figure
from report import ReportError, variants

GUIDES = ((1e-2, "p99"), (1e-3, "p99.9"))
LINESTYLES = ("-", "--", "-.", ":")


@dataclass
class Curve:
    variant: str
    x_ms: list  # bucket edges, ascending
    ccdf: list  # P(latency > x) at each edge, all > 0
    count: int  # requests in the histogram


def ccdf_points(buckets):
    """[[low, high, count], ...] -> (edges, 1 - F(edge)) with 1 at the lowest edge. Within a
    bucket the curve is drawn straight between the edges; the last edge (1 - F = 0) cannot be
    shown on a log axis and is left out, as are edges at 0 ms."""
    buckets = sorted((b for b in buckets if b[2] > 0), key=lambda b: (b[0], b[1]))
    total = sum(b[2] for b in buckets)
    xs, ys = [], []
    if not total:
        return xs, ys, 0
    if buckets[0][0] > 0:
        xs.append(buckets[0][0])
        ys.append(1.0)
    remaining = total
    for _, high, count in buckets:
        remaining -= count
        if remaining <= 0:
            break
        if high > 0:
            xs.append(high)
            ys.append(remaining / total)
    return xs, ys, int(round(total))


def _first_percentile(curve):
    """The last edge where 1 - F is still >= 0.99 (about the 1st percentile)."""
    return max((x for x, y in zip(curve.x_ms, curve.ccdf) if y >= 0.99), default=curve.x_ms[0])


def extract(report):
    curves = []
    for name, variant in variants(report, "cdf"):
        rows = variant.rows("histogram_ms", 3)
        for index, (low, high, count) in enumerate(rows):
            if low < 0 or high < low or count < 0:
                raise ReportError(
                    f"{variant.pointer}/histogram_ms/{index}: expected [low, high, count] with "
                    f"0 <= low <= high and count >= 0, got [{low:g}, {high:g}, {count:g}]"
                )
        xs, ys, count = ccdf_points(rows)
        curves.append(Curve(name, xs, ys, count))
    return curves


def draw(groups, labels, seeds=None):
    """groups: one list of Curves per report, labels: the reports' names."""
    fig, ax = figure.new_figure()
    colour = figure.colours(c.variant for group in groups for c in group)
    several = len(groups) > 1
    smallest = 1.0
    for index, (curves, label) in enumerate(zip(groups, labels)):
        style = LINESTYLES[index % len(LINESTYLES)]
        for curve in curves:
            name = f"{label}: {curve.variant}" if several else curve.variant
            if not curve.x_ms:
                ax.plot([], [], color=colour[curve.variant], linestyle=style,
                        label=f"{name} (no request succeeded)")
                continue
            ax.plot(curve.x_ms, curve.ccdf, color=colour[curve.variant], linestyle=style, linewidth=2,
                    label=f"{name} (n = {curve.count:,})")
            smallest = min(smallest, min(curve.ccdf))
    ax.set_xscale("log")
    ax.set_yscale("log")
    figure.plain_log_ticks(ax.xaxis)
    # The body left of the 1st percentile is flat at 1 on these axes: start the x axis there.
    firsts = [_first_percentile(c) for group in groups for c in group if c.x_ms]
    if firsts:
        ax.set_xlim(left=min(firsts) / 1.5)
    bottom = min(smallest, GUIDES[-1][0]) / 3
    ax.set_ylim(bottom, 1.5)
    for level, name in GUIDES:
        ax.axhline(level, color="0.35", linewidth=1, linestyle=(0, (4, 3)), zorder=1)
        ax.annotate(name, (1, level), xycoords=("axes fraction", "data"), xytext=(-4, 3),
                    textcoords="offset points", ha="right", va="bottom", fontsize=10, color="0.25",
                    bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.8})
    ax.set_xlabel("latency (ms), log scale")
    ax.set_ylabel("P(latency > x), log scale")
    title = "Latency tail (complementary CDF) of succeeded requests"
    ax.set_title(f"{title}: {labels[0]}" if not several else title)
    ax.grid(True, which="major", alpha=0.35)
    ax.grid(True, which="minor", alpha=0.12)
    ax.legend(loc="lower left", framealpha=0.9)
    return fig
