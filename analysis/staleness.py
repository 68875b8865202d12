"""`plot.py staleness`: the probability that a read of a replicated store is stale against the
time since the write it should have seen, one line per variant (and per store component).

A replicated store (model leader_follower_store or quorum_store) judges every read with its
consistency checker, which counts the reads by their age, the time since the latest write of the
same key acknowledged before the read began: "NAME.reads_at_age[i]" reads, of which
"NAME.stale_at_age[i]" were stale, for i = 0 .. n-1. Bucket i holds the ages in [i w, (i + 1) w),
w the component's `checker.age_bucket` (in the variant's resolved scenario); the last bucket is open-ended
(ages >= (n - 1) w). Counts are summed over the seeds (runs[k].models.NAME.figures; the variant's
means times its runs when the runs lack them), so P(stale | age) = stale / reads, pooled, with a
95 % Wilson score interval; a bucket without reads is skipped. The closed buckets are drawn at
their midpoints, joined, with the interval as a band; the open one as a marker at its lower edge.
The note under the figure gives each variant's overall stale-read fraction
("NAME.stale_read_fraction", the mean over seeds)."""

import math
import re
import textwrap
from dataclasses import dataclass, field

import figure
from report import ReportError, by_component

PLOT = "staleness"
MODELS = ("leader_follower_store", "quorum_store")
Z95 = 1.959963984540054  # the normal quantile of 0.975
LINESTYLES = ("-", "--", "-.", ":")  # one per report
MARKERS = ("o", "s", "^", "D")  # one per store component
NOTE_WIDTH = 140  # characters per line of the note under the figure


def wilson(successes, trials, z=Z95):
    """The Wilson score interval (low, high) of a proportion successes / trials; None without
    trials. It stays inside [0, 1], and is not empty at 0 or 1 successes out of n."""
    if trials <= 0:
        return None
    p = successes / trials
    z2n = z * z / trials
    centre = (p + z2n / 2) / (1 + z2n)
    half = z / (1 + z2n) * math.sqrt(p * (1 - p) / trials + z2n / (4 * trials))
    low = 0.0 if successes <= 0 else max(0.0, centre - half)  # exactly 0 and 1 at the ends
    high = 1.0 if successes >= trials else min(1.0, centre + half)
    return low, high


@dataclass
class Bucket:
    """One age bucket with reads: ages in [low_ms, high_ms) (high_ms None: the open last bucket),
    its reads and stale reads summed over the seeds, P(stale) and its 95 % Wilson interval."""

    index: int
    low_ms: float
    high_ms: float
    reads: float
    stale: float
    probability: float
    interval: tuple

    @property
    def midpoint_ms(self):
        return None if self.high_ms is None else (self.low_ms + self.high_ms) / 2


@dataclass
class Line:
    """One store in one variant."""

    variant: str
    store: str
    model: str
    width_ms: float  # the store's age_bucket
    buckets: list  # the closed buckets with reads, in order of age
    open: Bucket  # the open-ended last bucket, None when it has no reads
    skipped: list = field(default_factory=list)  # indices of the buckets without reads
    runs: int = 1  # seeds pooled
    stale_fraction: float = None  # overall, mean over the seeds; None when unknown or without reads
    reads: float = None  # reads per seed (mean), None when not reported

    @property
    def empty(self):
        return not self.buckets and self.open is None


@dataclass
class Lines:
    """What `staleness` plots of one report: one Line per variant and store, and the (variant,
    store) pairs where a variant has no such store."""

    lines: list
    absent: list


def extract(report, component=None):
    """P(stale | age) of every replicated store of a report (only `component` when given), as
    Lines. Raises ReportError when the report has no store, `component` is none of them, or a
    figure or parameter the plot needs is missing or wrong."""
    return Lines(*by_component(report, PLOT, MODELS, "replicated store", component, _line,
                               plural="replicated stores", needs="one: a component"))


def _bucket_count(figures, store):
    """n: the buckets that have a reads_at_age figure, checked to be 0 .. n-1."""
    pattern = re.compile(re.escape(store) + r"\.reads_at_age\[(\d+)\]")
    indices = {int(m.group(1)) for m in map(pattern.fullmatch, figures.obj) if m}
    if not indices:
        raise ReportError(f'{figures.pointer}: no "{store}.reads_at_age[0]" (the {PLOT} plot needs the '
                          f"store's consistency-checker figures reads_at_age[i] and stale_at_age[i])")
    missing = sorted(set(range(max(indices) + 1)) - indices)
    if missing:
        raise ReportError(f'{figures.pointer}: no "{store}.reads_at_age[{missing[0]}]" (buckets 0 to '
                          f"{max(indices)} have one)")
    return len(indices)


