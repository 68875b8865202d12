"""`plot.py budget`: an SLO's error budget over simulated time, with its alerts and the faults.

One panel per SLO of the report (variants[].slos, docs/report-format.md "SLOs and alerts"):
- above, the error budget *remaining* (1 - budget consumed, in % of the run's budget) at the end
  of each report window, one line per variant, the mean over its seeds; it may go below 0 %
  (the budget overspent);
- below, one row per (variant, alert rule): a bar wherever the rule fired, in the first seed's
  run (a page drawn solid, a ticket hatched), and a marker at each firing's start;
- the faults of the first variant's first run shaded over both (the incidents the alerts should
  catch), with their kind and target.
"""

import textwrap
from dataclasses import dataclass, field

import figure
from report import Need, ReportError, variants

PLOT = "budget"
FAULT_COLOUR = "#d62728"
ROW_IN = 0.22  # height of an alert row, inches
NOTE_WIDTH = 130
STYLES = ("-", (0, (6, 3)), (0, (1, 2)), (0, (4, 2, 1, 2)))


@dataclass
class Curve:
    variant: str
    times: list  # window ends, s
    remaining: list  # % of the budget left, None where unknown


@dataclass
class AlertRow:
    variant: str
    rule: str
    severity: str
    firings: list  # (start_s, end_s)


@dataclass
class Panel:
    slo: str
    objective: float
    curves: list = field(default_factory=list)
    rows: list = field(default_factory=list)
    absent: list = field(default_factory=list)  # variants without this SLO


@dataclass
class Budget:
    name: str
    panels: list
    faults: list  # (label, start_s, end_s)
    end_s: float
    seed: object  # the seed whose firings are drawn


def extract(report):
    """Every SLO of the report: its budget curves and alert rows per variant. Raises ReportError
    when no variant has an SLO, or when a field the plot needs is missing or of the wrong type."""
    checked = variants(report, PLOT)
    if not any(isinstance(v.obj.get("slos"), list) and v.obj["slos"] for _, v in checked):
        raise ReportError('no SLO (the budget plot needs a scenario with "slos": '
                          "variants[].slos in the report)")
    panels, end_s, faults, seed = {}, 0.0, None, None
    for name, variant in checked:
        runs = variant.items("runs")
        if not runs:
            raise ReportError(f"{variant.pointer}/runs: no run")
        first = runs[0]
        windows = first.items("windows")
        times = [w.number("end_s") for w in windows]
        end_s = max(end_s, variant.number("duration_s"))
        if faults is None:
            faults = _faults(first, variant.number("duration_s"))
            seed = first.obj.get("seed")
        run_slos = {s.string("name"): s for s in first.items("slos", optional=True)}
        for slo in variant.items("slos", optional=True):
            slo_name = slo.string("name")
            panel = panels.setdefault(slo_name, Panel(slo_name, slo.number("objective")))
            consumed = _consumed(slo, len(times))
            panel.curves.append(Curve(name, times, [None if c is None else 100 * (1 - c) for c in consumed]))
            run_slo = run_slos.get(slo_name)
            if run_slo is None:
                raise ReportError(f'{first.pointer}/slos: no SLO "{slo_name}" (the budget plot needs it)')
            for rule in run_slo.items("rules"):
                firings = []
                for f in rule.items("firings"):
                    end = f.number("end_s", nullable=True)
                    firings.append((f.number("start_s"), variant.number("duration_s") if end is None else end))
                panel.rows.append(AlertRow(name, rule.string("name"), rule.string("severity"), firings))
    for panel in panels.values():
        present = {c.variant for c in panel.curves}
        panel.absent = [name for name, _ in checked if name not in present]
    return Budget(report.name, list(panels.values()), faults or [], end_s, seed)


def _consumed(slo, count):
    values = slo.obj.get("budget_consumed_windows")
    if not isinstance(values, list) or len(values) != count:
        raise ReportError(f"{slo.pointer}/budget_consumed_windows: expected a list of {count} numbers or nulls "
                          "(one per window)")
    holder = Need({str(i): v for i, v in enumerate(values)}, f"{slo.pointer}/budget_consumed_windows", PLOT)
    return [holder.number(str(i), nullable=True) for i in range(count)]


