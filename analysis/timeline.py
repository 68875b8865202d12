"""`plot.py timeline`: what happened over simulated time in one report. Stacked panels share
the time axis: the injected faults, throughput, errors, p99 and availability per window (one
line per variant, the mean over its seeds), attempts sent per second (offered load, retries
included: where retry storms and synchronized retry waves show), then the models' series (gauges such as a
server's queue, a snapshot at each window's end; at most MAX_SERIES panels, those that vary), and the state
timelines of models with states (circuit breakers) as coloured bands. Warm-up windows are greyed, faults
shaded."""

import math
from dataclasses import dataclass, field

import figure
from report import ReportError, describe, variants

MAX_BANDS = 8  # state rows shown; more are summarised in the panel's title
MAX_SERIES = 6  # model series panels shown; the others are counted in a note
STATE_COLOURS = {"closed": "#2ca02c", "open": "#d62728", "half_open": "#ff9f1c",
                 "trusted": "#2ca02c", "suspected": "#d62728", "unmonitored": "#7f7f7f"}
OTHER_STATE_COLOURS = ("#1f77b4", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")
FAULT_COLOURS = {"crash": "#d62728", "pause": "#ff7f0e", "partition": "#9467bd", "degrade": "#8c564b",
                 "clock": "#17becf", "load": "#e377c2"}
FAULT_DEFAULT_COLOUR = "#7f7f7f"
NO_VALUE = {  # what a panel says of a variant that has no point in it at all
    "p99": "no successful request",
    "availability": "no request ended",
}
AVAILABILITY_STEPS = (0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.25)
METRICS = (  # (key in Series, axis label)
    ("attempts", "attempts sent\n(per s)"),
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
    end_s: list = field(default_factory=list)  # where the model series' snapshots were taken
    attempts: list = field(default_factory=list)  # offered load, retries included
    throughput: list = field(default_factory=list)  # NaN where no seed had a value
    errors: list = field(default_factory=list)
    p99: list = field(default_factory=list)
    availability: list = field(default_factory=list)
    model: dict = field(default_factory=dict)  # "component.series": a value per window (NaN: none)


@dataclass
class Span:
    label: str
    kind: str
    start_s: float
    end_s: float


@dataclass
class Band:
    variant: str
    where: str  # node (or component)
    what: str  # the state machine's name, e.g. circuit_breaker
    intervals: list  # (start_s, end_s, state)


@dataclass
class Timeline:
    name: str
    series: list
    warmup: list  # (start_s, end_s), merged
    faults: list  # Spans, from the first run
    bands: list
    end_s: float
    model_series: list = field(default_factory=list)  # every "component.series", in report order


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
            "attempts": window.number("attempts_per_s", nullable=True, optional=True),
            "throughput": window.number("throughput_per_s", nullable=True),
            "errors": None if failed is None else failed / (end - start),
            "p99": window.number("p99_ms", nullable=True),
            "availability": window.number("availability", nullable=True),
        }))
        run_end[0] = max(run_end[0], end)
    for name, values in _run_series(run, len(result)).items():
        for window, value in zip(result, values):
            window[3][SERIES_KEY + name] = value
    return result


SERIES_KEY = "series:"  # a model series' key among a window's values


def _run_series(run, windows):
    """{"component.series": [value or None per window]} of one run; {} for a report written
    before series existed."""
    found = run.obj.get("series")
    if found is None:
        return {}
    where = f"{run.pointer}/series"
    if not isinstance(found, dict):
        raise ReportError(f"{where}: expected an object, got {describe(found)}")
    result = {}
    for name, values in found.items():
        if not isinstance(values, list) or len(values) != windows:
            raise ReportError(f"{where}/{name}: expected a list of {windows} numbers or nulls "
                              f"(one per window), got {describe(values)}")
        for index, value in enumerate(values):
            if value is not None and not _is_number(value):
                raise ReportError(f"{where}/{name}/{index}: expected a number or null, got {describe(value)}")
        result[name] = [None if v is None else float(v) for v in values]
    return result


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


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
    names = list(dict.fromkeys(k for samples in by_window.values() for s in samples for k in s
                               if k.startswith(SERIES_KEY)))
    for (start, end), samples in sorted(by_window.items()):
        series.mid_s.append((start + end) / 2)
        series.end_s.append(end)
        for key, _ in METRICS:
            getattr(series, key).append(_mean(s[key] for s in samples))
        for key in names:
            series.model.setdefault(key[len(SERIES_KEY):], []).append(_mean(s.get(key) for s in samples))
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
        bands.append(Band(name, where, what, intervals))
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
    model_series = list(dict.fromkeys(name for one in series for name in one.model))
    return Timeline(report.name, series, _merge(warmup), _faults(first_run, end_s), bands, end_s, model_series)


