"""The look shared by every plot (size, fonts, colours) and saving to PNG, SVG or PDF.

Figures are 10 x 6 in at 150 dpi with text of 10 pt or more, so that a PNG is readable at
100 % zoom. Saving leaves out creation dates so that the same report gives the same bytes.
"""

import matplotlib

matplotlib.use("Agg")  # never open a window; must precede pyplot

import matplotlib.pyplot as plt  # noqa: E402

FORMATS = ("png", "svg", "pdf")
SIZE_IN = (10, 6)
DPI = 150

STYLE = {
    "font.size": 11,
    "axes.titlesize": 13,
    "axes.labelsize": 11,
    "xtick.labelsize": 10,
    "ytick.labelsize": 10,
    "legend.fontsize": 10,
    "figure.titlesize": 14,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.axisbelow": True,
    "svg.hashsalt": "dsim",  # fixed SVG ids: same input, same file
    "svg.fonttype": "none",  # text stays text (searchable, smaller)
    "pdf.fonttype": 42,
}

# Colours of variants, by order of first appearance (matplotlib's tab10, colour-blind friendlier
# than the default cycle's order would be once more than ten are needed: tab20 then repeats).
_PALETTE = [plt.get_cmap("tab10")(i) for i in range(10)] + [plt.get_cmap("tab20")(i) for i in range(1, 20, 2)]


def new_figure(size=SIZE_IN, **subplots):
    """A figure with constrained layout (labels never overlap the axes) and its axes."""
    plt.rcParams.update(STYLE)
    fig, axes = plt.subplots(figsize=size, dpi=DPI, layout="constrained", **subplots)
    return fig, axes


def new_canvas(size=SIZE_IN):
    """The same figure without axes, for plots that lay out sub-figures themselves."""
    plt.rcParams.update(STYLE)
    return plt.figure(figsize=size, dpi=DPI, layout="constrained")


def colours(names):
    """One colour per distinct name, in order of first appearance (same variant, same colour
    in every plot of a comparison)."""
    mapping = {}
    for name in names:
        if name not in mapping:
            mapping[name] = _PALETTE[len(mapping) % len(_PALETTE)]
    return mapping


def save(fig, path, fmt):
    """Writes the figure; raises OSError when the file cannot be written."""
    metadata = {"png": {"Software": None}, "svg": {"Date": None}, "pdf": {"CreationDate": None}}[fmt]
    try:
        fig.savefig(path, format=fmt, dpi=DPI, metadata=metadata)
    finally:
        plt.close(fig)


def title(what, labels, seeds):
    """A figure's title: `what`, the report's label when there is one report, and the seeds:
    "Latency ...: mm1 (2 seeds)" or "... (1-3 seeds)" when the reports differ."""
    known = [s for s in seeds if s is not None]
    runs = ""
    if known:
        low, high = min(known), max(known)
        runs = f" ({low} seed{'s' if high != 1 else ''})" if low == high else f" ({low}-{high} seeds)"
    return f"{what}: {labels[0]}{runs}" if len(labels) == 1 else f"{what}{runs}"


def format_ms(value):
    """A latency for a label: 3 significant digits, at least the whole milliseconds."""
    if value >= 100:
        return f"{value:.0f} ms"
    if value >= 1:
        return f"{value:.3g} ms"
    return f"{value:.2g} ms"


def plain_log_ticks(axis):
    """Log-axis tick labels as plain numbers (0.1, 1, 10, 100) rather than powers of ten."""
    from matplotlib.ticker import FuncFormatter, LogLocator

    axis.set_major_locator(LogLocator(base=10))
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.10g}" if v >= 1 else f"{v:.10g}"))
