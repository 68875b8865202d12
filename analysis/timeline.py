"""`plot.py timeline`: what happened over simulated time in one report. Stacked panels share
the time axis: the injected faults, throughput, errors, p99 and availability per window (one
line per variant, the mean over its seeds), and the state timelines of models with states
(circuit breakers) as coloured bands. Warm-up windows are greyed, faults shaded."""

import math
from dataclasses import dataclass, field

import figure
from report import ReportError, variants

MAX_BANDS = 8  # state rows shown; more are summarised in the panel's title
STATE_COLOURS = {"closed": "#2ca02c", "open": "#d62728", "half_open": "#ff9f1c"}
OTHER_STATE_COLOURS = ("#1f77b4", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")
FAULT_COLOURS = {"crash": "#d62728", "pause": "#ff7f0e", "partition": "#9467bd", "degrade": "#8c564b",
                 "clock": "#17becf", "load": "#e377c2"}
FAULT_DEFAULT_COLOUR = "#7f7f7f"
METRICS = (  # (key in Series, axis label)
    ("throughput", "throughput\n(requests/s)"),
    ("errors", "errors\n(failed/s)"),
    ("p99", "p99 (ms)"),
    ("availability", "availability"),
)


@dataclass
class Series:
    variant: str
    runs: int
    mid_s: list = field(default_factory=list)
    throughput: list = field(default_factory=list)  # NaN where no seed had a value
    errors: list = field(default_factory=list)
    p99: list = field(default_factory=list)
    availability: list = field(default_factory=list)


@dataclass
class Span:
    label: str
    kind: str
    start_s: float
    end_s: float


@dataclass
class Band:
    label: str
    intervals: list  # (start_s, end_s, state)


@dataclass
class Timeline:
    name: str
    series: list
    warmup: list  # (start_s, end_s), merged
    faults: list  # Spans, from the first run
    bands: list
    end_s: float


def _mean(values):
    values = [v for v in values if v is not None]
    return sum(values) / len(values) if values else math.nan


def _windows(run, run_end):
    """[(start, end, warmup, {metric: value or None})] of one run."""
    result = []
    for window in run.items("windows"):
        start, end = window.number("start_s"), window.number("end_s")
        if end <= start:
            raise ReportError(f"{window.pointer}: end_s {end:g} is not after start_s {start:g}")
        failed = window.number("failed", nullable=True)
        result.append((start, end, window.boolean("warmup", optional=True), {
            "throughput": window.number("throughput_per_s", nullable=True),
            "errors": None if failed is None else failed / (end - start),
            "p99": window.number("p99_ms", nullable=True),
            "availability": window.number("availability", nullable=True),
        }))
        run_end[0] = max(run_end[0], end)
    return result


def _merge(intervals):
    merged = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1] + 1e-9:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [tuple(i) for i in merged]


def _series(name, runs, warmup, run_end):
    by_window = {}
    for run in runs:
        for start, end, is_warmup, values in _windows(run, run_end):
            by_window.setdefault((start, end), []).append(values)
            if is_warmup:
                warmup.append((start, end))
    series = Series(name, len(runs))
    for (start, end), samples in sorted(by_window.items()):
        series.mid_s.append((start + end) / 2)
        for key, _ in METRICS:
            getattr(series, key).append(_mean(s[key] for s in samples))
    return series


def _faults(run, end_s):
    spans = []
    for fault in run.items("faults", optional=True):
        kind = fault.string("kind")
        target = fault.string("target", optional=True) or ""
        start = fault.number("start_s")
        end = fault.number("end_s", nullable=True, optional=True)
        spans.append(Span(f"{kind} {target}".strip(), kind, start, end_s if end is None else end))
    return spans


def _bands(name, run):
    bands = []
    for entry in run.items("states", optional=True):
        where = entry.string("node", optional=True) or entry.string("component", optional=True) or ""
        what = entry.string("name", optional=True) or "state"
        intervals = []
        for interval in entry.items("intervals"):
            end = interval.number("end_s", nullable=True, optional=True)
            intervals.append((interval.number("start_s"), end, interval.string("state")))
        bands.append(Band(f"{name}: {where} {what}".strip(), intervals))
    return bands