def _changes(band):
    return len({state for _, _, state in band.intervals}) > 1


def _some_bands(bands):
    """At most MAX_BANDS rows, shared fairly between the variants that have states; within a
    variant, the state machines that changed state come first (a failure detector's suspected
    node before the nodes it always trusted), each group in the report's order."""
    variants = list(dict.fromkeys(b.variant for b in bands))
    per_variant = max(1, MAX_BANDS // max(len(variants), 1))
    chosen = []
    for v in variants:
        own = [b for b in bands if b.variant == v]
        chosen += sorted(own, key=lambda b: not _changes(b))[:per_variant]  # stable
    return chosen[:MAX_BANDS]


def _varies(timeline, name):
    values = [v for s in timeline.series for v in s.model.get(name, ()) if not math.isnan(v)]
    return bool(values) and min(values) != max(values)


def _some_series(timeline):
    """The model series drawn: at most MAX_SERIES of those that vary (in some variant, between
    windows or between variants), in report order; a constant one (a pool that never grows)
    says nothing over time."""
    return [name for name in timeline.model_series if _varies(timeline, name)][:MAX_SERIES]


def _fault_colour(kind):
    for prefix, colour in FAULT_COLOURS.items():
        if kind.startswith(prefix):
            return colour
    return FAULT_DEFAULT_COLOUR


def _rows(spans, end_s, chars_per_axis=90):
    """Places each fault's bar and label in a row so that none overlap: [(row, label x, align)]
    and the number of rows. A label that would run past the end is right-aligned to its bar."""
    width_per_char = end_s / chars_per_axis
    row_ends, placed = [], []
    for span in spans:
        width = (len(span.label) + 2) * width_per_char
        left, x, align = span.start_s, span.start_s, "left"
        if span.start_s + width > end_s:
            left, x, align = min(span.start_s, max(0.0, span.end_s - width)), span.end_s, "right"
        right = max(span.end_s, left + width)
        row = next((r for r, r_end in enumerate(row_ends) if left >= r_end), len(row_ends))
        if row == len(row_ends):
            row_ends.append(right)
        row_ends[row] = right
        placed.append((row, x, align))
    return placed, max(len(row_ends), 1)


def draw(timeline):
    from matplotlib.patches import Patch

    faults = sorted(timeline.faults, key=lambda s: (s.start_s, s.end_s))
    fault_places, n_fault_rows = _rows(faults, timeline.end_s)
    bands = _some_bands(timeline.bands)
    shown = _some_series(timeline)
    ratios = ([0.55 + 0.35 * n_fault_rows] if faults else []) + [2.4, 2.4, 2, 2.4, 2.4] + [2.0] * len(shown) + (
        [0.5 + 0.45 * len(bands)] if bands else [])
    height = (7.5 + 0.35 * (len(ratios) - 5 - len(shown)) + 1.3 * len(shown) + 0.2 * max(n_fault_rows - 1, 0)
              + 0.2 * len(bands))
    fig, axes = figure.new_figure(size=(10, height), nrows=len(ratios), sharex=True,
                                  gridspec_kw={"height_ratios": ratios})
    axes = list(axes)
    fault_ax = axes.pop(0) if faults else None
    band_ax = axes.pop() if bands else None
    series_axes = [axes.pop(len(METRICS)) for _ in shown]
    colour = figure.colours(s.variant for s in timeline.series)

    for ax, (key, label) in zip(axes, METRICS):
        for series in timeline.series:
            ax.plot(series.mid_s, getattr(series, key), color=colour[series.variant], linewidth=1.6,
                    marker="." if len(series.mid_s) <= 60 else None, markersize=5, label=series.variant)
        ax.set_ylabel(label)
        _shade(ax, timeline, faults)
        _note_empty(ax, key, timeline.series, colour)
    _format_metric_axes(dict(zip((k for k, _ in METRICS), axes)))
    for ax, name in zip(series_axes, shown):
        _draw_series(ax, timeline, faults, name, colour)
    _note_hidden_series(fig, series_axes, timeline, shown)
    if fault_ax is not None:
        _draw_faults(fault_ax, timeline, faults, fault_places, n_fault_rows)
    if band_ax is not None:
        _draw_bands(band_ax, timeline, bands)
    for ax in ([fault_ax] if fault_ax else []) + axes + series_axes + ([band_ax] if band_ax else []):
        ax.set_xlim(0, timeline.end_s)
    (band_ax or (series_axes or axes)[-1]).set_xlabel("simulated time (s)")

    handles = [axes[0].get_lines()[i] for i in range(len(timeline.series))]
    labels = [s.variant + (f" (mean of {s.runs} seeds)" if s.runs > 1 else "") for s in timeline.series]
    if timeline.warmup:
        handles.append(Patch(facecolor="0.6", alpha=0.35, label="warm-up"))
        labels.append("warm-up (not in the summary)")
    top = fault_ax or axes[0]
    top.legend(handles, labels, loc="lower center", bbox_to_anchor=(0.5, 1.02), ncol=_columns(labels),
               frameon=False, borderaxespad=0, columnspacing=1.5)
    fig.suptitle(f"Timeline: {timeline.name}", fontweight="bold")
    return fig


def _draw_series(ax, timeline, faults, name, colour):
    """One model series: a line per variant, the mean over its seeds of each window's value,
    drawn at the window's end (a snapshot taken there, not a window's aggregate)."""
    from matplotlib.ticker import MaxNLocator

    for series in timeline.series:
        values = series.model.get(name, [math.nan] * len(series.mid_s))
        ax.plot(series.end_s, values, color=colour[series.variant], linewidth=1.6,
                marker="." if len(series.mid_s) <= 60 else None, markersize=5, label=series.variant)
    component, _, gauge = name.rpartition(".")
    ax.set_ylabel(f"{gauge}\n({component})" if component else gauge)
    _shade(ax, timeline, faults)
    values = [v for s in timeline.series for v in s.model.get(name, ()) if not math.isnan(v)]
    if min(values) >= 0:
        ax.set_ylim(0, None)
    # A count (a queue, workers) gets whole ticks, not 1.5 workers.
    ax.yaxis.set_major_locator(MaxNLocator(nbins=4, min_n_ticks=2, integer=all(v == int(v) for v in values)))
    missing = [s for s in timeline.series if all(math.isnan(v) for v in s.model.get(name, [math.nan]))]
    for row, s in enumerate(missing):
        ax.annotate(f"{s.variant}: no value", (0, 1), xycoords="axes fraction", xytext=(6, -4 - 14 * row),
                    textcoords="offset points", ha="left", va="top", fontsize=10, color=colour[s.variant],
                    fontweight="bold")


def _note_hidden_series(fig, series_axes, timeline, shown):
    """Says how many model series are not drawn: constant ones, and those beyond MAX_SERIES."""
    constant = sum(not _varies(timeline, name) for name in timeline.model_series)
    beyond = len(timeline.model_series) - constant - len(shown)
    hidden = ", ".join(part for part in (f"{beyond} more" if beyond else "", f"{constant} constant" if constant else "")
                       if part)
    if series_axes:
        note = "model series, snapshots at window ends" + (f" ({hidden}: not shown)" if hidden else "")
        series_axes[0].set_title(note, fontsize=10, loc="left", pad=3)
    elif hidden:
        fig.text(0.01, 0.002, f"model series: {hidden}, not shown", fontsize=10, ha="left", va="bottom")


def _columns(labels, width_chars=110):
    """As many legend columns as fit across the axes (keeps the axes from being squeezed)."""
    for columns in range(min(len(labels), 4), 1, -1):
        rows = [labels[i:i + columns] for i in range(0, len(labels), columns)]
        widest = [max(len(row[c]) for row in rows if c < len(row)) + 6 for c in range(columns)]
        if sum(widest) <= width_chars:
            return columns
    return 1


def _shade(ax, timeline, faults):
    for start, end in timeline.warmup:
        ax.axvspan(start, end, facecolor="0.6", alpha=0.35, linewidth=0, zorder=0)
    for span in faults:
        ax.axvspan(span.start_s, span.end_s, facecolor=_fault_colour(span.kind), alpha=0.12, linewidth=0, zorder=0)


def _note_empty(ax, key, series, colour):
    """Names, in its colour, each variant without a single point in this panel (e.g. no request
    succeeded, so no p99): a missing line must not read as a variant left out of the plot."""
    if key not in NO_VALUE:
        return
    empty = [s for s in series if all(math.isnan(v) for v in getattr(s, key))]
    for row, s in enumerate(empty):
        ax.annotate(f"{s.variant}: {NO_VALUE[key]}", (0, 1), xycoords="axes fraction", xytext=(6, -4 - 14 * row),
                    textcoords="offset points", ha="left", va="top", fontsize=10, color=colour[s.variant],
                    fontweight="bold", bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none",
                                             "alpha": 0.8})


