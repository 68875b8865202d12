"""`plot.py detectors`: a failure detector's trade-off, one point per variant (and per
failure_detector component): the mean time it took to detect a crash against its false
suspicions per hour of a watched node's up time, each with its 95 % CI across seeds, and a thin
line up to the longest detection. Faster detection costs mistakes: the points of a scenario's
variants (timeouts, φ thresholds) trace the curve.

The figures are the monitor's: "NAME.mean_detection_ms", "NAME.max_detection_ms",
"NAME.false_suspicions_per_hour", "NAME.crashes" and "NAME.detections" (docs/report-format.md)."""

import textwrap
from dataclasses import dataclass

import figure
from report import by_component

PLOT = "detectors"
MODEL = "failure_detector"
LOG_RATIO = 10  # a log axis once the largest value is 10x the smallest positive one
MARKERS = (("o", "circles"), ("s", "squares"), ("^", "triangles"), ("D", "diamonds"))  # one per report
NOTE_WIDTH = 140  # characters per line of the note under the figure


@dataclass
class Point:
    variant: str
    detector: str  # the failure_detector component
    detection_ms: float  # mean; None: no crash detected
    detection_ci: tuple  # 95 % CI across seeds, None without
    max_detection_ms: float  # None like detection_ms
    false_per_hour: float  # None when null
    false_ci: tuple
    crashes: float  # None when not reported
    detections: float


@dataclass
class Table:
    """What `detectors` plots of one report: its points, and the (variant, detector) pairs where
    a variant has no such detector."""

    points: list
    absent: list


def extract(report, component=None):
    """Every failure detector's point in every variant (only `component` when given), as a Table.
    Raises ReportError when the report has no failure_detector, `component` is none of them, or a
    figure the plot needs is missing or of the wrong type."""
    return Table(*by_component(report, PLOT, MODEL, "failure detector", component,
                               lambda name, variant, _, detector: _point(name, variant, detector)))


def _point(name, variant, detector):
    figures = variant.child("figures")
    intervals = variant.child("figures_ci95", nullable=True, optional=True)
    key = f"{detector}.{{}}".format
    return Point(
        variant=name,
        detector=detector,
        detection_ms=figures.number(key("mean_detection_ms"), nullable=True, minimum=0),
        detection_ci=intervals.interval(key("mean_detection_ms")) if intervals is not None else None,
        max_detection_ms=figures.number(key("max_detection_ms"), nullable=True, optional=True, minimum=0),
        false_per_hour=figures.number(key("false_suspicions_per_hour"), nullable=True, minimum=0),
        false_ci=intervals.interval(key("false_suspicions_per_hour")) if intervals is not None else None,
        crashes=figures.number(key("crashes"), nullable=True, optional=True, minimum=0),
        detections=figures.number(key("detections"), nullable=True, optional=True, minimum=0),
    )


# --- drawing ------------------------------------------------------------------------------------


def draw(groups, labels, seeds):
    """groups: one Table per report, labels: the reports' names. Returns the figure."""
    fig, ax = figure.new_figure()
    several_reports = len(labels) > 1
    several_detectors = len({p.detector for table in groups for p in table.points}) > 1
    colour = figure.colours(p.variant for table in groups for p in table.points)
    drawn, undetected, shown = [], [], {"ci": False, "max": False}
    for number, (label, table) in enumerate(zip(labels, groups)):
        marker = MARKERS[number % len(MARKERS)][0]
        for p in table.points:
            name = _name(p, label if several_reports else None, several_detectors)
            if p.detection_ms is None or p.false_per_hour is None:
                undetected.append(name)
                continue
            _draw_point(ax, p, colour[p.variant], marker, shown)
            drawn.append((p, name))
    xs = [v for p, _ in drawn for v in (p.false_per_hour, *(p.false_ci or ()))]
    ys = [v for p, _ in drawn for v in (p.detection_ms, p.max_detection_ms, *(p.detection_ci or ()))
          if v is not None]
    _x_axis(ax, xs)
    _y_axis(ax, ys)
    for p, name in drawn:
        ax.annotate(name, (p.false_per_hour, p.detection_ms), xytext=(6, 5), textcoords="offset points",
                    fontsize=10, color=colour[p.variant])
    if not drawn:
        ax.text(0.5, 0.5, "no variant detected a crash", transform=ax.transAxes, ha="center", va="center",
                fontsize=11, color="0.4")
    ax.set_xlabel("false suspicions per hour of a watched node's up time")
    ax.set_ylabel("mean detection time (ms)")
    ax.set_title(figure.title("Failure detection: detection time against false suspicions", labels, seeds))
    note = _note(groups, labels, undetected, shown)
    if note:
        fig.supxlabel(note, fontsize=10)
    return fig