def extract(report):
    series, warmup, bands, run_end = [], [], [], [0.0]
    first_run = None
    for name, variant in variants(report, "timeline"):
        runs = variant.items("runs")
        if not runs:
            raise ReportError(f"{variant.pointer}/runs: empty (the timeline plot needs at least one run)")
        for run in runs:
            simulated = run.number("simulated_s", optional=True)
            if simulated is not None:
                run_end[0] = max(run_end[0], simulated)
        series.append(_series(name, runs, warmup, run_end))
        first_run = first_run or runs[0]
        with_states = next((run for run in runs if run.obj.get("states")), None)
        if with_states is not None:
            bands.extend(_bands(name, with_states))
    if not any(s.mid_s for s in series):
        raise ReportError("no run has any windows (the timeline plot needs them)")
    end_s = run_end[0]
    for band in bands:  # an open interval lasts until the end of the run
        band.intervals = [(s, end_s if e is None else e, state) for s, e, state in band.intervals]
    return Timeline(report.name, series, _merge(warmup), _faults(first_run, end_s), bands, end_s)


def _fault_colour(kind):
    for prefix, colour in FAULT_COLOURS.items():
        if kind.startswith(prefix):
            return colour
    return FAULT_DEFAULT_COLOUR


def _rows(spans, end_s, chars_per_axis=95):
    """Stacks fault labels in rows so that neither bars nor labels overlap."""
    width_per_char = end_s / chars_per_axis
    row_ends, rows = [], []
    for span in spans:
        right = max(span.end_s, span.start_s + (len(span.label) + 2) * width_per_char)
        for row, row_end in enumerate(row_ends):
            if span.start_s >= row_end:
                row_ends[row] = right
                break
        else:
            row = len(row_ends)
            row_ends.append(right)
        rows.append(row)
    return rows, max(len(row_ends), 1)


def draw(timeline):
    from matplotlib.patches import Patch

    faults = sorted(timeline.faults, key=lambda s: (s.start_s, s.end_s))
    fault_rows, n_fault_rows = _rows(faults, timeline.end_s)
    bands = timeline.bands[:MAX_BANDS]
    ratios = ([0.55 + 0.35 * n_fault_rows] if faults else []) + [3, 2, 3, 2.4] + (
        [0.5 + 0.45 * len(bands)] if bands else [])
    height = 6.5 + 0.35 * (len(ratios) - 4) + 0.2 * max(n_fault_rows - 1, 0) + 0.2 * len(bands)
    fig, axes = figure.new_figure(size=(10, height), nrows=len(ratios), sharex=True,
                                  gridspec_kw={"height_ratios": ratios})
    axes = list(axes)
    fault_ax = axes.pop(0) if faults else None
    band_ax = axes.pop() if bands else None
    colour = figure.colours(s.variant for s in timeline.series)

    for ax, (key, label) in zip(axes, METRICS):
        for series in timeline.series:
            ax.plot(series.mid_s, getattr(series, key), color=colour[series.variant], linewidth=1.6,
                    marker="." if len(series.mid_s) <= 60 else None, markersize=5, label=series.variant)
        ax.set_ylabel(label)
        _shade(ax, timeline, faults)
    _format_metric_axes(dict(zip((k for k, _ in METRICS), axes)))
    if fault_ax is not None:
        _draw_faults(fault_ax, timeline, faults, fault_rows, n_fault_rows)
    if band_ax is not None:
        _draw_bands(band_ax, timeline, bands)
    for ax in ([fault_ax] if fault_ax else []) + axes + ([band_ax] if band_ax else []):
        ax.set_xlim(0, timeline.end_s)
    (band_ax or axes[-1]).set_xlabel("simulated time (s)")

    handles = [axes[0].get_lines()[i] for i in range(len(timeline.series))]
    labels = [s.variant + (f" (mean of {s.runs} seeds)" if s.runs > 1 else "") for s in timeline.series]
    if timeline.warmup:
        handles.append(Patch(facecolor="0.6", alpha=0.35, label="warm-up"))
        labels.append("warm-up (not in the summary)")
    if faults:
        handles.append(Patch(facecolor=FAULT_DEFAULT_COLOUR, alpha=0.18))
        labels.append("fault active")
    top = fault_ax or axes[0]
    top.legend(handles, labels, loc="lower left", bbox_to_anchor=(0, 1.02), ncol=min(len(handles), 4),
               frameon=False, borderaxespad=0)
    fig.suptitle(f"Timeline: {timeline.name}", fontweight="bold")
    return fig