def _format_metric_axes(axes):
    from matplotlib.ticker import FixedLocator, FuncFormatter, MaxNLocator

    for ax in axes.values():
        highest = max((max((v for v in line.get_ydata() if not math.isnan(v)), default=0.0)
                       for line in ax.get_lines()), default=0.0)
        ax.set_ylim(0, None if highest > 0 else 1)  # all zero (no errors): 0 to 1, not 0 to 0.05
        ax.yaxis.set_major_locator(MaxNLocator(nbins=4, min_n_ticks=2))
    availability = axes["availability"]
    low = min((min((v for v in line.get_ydata() if not math.isnan(v)), default=1.0)
               for line in availability.get_lines()), default=1.0)
    # Show the dips: from just below the lowest window to 100 %, with a tick at 100 %.
    floor = max(0.0, 1 - (1 - low) * 1.15) if low < 1 else 0.99
    availability.set_ylim(floor, 1 + (1 - floor) * 0.06)
    step = next((s for s in AVAILABILITY_STEPS if (1 - floor) / s <= 4), 0.25)
    ticks = [1 - k * step for k in range(int((1 - floor) / step + 1e-9) + 1)]
    digits = max(0, math.ceil(-math.log10(step * 100) - 1e-9))
    availability.yaxis.set_major_locator(FixedLocator(ticks))
    availability.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v * 100:.{digits}f} %"))