def _counts(figures, store, n):
    """[(reads, stale)] of each bucket from one figures object, with keys "PREFIXreads_at_age[i]"."""
    counts = []
    for i in range(n):
        reads = figures.number(f"{store}reads_at_age[{i}]", minimum=0)
        stale = figures.number(f"{store}stale_at_age[{i}]", minimum=0)
        if stale > reads * (1 + 1e-9):
            raise ReportError(f"{figures.pointer}/{store}stale_at_age[{i}]: {stale:g} stale reads but only "
                              f"{reads:g} reads in the bucket")
        counts.append((reads, min(stale, reads)))
    return counts


def _pooled(variant, figures, store, n):
    """(the counts of each bucket summed over the runs, the number of runs). From each run's
    models.STORE.figures when every run has them, else the variant's means times its runs."""
    runs = variant.items("runs", optional=True)
    per_run = []
    for run in runs:
        models = run.child("models", nullable=True, optional=True)
        model = models.child(store, nullable=True, optional=True) if models is not None else None
        found = model.child("figures", nullable=True, optional=True) if model is not None else None
        if found is None or "reads_at_age[0]" not in found.obj:
            per_run = None
            break
        per_run.append(found)
    if per_run:
        totals = [[0.0, 0.0] for _ in range(n)]
        for found in per_run:
            for total, (reads, stale) in zip(totals, _counts(found, "", n)):
                total[0] += reads
                total[1] += stale
        return [tuple(t) for t in totals], len(per_run)
    count = max(len(runs), 1)
    return [(reads * count, stale * count) for reads, stale in _counts(figures, f"{store}.", n)], count


def _line(name, variant, components, store):
    model = components.child(store).string("model", optional=True) or ""
    config = components.child(store).child("checker")
    width = config.duration_ms("age_bucket", positive=True)
    figures = variant.child("figures")
    n = _bucket_count(figures, store)
    _counts(figures, f"{store}.", n)  # the variant's figures are checked even when the runs give the counts
    declared = config.number("age_buckets", optional=True, minimum=1)
    if declared is not None and declared != n:
        raise ReportError(f"{config.pointer}/age_buckets: {declared:g} buckets, but {figures.pointer} has "
                          f'"{store}.reads_at_age[0]" to [{n - 1}] ({n})')
    counts, runs = _pooled(variant, figures, store, n)
    buckets, skipped, open_bucket = [], [], None
    for i, (reads, stale) in enumerate(counts):
        if reads <= 0:
            skipped.append(i)
            continue
        last = i == n - 1
        bucket = Bucket(i, i * width, None if last else (i + 1) * width, reads, stale, stale / reads,
                        wilson(stale, reads))
        if last:
            open_bucket = bucket
        else:
            buckets.append(bucket)
    fraction = figures.number(f"{store}.stale_read_fraction", nullable=True, optional=True, minimum=0)
    reads = figures.number(f"{store}.reads", nullable=True, optional=True, minimum=0)
    if fraction is None and f"{store}.stale_read_fraction" not in figures.obj and reads:
        stale_reads = figures.number(f"{store}.stale_reads", nullable=True, optional=True, minimum=0)
        fraction = None if stale_reads is None else stale_reads / reads
    return Line(name, store, model, width, buckets, open_bucket, skipped,
                runs, fraction, reads)


# --- drawing ------------------------------------------------------------------------------------


def _ms(value):
    """A time for a label: up to 4 significant digits, without a trailing .0."""
    return f"{value:.4g} ms" if value < 10_000 else f"{value / 1000:.4g} s"


def _percent(fraction):
    if fraction == 0:
        return "0 %"
    return f"{100 * fraction:.3g} %" if fraction >= 0.001 else f"{100 * fraction:.2g} %"


def _name(line, report_label, several_stores):
    name = f"{report_label}: {line.variant}" if report_label else line.variant
    return f"{name} ({line.store})" if several_stores else name


