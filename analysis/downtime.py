"""`plot.py downtime`: how long a Raft group goes without a leader after its leader crashes, as a
CDF over the trials of a leader crasher, one line per variant (Ongaro and Ousterhout's Figure 16:
one line per election-timeout range).

A leader_crasher reports the downtime's quantile function as an indexed figure family,
"NAME.downtime_cdf_ms[i]" for i = 0 .. 100 (the i-th percentile, nearest rank: [0] the shortest
trial, [100] the longest), and its trial count as "NAME.trials". A line joins the points
(downtime_cdf_ms[i], i %): the share of trials whose downtime was at most x. With several seeds,
each percentile is the mean of the seeds' (quantile averaging) and the trials are per seed. A
variant whose crasher had no trial (its percentiles are null) is named in the legend, without a
line. The x axis turns logarithmic when the longest downtime is more than 30x the shortest (the
tail of split votes); dashed guides mark the median and the 99th percentile."""

import re
from dataclasses import dataclass

import figure
from report import ReportError, by_component

PLOT = "downtime"
MODEL = "leader_crasher"
PERCENTILES = 101  # downtime_cdf_ms[0] .. [100]
LOG_RATIO = 30  # a log time axis once the longest downtime is 30x the shortest
GUIDES = ((50, "median"), (99, "p99"))
LINESTYLES = ("-", "--", "-.", ":")


@dataclass
class Line:
    """One crasher in one variant: its downtime at each percentile, or [] without trials."""

    variant: str
    crasher: str
    downtime_ms: list  # PERCENTILES values, non-decreasing; [] when there was no trial
    trials: float  # per seed (the mean over seeds); None when not reported
    unfinished: float  # trials without a new leader by the end of the run; None when not reported


@dataclass
class Lines:
    """What `downtime` plots of one report: one Line per variant and crasher, and the (variant,
    crasher) pairs where a variant has no such crasher."""

    lines: list
    absent: list


def extract(report, component=None):
    """The downtime CDF of every leader crasher of a report (only `component` when given), as
    Lines. Raises ReportError when the report has no leader crasher, `component` is none of
    them, or a percentile is missing, not a number, or smaller than the one before."""
    return Lines(*by_component(report, PLOT, MODEL, "leader_crasher", component,
                               lambda name, variant, _, crasher: _line(name, variant.child("figures"), crasher),
                               plural="leader crashers", needs="one: a component"))


def _line(variant, figures, crasher):
    pattern = re.compile(re.escape(crasher) + r"\.downtime_cdf_ms\[(\d+)\]")
    if not any(pattern.fullmatch(key) for key in figures.obj):
        raise ReportError(f'{figures.pointer}: no "{crasher}.downtime_cdf_ms[0]" (the {PLOT} plot needs the '
                          f"crasher's quantile function, downtime_cdf_ms[0] to [100])")
    values = [figures.number(f"{crasher}.downtime_cdf_ms[{i}]", nullable=True, minimum=0)
              for i in range(PERCENTILES)]
    trials = figures.number(f"{crasher}.trials", nullable=True, optional=True, minimum=0)
    unfinished = figures.number(f"{crasher}.unfinished_trials", nullable=True, optional=True, minimum=0)
    if all(v is None for v in values):
        return Line(variant, crasher, [], trials, unfinished)
    for i, v in enumerate(values):
        if v is None:
            raise ReportError(f"{figures.pointer}/{crasher}.downtime_cdf_ms[{i}]: expected a number (the other "
                              f"percentiles have one), got null")
        if i > 0 and v < values[i - 1]:
            raise ReportError(f"{figures.pointer}/{crasher}.downtime_cdf_ms[{i}]: {v:g} is below the percentile "
                              f"before it ({values[i - 1]:g}): not a quantile function")
    return Line(variant, crasher, values, trials, unfinished)


# --- drawing ------------------------------------------------------------------------------------


def _use_log(groups):
    values = [v for group in groups for line in group.lines for v in line.downtime_ms if v > 0]
    return bool(values) and max(values) / min(values) > LOG_RATIO


def _label(line, report_label, several_crashers, several_seeds):
    name = f"{report_label}: {line.variant}" if report_label else line.variant
    if several_crashers:
        name += f" ({line.crasher})"
    if not line.downtime_ms:
        return f"{name} (no trial)"
    details = []
    if line.trials is not None:
        details.append(f"{line.trials:,.0f} trials" + (" per seed" if several_seeds else ""))
    details.append(f"median {_duration(line.downtime_ms[50])}")
    if line.unfinished:
        details.append(f"{line.unfinished:g} unfinished")
    return f"{name} ({', '.join(details)})"


def _duration(ms):
    """A downtime for a label: ms up to 10 s, then seconds (3 significant digits)."""
    return f"{ms / 1000:.3g} s" if ms >= 10_000 else figure.format_ms(ms)


def draw(groups, labels, seeds, scale="auto"):
    """groups: one Lines per report, labels: the reports' names. Returns the figure."""
    fig, ax = figure.new_figure()
    colour = figure.colours(line.variant for group in groups for line in group.lines)
    several = len(groups) > 1
    several_crashers = len({line.crasher for group in groups for line in group.lines}) > 1
    several_seeds = any(s is not None and s > 1 for s in seeds)
    log = scale == "log" or scale == "auto" and _use_log(groups)
    percent = [100 * i / (PERCENTILES - 1) for i in range(PERCENTILES)]
    for index, (group, label) in enumerate(zip(groups, labels)):
        style = LINESTYLES[index % len(LINESTYLES)]
        for line in group.lines:
            text = _label(line, label if several else None, several_crashers, several_seeds)
            if not line.downtime_ms:
                ax.plot([], [], color=colour[line.variant], linestyle=style, label=text)
                continue
            ax.plot(line.downtime_ms, percent, color=colour[line.variant], linestyle=style, linewidth=2,
                    label=text)
    if log:
        ax.set_xscale("log")
        figure.plain_log_ticks(ax.xaxis)
    else:
        ax.set_xlim(left=0)
    ax.set_ylim(0, 101)
    ax.set_yticks(range(0, 101, 10))
    for level, name in GUIDES:
        ax.axhline(level, color="0.35", linewidth=1, linestyle=(0, (4, 3)), zorder=1)
        ax.annotate(name, (1, level), xycoords=("axes fraction", "data"), xytext=(-4, -3), textcoords="offset points",
                    ha="right", va="top", fontsize=10, color="0.25",
                    bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.8})
    ax.set_xlabel("time without a leader after the leader's crash (ms)" + (", log scale" if log else ""))
    ax.set_ylabel("cumulative percent of trials")
    ax.set_title(_title(labels, seeds))
    ax.grid(True, which="major", alpha=0.35)
    if log:
        ax.grid(True, which="minor", alpha=0.12)
    # Under the axes: inside, it would hide the tail of some line.
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.11), ncol=2, frameon=False)
    absent = [f"{variant}{f' ({label})' if several else ''}" for label, group in zip(labels, groups)
              for variant, _ in group.absent]
    if absent:
        fig.supxlabel("without a leader crasher, not shown: " + ", ".join(dict.fromkeys(absent)), fontsize=10)
    return fig


def _title(labels, seeds):
    known = [s for s in seeds if s is not None]
    runs = ""
    if known:
        low, high = min(known), max(known)
        runs = f" ({low} seed{'s' if high != 1 else ''})" if low == high else f" ({low}-{high} seeds)"
    title = "Time without a leader after a leader crash (CDF over trials)"
    return f"{title}: {labels[0]}{runs}" if len(labels) == 1 else f"{title}{runs}"
