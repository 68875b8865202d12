"""`plot.py availability`: availability per variant in nines, -log10(1 - a), each bar annotated
with the downtime per 30 days it implies ("99.9 % = 43 min / 30 days")."""

import math
from dataclasses import dataclass

import bars
import figure
from report import ReportError, variants

MONTH_S = 30 * 24 * 3600
MIN_SLOTS = 4  # the axis has room for at least this many bars
DEFAULT_CAP = 6.0  # nines shown for a = 1 when the number of requests is unknown


@dataclass
class Bar:
    variant: str
    availability: float  # None: no request
    ci: tuple  # (low, high) or None
    requests: float  # over all seeds; None when unknown

    @property
    def cap(self):
        """The most nines the run can show: no failure in N requests says a > 1 - 1/N at best."""
        return max(math.log10(self.requests), 1.0) if self.requests and self.requests >= 1 else DEFAULT_CAP


def nines(a, cap=DEFAULT_CAP):
    """-log10(1 - a), at most cap (a = 1 would be infinite)."""
    if a >= 1:
        return cap
    return min(-math.log10(1 - a), cap)


def percent(a):
    """0.999 -> '99.9 %', 0.98537 -> '98.5 %': enough decimals for two figures of 1 - a."""
    if a >= 1:
        return "100 %"
    decimals = max(0, math.ceil(-math.log10((1 - a) * 100)) + 1)
    text = f"{a * 100:.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text} %"


def downtime(a):
    """The downtime per 30 days that availability a allows: '43 min', '26 s', '7.2 h'."""
    seconds = max(0.0, 1 - a) * MONTH_S
    for unit, size in (("days", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size * (2 if unit == "days" else 1):
            value = seconds / size
            return f"{value:.2g} {unit}" if value < 10 else f"{value:.0f} {unit}"
    return f"{seconds:.2g} s" if seconds < 10 else f"{seconds:.0f} s"


def annotation(a):
    return f"{percent(a)} = {downtime(a)} / 30 days"


def extract(report):
    result = []
    seeds = report.seeds()
    for name, variant in variants(report, "availability"):
        summary = variant.child("summary")
        a = summary.number("availability", nullable=True)
        if a is not None and not 0 <= a <= 1:
            raise ReportError(f"{summary.pointer}/availability: expected a number in [0, 1], got {a:g}")
        requests = summary.number("requests", nullable=True, optional=True)
        runs = len(variant.obj.get("runs") or []) or seeds or 1
        ci = None
        ci95 = variant.child("ci95", nullable=True, optional=True)
        if ci95 is not None:
            ci = ci95.interval("availability")
        result.append(Bar(name, a, ci, requests * runs if requests is not None else None))
    return result


def draw(groups, labels, seeds=None):
    fig, ax = figure.new_figure()
    colour = figure.colours(b.variant for group in groups for b in group)
    ys, centres, separators = bars.positions(groups)
    top = 1.0
    capped = False
    texts = []
    for group, group_ys in zip(groups, ys):
        for bar, y in zip(group, group_ys):
            right, text = _draw_bar(ax, bar, y, colour[bar.variant])
            top = max(top, right)
            texts.append((right, text))
            capped = capped or (bar.availability is not None and bar.availability >= 1)
    all_ys = [y for group_ys in ys for y in group_ys]
    names = [b.variant for group in groups for b in group]
    ax.set_yticks(all_ys, names)
    spare = max(0.0, (MIN_SLOTS - len(all_ys) - len(groups) + 1) / 2)  # a few bars are not made very thick
    ax.set_ylim(all_ys[-1] + 0.7 + spare, -0.7 - spare)  # first variant on top
    ax.grid(False, axis="y")
    whole = max(1, math.ceil(top - 0.05))
    bars.label_groups(ax, centres, separators, labels, axis="y")
    title = "Availability by variant" + (f": {labels[0]}" if len(labels) == 1 else "")
    ax.set_title(title)
    notes = ["error bars: 95 % CI across seeds"] if any(_has_ci(b) for g in groups for b in g) else []
    if capped:
        notes.append("hatched: no failure seen, shown at the run's resolution (1 / requests)")
    ax.set_xlabel("availability in nines, -log10(1 - availability)" + ("\n" + "; ".join(notes) if notes else ""))
    _fit(ax, texts, whole)
    return fig


def _fit(ax, texts, whole):
    """Widens the x axis until every annotation ends inside the axes. A text starting at x (data)
    and w pixels wide needs x + w * R / W <= R on an axes W pixels wide; W itself moves a little
    with the tick labels, hence a few rounds."""
    right = whole + 0.5
    for _ in range(4):
        ticks = range(0, min(int(right), whole + 1) + 1)
        ax.set_xlim(0, right)
        ax.set_xticks(ticks, [_tick(n) for n in ticks])
        ax.figure.canvas.draw()  # settles the layout: the axes' width and the texts' sizes
        width = ax.bbox.width
        needed = whole + 0.5
        for x, text in texts:
            share = (text.get_window_extent().width + 12 * ax.figure.dpi / 72) / width
            needed = max(needed, x / (1 - min(share, 0.8)) * 1.02)
        if abs(needed - right) <= 0.01 * right:
            break
        right = needed


def _has_ci(bar):
    return bar.availability is not None and bar.ci is not None and bar.ci[1] > bar.ci[0]


def _tick(n):
    return "0" if n == 0 else f"{n}\n{percent(1 - 10.0 ** -n)}"


def _draw_bar(ax, bar, y, colour):
    """Draws one bar; returns the largest x it used and its annotation."""
    if bar.availability is None:
        return 0, ax.annotate("no requests", (0, y), xytext=(6, 0), textcoords="offset points", va="center",
                              ha="left", fontsize=10, color="0.4")
    cap = bar.cap
    value = nines(bar.availability, cap)
    perfect = bar.availability >= 1
    ax.barh(y, value, height=0.65, color=colour, alpha=0.85, edgecolor="black", linewidth=0.6,
            hatch="//" if perfect else None)
    right = value
    if _has_ci(bar):
        low, high = nines(bar.ci[0], cap), nines(min(bar.ci[1], 1.0), cap)
        ax.errorbar(value, y, xerr=[[max(value - low, 0)], [max(high - value, 0)]], fmt="none", ecolor="black",
                    elinewidth=1.4, capsize=5, capthick=1.4, zorder=3)
        right = max(right, high)
    if perfect:
        text = f"100 % (no failure in {bar.requests:,.0f} requests)" if bar.requests else "100 %"
    else:
        text = annotation(bar.availability)
    return right, ax.annotate(text, (right, y), xytext=(6, 0), textcoords="offset points", va="center",
                              ha="left", fontsize=10, fontweight="bold")