def _shade(ax, timeline, faults):
    for start, end in timeline.warmup:
        ax.axvspan(start, end, facecolor="0.6", alpha=0.35, linewidth=0, zorder=0)
    for span in faults:
        ax.axvspan(span.start_s, span.end_s, facecolor=_fault_colour(span.kind), alpha=0.12, linewidth=0, zorder=0)


def _format_metric_axes(axes):
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    for ax in axes.values():
        ax.set_ylim(bottom=0)
        ax.yaxis.set_major_locator(MaxNLocator(nbins=4, min_n_ticks=2))
    availability = axes["availability"]
    low = min((min((v for v in line.get_ydata() if not math.isnan(v)), default=1.0)
               for line in availability.get_lines()), default=1.0)
    # Show the dips: from just below the lowest window to 100 %.
    floor = max(0.0, 1 - (1 - low) * 1.15) if low < 1 else 0.99
    availability.set_ylim(floor, 1 + (1 - floor) * 0.06)
    digits = 0 if floor <= 0.9 else 1 if floor <= 0.99 else 2
    availability.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v * 100:.{digits}f} %"))


def _draw_faults(ax, timeline, faults, rows, n_rows):
    for start, end in timeline.warmup:
        ax.axvspan(start, end, facecolor="0.6", alpha=0.35, linewidth=0, zorder=0)
    for span, row in zip(faults, rows):
        y = n_rows - 1 - row
        colour = _fault_colour(span.kind)
        ax.broken_barh([(span.start_s, max(span.end_s - span.start_s, timeline.end_s / 400))], (y + 0.15, 0.7),
                       facecolors=colour, alpha=0.35, edgecolor=colour, linewidth=1)
        ax.text(span.start_s, y + 0.5, " " + span.label, ha="left", va="center", fontsize=10, clip_on=True)
    ax.set_ylim(0, n_rows)
    ax.set_yticks([])
    ax.set_ylabel("faults", rotation=0, ha="right", va="center")
    ax.grid(False, axis="y")


def _draw_bands(ax, timeline, bands):
    from matplotlib.patches import Patch

    states = []
    for band in bands:
        for _, _, state in band.intervals:
            if state not in states:
                states.append(state)
    others = iter(OTHER_STATE_COLOURS * (len(states) // len(OTHER_STATE_COLOURS) + 1))
    colour = {s: STATE_COLOURS.get(s) or next(others) for s in states}
    n = len(bands)
    for row, band in enumerate(bands):
        y = n - 1 - row
        ax.broken_barh([(s, e - s) for s, e, _ in band.intervals], (y + 0.1, 0.8),
                       facecolors=[colour[state] for _, _, state in band.intervals], linewidth=0)
    ax.set_ylim(0, n)
    ax.set_yticks([n - 0.5 - row for row in range(n)], [_short(b.label) for b in bands], fontsize=10)
    ax.tick_params(axis="y", length=0)
    ax.grid(False, axis="y")
    hidden = len(timeline.bands) - len(bands)
    title = "model states (first seed)" + (f", {hidden} more not shown" if hidden else "")
    ax.set_title(title, fontsize=10, loc="left", pad=3)
    ax.legend(handles=[Patch(facecolor=colour[s], label=s.replace("_", "-")) for s in states],
              loc="lower right", bbox_to_anchor=(1, 1), ncol=len(states), frameon=False, borderaxespad=0.1,
              handlelength=1.2, columnspacing=1)


def _short(label, limit=28):
    return label if len(label) <= limit else label[: limit - 1] + "…"