def _draw_faults(ax, timeline, faults, places, n_rows):
    for start, end in timeline.warmup:
        ax.axvspan(start, end, facecolor="0.6", alpha=0.35, linewidth=0, zorder=0)
    for span, (row, x, align) in zip(faults, places):
        y = n_rows - 1 - row
        colour = _fault_colour(span.kind)
        ax.broken_barh([(span.start_s, max(span.end_s - span.start_s, timeline.end_s / 400))], (y + 0.15, 0.7),
                       facecolors=colour, alpha=0.35, edgecolor=colour, linewidth=1)
        label = f" {span.label}" if align == "left" else f"{span.label} "
        ax.text(x, y + 0.5, label, ha=align, va="center", fontsize=10, clip_on=True)
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
    whats = {b.what for b in bands}
    one_what = len(whats) == 1
    labels = [f"{b.variant}: {b.where}" + ("" if one_what else f" {b.what}") for b in bands]
    ax.set_yticks([n - 0.5 - row for row in range(n)], [_short(label) for label in labels], fontsize=10)
    ax.tick_params(axis="y", length=0)
    ax.grid(False, axis="y")
    hidden = len(timeline.bands) - len(bands)
    title = (f"{next(iter(whats))} state" if one_what else "model states") + " (first seed with states)"
    ax.set_title(title + (f", {hidden} more not shown" if hidden else ""), fontsize=10, loc="left", pad=3)
    ax.legend(handles=[Patch(facecolor=colour[s], label=s.replace("_", "-")) for s in states],
              loc="lower right", bbox_to_anchor=(1, 1), ncol=len(states), frameon=False, borderaxespad=0.1,
              handlelength=1.2, columnspacing=1)


def _short(label, limit=24):
    return label if len(label) <= limit else label[: limit - 1] + "…"