def _faults(run, end_s):
    """(label, start, end) per incident: the records of one fault on several nodes (same kind,
    start and end) are one span, labelled with the component when they cover its nodes."""
    spans = {}
    for fault in run.items("faults", optional=True):
        end = fault.number("end_s", nullable=True, optional=True)
        key = (fault.string("kind"), fault.number("start_s"), end_s if end is None else end)
        spans.setdefault(key, []).append(fault.string("target", optional=True) or "")
    out = []
    for (kind, start, end), targets in spans.items():
        bases = {t.split("[")[0] for t in targets}
        target = bases.pop() if len(targets) > 1 and len(bases) == 1 else ", ".join(targets)
        out.append((f"{kind} {target}".strip(), start, end))
    return out


# --- drawing ------------------------------------------------------------------------------------


def draw(budget):
    """Returns the figure: per SLO, the budget remaining above its alert rows."""
    rows_in = sum(max(len(p.rows), 1) for p in budget.panels) * ROW_IN
    fig = figure.new_canvas((11, 2.0 + 3.2 * len(budget.panels) + rows_in))
    ratios = []
    for p in budget.panels:
        ratios += [3.2, max(len(p.rows), 1) * ROW_IN + 0.3]
    axes = fig.subplots(len(ratios), 1, sharex=True, gridspec_kw={"height_ratios": ratios})
    colour = figure.colours(c.variant for p in budget.panels for c in p.curves)
    for index, panel in enumerate(budget.panels):
        _draw_budget(axes[2 * index], panel, colour, budget)
        _draw_alerts(axes[2 * index + 1], panel, colour, budget)
    axes[-1].set_xlabel("simulated time (s)")
    axes[-1].set_xlim(0, budget.end_s)
    fig.suptitle(figure.title("Error budget remaining and burn-rate alerts", [budget.name], [None]))
    fig.supxlabel(_note(budget), fontsize=10)
    return fig


def _shade(ax, budget, labels):
    for label, start, end in budget.faults:
        ax.axvspan(start, max(end, start + budget.end_s / 500), color=FAULT_COLOUR, alpha=0.12, linewidth=0)
        if labels:
            ax.annotate(label, (start, 1), xycoords=("data", "axes fraction"), xytext=(2, -2),
                        textcoords="offset points", va="top", fontsize=9, color=FAULT_COLOUR)


def _draw_budget(ax, panel, colour, budget):
    _shade(ax, budget, labels=True)
    for number, curve in enumerate(panel.curves):
        xs = [t for t, v in zip(curve.times, curve.remaining) if v is not None]
        ys = [v for v in curve.remaining if v is not None]
        # Dashes of their own: variants that differ only in their alert rules have one curve.
        ax.plot(xs, ys, color=colour[curve.variant], linewidth=1.8, label=curve.variant,
                linestyle=STYLES[number % len(STYLES)])
    ax.axhline(0, color="0.3", linewidth=1, linestyle="--")
    ax.set_ylabel("budget remaining (%)")
    ax.set_title(f"SLO {panel.slo}: {panel.objective * 100:.6g} % good", fontsize=12)
    ax.legend(loc="lower left")


def _draw_alerts(ax, panel, colour, budget):
    _shade(ax, budget, labels=False)
    labels = []
    for y, row in enumerate(panel.rows):
        spans = [(start, max(end - start, budget.end_s / 1000)) for start, end in row.firings]
        hatch = "////" if row.severity == "ticket" else None
        ax.broken_barh(spans, (y - 0.35, 0.7), facecolors=colour[row.variant] if not hatch else "none",
                       edgecolors=colour[row.variant], hatch=hatch, linewidth=0.8)
        ax.plot([s for s, _ in row.firings], [y] * len(row.firings), marker="|", markersize=9, linestyle="none",
                color=colour[row.variant])
        labels.append(f"{row.variant}: {row.rule} ({len(row.firings)})")
    ax.set_yticks(range(len(panel.rows)), labels, fontsize=9)
    ax.set_ylim(len(panel.rows) - 0.5 if panel.rows else 0.5, -0.5)
    ax.grid(False, axis="y")
    if not panel.rows:
        ax.set_yticks([])
        ax.text(0.5, 0.5, "no alert rule", transform=ax.transAxes, ha="center", va="center", color="0.4")


def _note(budget):
    lines = ["lines: mean over seeds of the error budget left at each window's end (below 0: overspent; "
             "variants that differ only in their alerts overlap); "
             f"bars: when each alert rule fired in the first seed's run (seed {budget.seed}; hatched: a ticket, "
             "the count in brackets); shaded: the faults (incidents)"]
    for panel in budget.panels:
        if panel.absent:
            lines.append(f"without the SLO {panel.slo}, not shown: " + ", ".join(panel.absent))
    return "\n".join(textwrap.fill(line, NOTE_WIDTH, break_on_hyphens=False) for line in lines)