def _name(point, report_label, several_detectors):
    name = point.variant + (f" ({point.detector})" if several_detectors else "")
    return f"{report_label} / {name}" if report_label else name


def _draw_point(ax, p, colour, marker, shown):
    if p.max_detection_ms is not None and p.max_detection_ms > p.detection_ms:
        ax.plot([p.false_per_hour] * 2, [p.detection_ms, p.max_detection_ms], color=colour, linewidth=1,
                alpha=0.6, zorder=2)
        ax.plot(p.false_per_hour, p.max_detection_ms, marker="_", markersize=10, color=colour, zorder=2)
        shown["max"] = True
    xerr = _err(p.false_per_hour, p.false_ci)
    yerr = _err(p.detection_ms, p.detection_ci)
    if xerr is not None or yerr is not None:
        ax.errorbar(p.false_per_hour, p.detection_ms, xerr=xerr, yerr=yerr, fmt="none", ecolor="black",
                    elinewidth=1, capsize=3, zorder=3)
        shown["ci"] = True
    ax.plot(p.false_per_hour, p.detection_ms, marker=marker, markersize=9, color=colour, markeredgecolor="black",
            linestyle="none", zorder=4)


def _err(value, ci):
    if ci is None or ci[1] <= ci[0]:
        return None
    return [[max(value - ci[0], 0)], [max(ci[1] - value, 0)]]


def _x_axis(ax, values):
    """Mistakes per hour: from 0 (a long timeout) to thousands (a trigger-happy threshold), so a
    symmetric log axis, linear below 1, once they span more than LOG_RATIO."""
    from matplotlib.ticker import FuncFormatter

    top = max(values, default=1.0)
    positive = [v for v in values if v > 0]
    if positive and top / max(min(positive), 1.0) > LOG_RATIO:
        ax.set_xscale("symlog", linthresh=1.0, linscale=0.5)
        ax.set_xlim(-0.2, top * 3)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.10g}"))
    else:
        ax.set_xlim(-0.05 * max(top, 1.0), max(top, 1.0) * 1.25)


def _y_axis(ax, values):
    positive = [v for v in values if v > 0]
    if positive and max(positive) / min(positive) > LOG_RATIO:
        ax.set_yscale("log")
        figure.plain_log_ticks(ax.yaxis)
        ax.set_ylim(min(positive) / 1.5, max(positive) * 1.5)
    else:
        ax.set_ylim(0, max(values, default=1.0) * 1.2 or 1.0)


def _note(groups, labels, undetected, shown):
    """The key of the figure, and on lines of their own what it leaves out."""
    key = ["points: means over seeds"]
    if shown["ci"]:
        key.append("error bars: 95 % CI across seeds")
    if shown["max"]:
        key.append("thin line: up to the longest detection")
    if len(labels) > 1:
        key.append(", ".join(f"{MARKERS[i % len(MARKERS)][1]}: {label}" for i, label in enumerate(labels)))
    lines = ["; ".join(key)]
    if undetected:
        lines.append("no crash detected (or no value), not shown: " + ", ".join(undetected))
    absent = [f"{variant}{f' ({label})' if len(labels) > 1 else ''}" for label, table in zip(labels, groups)
              for variant, _ in table.absent]
    if absent:
        lines.append("without the failure detector, not shown: " + ", ".join(dict.fromkeys(absent)))
    return "\n".join(textwrap.fill(line, NOTE_WIDTH, break_on_hyphens=False) for line in lines)

