"""Layout of bar charts that compare variants, grouped by report (p99 and availability)."""

GAP = 0.8  # empty space between two reports' groups, in bar widths


def positions(groups):
    """groups: one list of bars per report. Returns (one list of x positions per group,
    the centre of each group, the x of a separator between neighbouring groups)."""
    xs, centres, separators = [], [], []
    x = 0.0
    for index, bars in enumerate(groups):
        if index:
            separators.append(x - 1 + (GAP + 1) / 2)
            x += GAP
        group = [x + i for i in range(len(bars))]
        xs.append(group)
        centres.append((group[0] + group[-1]) / 2 if group else x)
        x += len(bars)
    return xs, centres, separators


def label_groups(ax, centres, separators, labels, axis="x"):
    """Names each group (a report's scenario) beside the variant tick labels and draws a thin
    separator between groups. Does nothing for a single group: the title names it.
    Call it after the variant tick labels are set: it measures them to clear them."""
    if len(labels) < 2:
        return
    line = ax.axvline if axis == "x" else ax.axhline
    for position in separators:
        line(position, color="0.6", linewidth=0.8, linestyle=":")
    if axis == "x":
        secondary = ax.secondary_xaxis("bottom")
        secondary.set_xticks(centres, labels, fontweight="bold")
        secondary.spines["bottom"].set_visible(False)
    else:
        secondary = ax.secondary_yaxis("left")
        secondary.set_yticks(centres, labels, fontweight="bold", rotation=90, va="center")
        secondary.spines["left"].set_visible(False)
    secondary.tick_params(length=0, pad=_tick_label_depth(ax, axis) + 8)
    return secondary


def _tick_label_depth(ax, axis):
    """How far (points) the tick labels of an axis reach away from it."""
    renderer = ax.figure.canvas.get_renderer()
    labels = ax.get_xticklabels() if axis == "x" else ax.get_yticklabels()
    extents = [label.get_window_extent(renderer) for label in labels if label.get_text()]
    if not extents:
        return 0
    depth = max(e.height if axis == "x" else e.width for e in extents)
    return depth * 72 / ax.figure.dpi + 4
