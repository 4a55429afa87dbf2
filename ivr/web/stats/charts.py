"""Bar charts as geometry for inline SVG (drawn by the ``charts.html`` macros): no chart library.

The numbers are laid out here, in Python, so the templates only place rectangles and labels and
the page needs no script to show a chart.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

__all__ = ["Bar", "ColumnChart", "HBarChart", "HBarRow", "columns", "hbars", "nice_max"]

# A bar's tooltip from (series, category, value): the page writes it in its own language.
Describe = Callable[[str, str, float], str]


def _plain(series: str, category: str, value: float) -> str:
    return f"{series} {category}: {value:g}"


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    value: float
    series: int  # colour index (CSS class ``s<n>``)
    title: str  # tooltip


@dataclass(frozen=True)
class ColumnChart:
    width: int
    height: int
    bars: list[Bar]
    x_labels: list[tuple[float, str]]
    y_ticks: list[tuple[float, str]]
    legend: list[tuple[int, str]]
    empty: bool


@dataclass(frozen=True)
class HBarRow:
    y: float
    label: str
    parts: list[Bar]
    total: float


@dataclass(frozen=True)
class HBarChart:
    width: int
    height: int
    label_width: int
    rows: list[HBarRow]
    legend: list[tuple[int, str]]


def nice_max(value: float) -> int:
    """The axis end for counts: four whole-number ticks of 1, 2, 3 or 5 x 10^n each."""
    per_tick = max(value, 0) / 4
    scale = 1
    while True:
        for step in (1, 2, 3, 5):
            if step * scale >= per_tick:
                return 4 * step * scale
        scale *= 10


def columns(
    categories: Sequence[str],
    series: Mapping[str, Sequence[float]],
    *,
    width: int = 760,
    height: int = 220,
    label_every: int = 1,
    describe: Describe = _plain,
) -> ColumnChart:
    """Grouped columns: one group per category, one column per series."""
    left, bottom, top = 40.0, 24.0, 8.0
    plot_w, plot_h = width - left - 8, height - bottom - top
    names = list(series)
    top_value = nice_max(max((max(v, default=0) for v in series.values()), default=0))
    group_w = plot_w / max(1, len(categories))
    bar_w = max(1.0, (group_w * 0.8) / max(1, len(names)))
    bars: list[Bar] = []
    for i, category in enumerate(categories):
        for j, name in enumerate(names):
            value = series[name][i]
            h = plot_h * value / top_value
            x = left + i * group_w + group_w * 0.1 + j * bar_w
            title = describe(name, category, value)
            bars.append(Bar(x, top + plot_h - h, bar_w, h, value, j, title))
    x_labels = [
        (left + (i + 0.5) * group_w, category)
        for i, category in enumerate(categories)
        if i % label_every == 0
    ]
    ticks = [(top + plot_h * (1 - k / 4), str(top_value * k // 4)) for k in range(5)]
    legend = list(enumerate(names))
    empty = all(v == 0 for values in series.values() for v in values)
    return ColumnChart(width, height, bars, x_labels, ticks, legend, empty)


def hbars(
    rows: Sequence[tuple[str, Sequence[float]]],
    parts: Sequence[str],
    *,
    width: int = 760,
    row_height: int = 18,
    label_width: int = 260,
    describe: Describe = _plain,
) -> HBarChart:
    """Horizontal stacked bars, one row per label, the parts side by side in each bar."""
    plot_w = width - label_width - 60
    top_value = nice_max(max((sum(values) for _, values in rows), default=0))
    out: list[HBarRow] = []
    for i, (label, values) in enumerate(rows):
        y = 4.0 + i * row_height
        x = float(label_width)
        bars: list[Bar] = []
        for k, value in enumerate(values):
            w = plot_w * value / top_value
            if value:
                bars.append(
                    Bar(x, y, w, row_height - 4, value, k, describe(parts[k], label, value))
                )
            x += w
        out.append(HBarRow(y, label, bars, float(sum(values))))
    height = int(8 + len(rows) * row_height)
    return HBarChart(width, height, label_width, out, list(enumerate(parts)))
