"""Progress plots for the clinic: inline SVG for pages, PNG for the PDF report.

Each plot has one function that builds a matplotlib ``Figure`` (object API only: pyplot keeps global state and
is not thread-safe) and two thin output functions, ``*_svg`` and ``*_png``.

The SVG is made to be pasted into a page (:func:`exohub.web.clinic.inline_svg.inline_svg`: scalable, CSP-safe,
``role="img"`` with a description that names the plot and its latest value); its text is ``<text>`` (searchable,
read by screen readers), at least 12 units high in the ``viewBox``; and it is deterministic: the same input gives
the same bytes (no date, no creator, ids salted with a hash of the input, so two plots on one page do not share
ids). What the plots draw is :mod:`exohub.web.clinic.plot_data`.

matplotlib reads ``rcParams`` (font sizes, SVG options) while a figure is built and saved; ``rcParams`` is
process-global, so plots are rendered one at a time under a lock.
"""

import datetime as dt
import hashlib
import io
import itertools
import math
import textwrap
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from typing import TYPE_CHECKING, Any

import matplotlib as mpl
import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure

from exohub._utils._checks import check_items
from exohub.web.clinic.inline_svg import inline_svg
from exohub.web.clinic.plot_data import (
    CYCLE_POINTS,
    CycleCurve,
    TimePoint,
    TimeSeries,
    format_day,
    format_quantity,
    sorted_points,
)

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

__all__ = [
    "PNG_CYCLE_SIZE_IN",
    "PNG_SIZE_IN",
    "cycle_curves_png",
    "cycle_curves_svg",
    "session_bars_png",
    "session_bars_svg",
    "timeline_png",
    "timeline_svg",
]

# Okabe & Ito (2008), distinguishable with every common colour-vision deficiency.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
_GREY = "#555555"

SVG_SIZE_IN = (6.4, 3.4)
SVG_CYCLE_SIZE_IN = (6.4, 4.2)
PNG_SIZE_IN = (4.6, 3.1)
"""A half-width plot on A4 (drawn about 85 mm wide, so 12 pt text prints at about 9 pt)."""
PNG_CYCLE_SIZE_IN = (7.0, 3.6)
"""A full-width plot on A4."""

_EPOCH = dt.date(1970, 1, 1)
_RC: "dict[RcKeyType, Any]" = {
    "date.epoch": _EPOCH.isoformat(),
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans"],
    "font.size": 12,
    "axes.titlesize": 13,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.labelsize": 12,
    "xtick.labelsize": 12,
    "ytick.labelsize": 12,
    "legend.fontsize": 12,
    "legend.frameon": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.grid.axis": "y",
    "grid.color": "#dddddd",
    "grid.linewidth": 0.8,
    "axes.axisbelow": True,
    "svg.fonttype": "none",
}
_RENDER_LOCK = threading.Lock()


def _latest_text(title: str, unit: str, points: Sequence[TimePoint], noun: str) -> str:
    if not points:
        return f"{title}: no measurements yet"
    ordered = sorted_points(points)
    latest = ordered[-1]
    span = f"{len(ordered)} {noun}{'s' if len(ordered) != 1 else ''}"
    if len(ordered) > 1:
        span += f" from {format_day(ordered[0].on)} to {format_day(latest.on)}"
    return f"{title}: latest {format_quantity(latest.value, unit)} on {format_day(latest.on)} ({span})"


def _cycle_text(title: str, curves: Sequence[CycleCurve], compare: Sequence[CycleCurve]) -> str:
    if not curves and not compare:
        return f"{title}: no gait-cycle curves yet"
    over = "" if "over the gait cycle" in title else " over the gait cycle"
    text = f"{title}{over}, mean and SD"
    if curves:
        text += ": " + ", ".join(curve.label for curve in curves)
    if compare:
        text += "; dashed for comparison: " + ", ".join(curve.label for curve in compare)
    return text


# --- figures -----------------------------------------------------------------------------------------------------


def _day_number(day: dt.date) -> float:
    """Matplotlib's date number: days since ``_EPOCH`` (set as ``date.epoch`` while plotting)."""
    return float((day - _EPOCH).days)


def _new_axes(
    size_in: tuple[float, float], title: str, *, right_in: float = 0.3, bottom_in: float = 0.62
) -> tuple[Figure, Axes]:
    """A figure with one axes placed by fixed margins (in inches) and the title, wrapped, at its top left.

    Fixed margins instead of matplotlib's constrained layout halve the rendering time; they are sized for
    12 pt tick labels of up to five characters and a rotated unit label.
    """
    width_in, height_in = size_in
    if not (2.5 <= width_in <= 20 and 2 <= height_in <= 20):
        raise ValueError(f"size_in must be (width, height) in inches, 2.5-20 wide and 2-20 high, got {size_in!r}.")
    lines = textwrap.wrap(title, width=max(12, int(width_in * 72 / (_RC["axes.titlesize"] * 0.62)))) or [""]
    top_in = 0.16 + 0.24 * len(lines)
    figure = Figure(figsize=size_in)
    figure.subplots_adjust(
        left=0.95 / width_in, right=1 - right_in / width_in, top=1 - top_in / height_in, bottom=bottom_in / height_in
    )
    figure.text(
        0.1 / width_in,
        1 - 0.1 / height_in,
        "\n".join(lines),
        ha="left",
        va="top",
        fontsize=_RC["axes.titlesize"],
        fontweight="bold",
        linespacing=1.25,
    )
    axes = figure.add_subplot()
    axes.yaxis.set_major_locator(mpl.ticker.MaxNLocator(nbins=5, steps=[1, 2, 5, 10]))
    return figure, axes