def draw(groups, labels, seeds):
    """groups: one Lines per report, labels: the reports' names. Returns the figure."""
    from matplotlib.lines import Line2D
    from matplotlib.ticker import PercentFormatter

    fig, ax = figure.new_figure()
    all_lines = [line for group in groups for line in group.lines]
    colour = figure.colours(line.variant for line in all_lines)
    several = len(groups) > 1
    stores = list(dict.fromkeys(line.store for line in all_lines))
    several_stores = len(stores) > 1
    tops, right, open_edges, notes, no_reads = [], 0.0, {}, [], []
    for index, (group, label) in enumerate(zip(groups, labels)):
        style = LINESTYLES[index % len(LINESTYLES)]
        for line in group.lines:
            name = _name(line, label if several else None, several_stores)
            c, marker = colour[line.variant], MARKERS[stores.index(line.store) % len(MARKERS)]
            notes.append(_note_item(line, name))
            if line.empty:
                ax.plot([], [], color=c, linestyle=style, label=f"{name} (no reads with an age)")
                no_reads.append(name)
                continue
            xs = [b.midpoint_ms for b in line.buckets]
            ys = [b.probability for b in line.buckets]
            lows = [b.interval[0] for b in line.buckets]
            highs = [b.interval[1] for b in line.buckets]
            ax.plot(xs, ys, color=c, linestyle=style, linewidth=2, marker=marker, markersize=4, label=name,
                    zorder=3, clip_on=False)  # a line at 0 (nothing stale) stays visible
            if len(xs) > 1:
                ax.fill_between(xs, lows, highs, color=c, alpha=0.18, linewidth=0, zorder=2)
            elif xs:
                _error_bar(ax, line.buckets[0], xs[0], c, marker)
            tops.extend(highs)
            right = max([right, *(b.high_ms for b in line.buckets)])
            if line.open is not None:
                b = line.open
                _error_bar(ax, b, b.low_ms, c, ">", hollow=True)
                open_edges.setdefault(b.low_ms, True)
                tops.append(b.interval[1])
                right = max(right, b.low_ms + line.width_ms)
    top = min(1.0, max(tops, default=0.0) * 1.08) or 0.01
    ax.set_ylim(0, max(top, 0.01))
    ax.set_xlim(0, right if right > 0 else 1.0)
    for edge in open_edges:
        ax.axvline(edge, color="0.45", linewidth=1, linestyle=(0, (2, 3)), zorder=1)
        ax.annotate(f"last bucket: ≥ {_ms(edge)}", (edge, 0.5), xycoords=("data", "axes fraction"), xytext=(-3, 0),
                    textcoords="offset points", ha="right", va="center", rotation=90, fontsize=10, color="0.3",
                    bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.8})
    ax.yaxis.set_major_formatter(PercentFormatter(xmax=1.0))
    widths = sorted({line.width_ms for line in all_lines})
    ax.set_xlabel("time since the latest write of the key was acknowledged (ms); points at bucket midpoints, "
                  f"bucket width{'s' if len(widths) > 1 else ''} {', '.join(_ms(w) for w in widths)}")
    ax.set_ylabel("P(stale | time since the write): stale reads / reads")
    ax.set_title(figure.title("Stale reads against the time since the write (95 % Wilson interval)",
                              labels, seeds))
    ax.grid(True, which="major", alpha=0.35)
    handles, texts = ax.get_legend_handles_labels()
    if open_edges:
        handles.append(Line2D([], [], color="0.3", marker=">", markerfacecolor="white", linestyle="none"))
        texts.append("last bucket (open-ended), at its lower edge")
    ax.legend(handles, texts, loc="best", frameon=True, framealpha=0.9)
    note = _note(groups, labels, notes, several)
    if note:
        fig.supxlabel(note, fontsize=10)
    return fig


def _error_bar(ax, bucket, x, colour, marker, hollow=False):
    low, high = bucket.interval
    p = bucket.probability
    ax.errorbar([x], [p], yerr=[[max(p - low, 0)], [max(high - p, 0)]], fmt=marker, color=colour,
                markerfacecolor="white" if hollow else colour, markeredgecolor=colour, markersize=8,
                elinewidth=1.2, capsize=4, zorder=4, clip_on=False)  # a marker at 0 stays whole


def _note_item(line, name):
    if line.stale_fraction is None:
        text = f"{name} no stale-read fraction (no reads)" if line.reads == 0 else f"{name} unknown"
    else:
        text = f"{name} {_percent(line.stale_fraction)}"
        if line.reads is not None:
            text += f" of {line.reads:,.0f} reads" + (" per seed" if line.runs > 1 else "")
    if line.skipped and not line.empty:
        text += f" ({len(line.skipped)} empty bucket{'s' if len(line.skipped) != 1 else ''} skipped)"
    return text


def _note(groups, labels, items, several):
    parts = ["stale reads overall (mean over seeds): " + "; ".join(items)] if items else []
    absent = [f"{variant}{f' ({label})' if several else ''}" for label, group in zip(labels, groups)
              for variant, _ in group.absent]
    if absent:
        parts.append("without a replicated store, not shown: " + ", ".join(dict.fromkeys(absent)))
    return "\n".join(textwrap.fill(part, NOTE_WIDTH) for part in parts)