def _show_empty(axes: Axes, message: str) -> None:
    axes.text(0.5, 0.5, message, transform=axes.transAxes, ha="center", va="center", color=_GREY)
    axes.set_xticks([])
    axes.set_yticks([])
    axes.grid(visible=False)


def _date_axis(axes: Axes) -> None:
    axes.xaxis_date()
    locator = AutoDateLocator(minticks=3, maxticks=6)  # type: ignore[no-untyped-call]
    axes.xaxis.set_major_locator(locator)
    formatter = ConciseDateFormatter(  # type: ignore[no-untyped-call]
        locator, offset_formats=["", "%Y", "%b %Y", "%d %b %Y", "%d %b %Y", "%d %b %Y %H:%M"]
    )
    axes.xaxis.set_major_formatter(formatter)


def _value_label(unit: str, higher_is_better: bool | None = None) -> str:
    direction = "" if higher_is_better is None else ("higher is better" if higher_is_better else "lower is better")
    if unit and direction:
        return f"{unit} ({direction})"
    return unit or direction


def _mark_level(axes: Axes, level: float, label: str, color: str, linestyle: str) -> None:
    axes.axhline(level, color=color, linestyle=linestyle, linewidth=1.5)
    axes.annotate(
        label,
        xy=(1.0, level),
        xycoords=axes.get_yaxis_transform(),
        xytext=(4, 0),
        textcoords="offset points",
        va="center",
        ha="left",
        color=color,
        annotation_clip=False,
    )


def _timeline_figure(series: TimeSeries, size_in: tuple[float, float]) -> Figure:
    figure, axes = _new_axes(size_in, series.title, right_in=0.95)
    axes.set_ylabel(_value_label(series.unit, series.higher_is_better))
    if not series.points:
        _show_empty(axes, "No measurements yet")
        return figure
    ordered = sorted_points(series.points)
    days = [_day_number(point.on) for point in ordered]
    values = [point.value for point in ordered]
    baseline, mcid = series.effective_baseline, series.mcid_level
    if baseline is not None and mcid is not None:
        axes.axhspan(min(baseline, mcid), max(baseline, mcid), color=PALETTE[2], alpha=0.12, linewidth=0)
        _mark_level(axes, mcid, "MCID", "#007A58", "--")
    if baseline is not None:
        _mark_level(axes, baseline, "Baseline", _GREY, ":")
    axes.plot(days, values, color=PALETTE[0], linewidth=2, marker="o", markersize=7, zorder=3)
    _date_axis(axes)
    if len(days) == 1:
        axes.set_xlim(days[0] - 7, days[0] + 7)
    return figure


def _session_bars_figure(title: str, unit: str, points: Sequence[TimePoint], size_in: tuple[float, float]) -> Figure:
    figure, axes = _new_axes(size_in, title)
    axes.set_ylabel(unit)
    if not points:
        _show_empty(axes, "No measurements yet")
        return figure
    by_day: dict[dt.date, list[float]] = {}
    for point in sorted_points(points):
        by_day.setdefault(point.on, []).append(point.value)
    days = sorted(by_day)
    gaps_days = [(later - earlier).days for earlier, later in itertools.pairwise(days)]
    width_days = min(0.8 * min(gaps_days, default=1), 5.0)
    for day, values in by_day.items():
        share = width_days / len(values)  # sessions on the same day stand side by side
        for index, value in enumerate(values):
            centre = _day_number(day) + 0.5 + (index - (len(values) - 1) / 2) * share
            axes.bar(centre, value, width=share, color=PALETTE[0], linewidth=0)
    _date_axis(axes)
    if len(days) == 1:
        axes.set_xlim(_day_number(days[0]) - 7, _day_number(days[0]) + 8)
    return figure


def _cycle_curves_figure(
    title: str,
    unit: str,
    curves: Sequence[CycleCurve],
    compare: Sequence[CycleCurve],
    size_in: tuple[float, float],
) -> Figure:
    legend_rows = math.ceil((len(curves) + len(compare)) / 2)
    legend_in = 19 * legend_rows / 72
    # Beyond two rows the legend adds to the figure's height, so many curves never squeeze the plot away.
    size_in = (size_in[0], min(20.0, size_in[1] + 19 * max(0, legend_rows - 2) / 72))
    figure, axes = _new_axes(size_in, title, bottom_in=42 / 72 + legend_in)
    axes.set_ylabel(unit)
    axes.set_xlabel("Gait cycle (%)")
    if not curves and not compare:
        _show_empty(axes, "No gait-cycle curves yet")
        return figure
    cycle_percent = np.linspace(0.0, 100.0, CYCLE_POINTS)
    for group, linestyle, band_alpha in ((curves, "-", 0.18), (compare, "--", 0.08)):
        for index, curve in enumerate(group):
            color = PALETTE[index % len(PALETTE)]
            mean = np.asarray(curve.mean)
            axes.plot(cycle_percent, mean, color=color, linestyle=linestyle, linewidth=2, label=curve.label)
            if curve.sd is not None:
                sd = np.asarray(curve.sd)
                axes.fill_between(cycle_percent, mean - sd, mean + sd, color=color, alpha=band_alpha, linewidth=0)
    axes.set_xlim(0, 100)
    axes.xaxis.set_major_locator(mpl.ticker.MultipleLocator(20))
    columns = 2 if len(curves) + len(compare) > 1 else 1
    figure.legend(loc="lower center", bbox_to_anchor=(0.5, 0.0), ncols=columns, handlelength=2.5, borderaxespad=0.2)
    return figure


# --- output ------------------------------------------------------------------------------------------------------


@contextmanager
def _plot_settings(extra: "dict[RcKeyType, Any] | None" = None) -> Iterator[None]:
    with _RENDER_LOCK, mpl.rc_context({**_RC, **(extra or {})}):
        yield


def _to_svg(build: "partial[Figure]", description: str, size_in: tuple[float, float]) -> str:
    # Ids derive from the input: stable for one plot, different between the plots on a page.
    salt = hashlib.sha256(f"{build.func.__name__}|{build.args!r}|{size_in}".encode()).hexdigest()[:16]
    with _plot_settings({"svg.hashsalt": salt}):
        figure = build(size_in)
        FigureCanvasSVG(figure)
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    return inline_svg(buffer.getvalue(), description)


def _to_png(build: "partial[Figure]", dpi: int, size_in: tuple[float, float]) -> bytes:
    if isinstance(dpi, bool) or not isinstance(dpi, int) or not 50 <= dpi <= 600:
        raise ValueError(f"dpi must be an integer from 50 to 600, got {dpi!r}.")
    with _plot_settings():
        figure = build(size_in)
        FigureCanvasAgg(figure)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    return buffer.getvalue()


# --- public API --------------------------------------------------------------------------------------------------


def timeline_svg(series: TimeSeries) -> str:
    """An outcome over time as inline SVG: measurements joined by a line, baseline and MCID marked."""
    return _to_svg(
        partial(_timeline_figure, series),
        _latest_text(series.title, series.unit, series.points, "measurement"),
        SVG_SIZE_IN,
    )


def timeline_png(series: TimeSeries, dpi: int = 150, *, size_in: tuple[float, float] = PNG_SIZE_IN) -> bytes:
    """The plot of :func:`timeline_svg` as PNG bytes, for the PDF report."""
    return _to_png(partial(_timeline_figure, series), dpi, size_in)


def session_bars_svg(title: str, unit: str, points: Sequence[TimePoint]) -> str:
    """A per-session quantity (steps, walking time, assistance level) as bars by date, inline SVG."""
    points = check_items("points", points, TimePoint)
    return _to_svg(
        partial(_session_bars_figure, title, unit, points), _latest_text(title, unit, points, "session"), SVG_SIZE_IN
    )


def session_bars_png(
    title: str, unit: str, points: Sequence[TimePoint], dpi: int = 150, *, size_in: tuple[float, float] = PNG_SIZE_IN
) -> bytes:
    """The plot of :func:`session_bars_svg` as PNG bytes, for the PDF report."""
    return _to_png(partial(_session_bars_figure, title, unit, check_items("points", points, TimePoint)), dpi, size_in)


def cycle_curves_svg(title: str, unit: str, curves: Sequence[CycleCurve], compare: Sequence[CycleCurve] = ()) -> str:
    """Gait-cycle curves (mean line, +-SD band) as inline SVG; ``compare[i]`` is dashed in the colour of ``curves[i]``.

    Labels go to the legend as given, so name the session in them ("12 Mar: left hip", "30 Apr: left hip").
    """
    curves, compare = check_items("curves", curves, CycleCurve), check_items("compare", compare, CycleCurve)
    return _to_svg(
        partial(_cycle_curves_figure, title, unit, curves, compare),
        _cycle_text(title, curves, compare),
        SVG_CYCLE_SIZE_IN,
    )


def cycle_curves_png(
    title: str,
    unit: str,
    curves: Sequence[CycleCurve],
    compare: Sequence[CycleCurve] = (),
    dpi: int = 150,
    *,
    size_in: tuple[float, float] = PNG_CYCLE_SIZE_IN,
) -> bytes:
    """The plot of :func:`cycle_curves_svg` as PNG bytes, for the PDF report."""
    figure = partial(
        _cycle_curves_figure,
        title,
        unit,
        check_items("curves", curves, CycleCurve),
        check_items("compare", compare, CycleCurve),
    )
    return _to_png(figure, dpi, size_in)
