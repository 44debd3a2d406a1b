"""Progress plots: accessible, CSP-safe, deterministic SVG; PNG for the PDF; validated inputs."""

import datetime as dt
import re
import struct
import threading
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

from exohub.web.clinic import plots
from exohub.web.clinic.plot_data import CycleCurve, TimePoint, TimeSeries
from exohub.web.clinic.plots import (
    cycle_curves_png,
    cycle_curves_svg,
    session_bars_png,
    session_bars_svg,
    timeline_png,
    timeline_svg,
)

SVG = "{http://www.w3.org/2000/svg}"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
START = dt.date(2026, 1, 12)
CurvePair = tuple[tuple[CycleCurve, ...], tuple[CycleCurve, ...]]


@pytest.fixture
def walking_speed() -> TimeSeries:
    """Fortnightly 10MWT, 0.42 -> 0.77 m/s, given out of order."""
    points = [TimePoint(START + dt.timedelta(days=14 * i), 0.42 + 0.05 * i) for i in range(8)]
    return TimeSeries("Walking speed (10MWT comfortable)", "m/s", tuple(reversed(points)), threshold=0.1)


@pytest.fixture
def steps() -> tuple[TimePoint, ...]:
    """Steps in 12 sessions, two of them on the first day."""
    sessions = [TimePoint(START + dt.timedelta(days=3 * i), 400.0 + 60 * i) for i in range(11)]
    return (*sessions, TimePoint(START, 120.0))


@pytest.fixture
def hip_curves() -> CurvePair:
    """Hip angle of a later session (curves) and an earlier one (compare), left and right."""
    cycle = np.linspace(0, 2 * np.pi, 101)
    sd = tuple(np.full(101, 4.0))
    later = (
        CycleCurve("30 Apr: left hip", tuple(20 * np.cos(cycle) + 5), sd),
        CycleCurve("30 Apr: right hip", tuple(18 * np.cos(cycle + 0.3) + 5), sd),
    )
    earlier = (
        CycleCurve("12 Mar: left hip", tuple(12 * np.cos(cycle) + 3), sd),
        CycleCurve("12 Mar: right hip", tuple(10 * np.cos(cycle + 0.3) + 3), None),
    )
    return later, earlier


def parse(svg: str) -> ET.Element:
    assert not svg.lstrip().startswith("<?xml")
    assert "<!DOCTYPE" not in svg
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    return root


def title_of(root: ET.Element) -> str:
    first = root[0]
    assert first.tag == f"{SVG}title", "the <title> must be the first child to name the image"
    assert first.text
    return first.text


def png_size(png: bytes) -> tuple[int, int]:
    assert png.startswith(PNG_SIGNATURE)
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def test_timeline_svg_is_accessible_and_scales(walking_speed: TimeSeries) -> None:
    root = parse(timeline_svg(walking_speed))
    assert root.get("role") == "img"
    title = title_of(root)
    assert title.startswith("Walking speed (10MWT comfortable): latest 0.77 m/s on 20 Apr 2026")
    assert "8 measurements from 12 Jan 2026" in title
    assert root.get("aria-label") == title
    assert root.get("width") is None and root.get("height") is None
    width, height = (float(v) for v in root.get("viewBox", "").split()[2:])
    assert width / height == pytest.approx(plots.SVG_SIZE_IN[0] / plots.SVG_SIZE_IN[1], rel=1e-3)


def test_svg_has_no_inline_css_for_the_content_security_policy(
    walking_speed: TimeSeries, steps: tuple[TimePoint, ...], hip_curves: CurvePair
) -> None:
    for svg in (
        timeline_svg(walking_speed),
        session_bars_svg("Steps", "steps", steps),
        cycle_curves_svg("Hip", "deg", *hip_curves),
    ):
        root = parse(svg)
        assert not [element for element in root.iter() if "style" in element.attrib]
        assert not list(root.iter(f"{SVG}style"))
        assert "xlink" not in svg


def test_svg_text_is_real_text_of_at_least_12_units(walking_speed: TimeSeries) -> None:
    root = parse(timeline_svg(walking_speed))
    texts = list(root.iter(f"{SVG}text"))
    labels = {"".join(text.itertext()) for text in texts}
    assert {"Feb", "Mar", "Apr", "MCID", "Baseline", "m/s (higher is better)"} <= labels
    sizes = [float(text.get("font-size", "0").removesuffix("px")) for text in texts]
    assert min(sizes) >= 12


def test_svg_draws_with_the_colour_blind_safe_palette(walking_speed: TimeSeries) -> None:
    root = parse(timeline_svg(walking_speed))
    strokes = {element.get("stroke") for element in root.iter() if element.get("stroke")}
    assert plots.PALETTE[0].lower() in {stroke.lower() for stroke in strokes if stroke}


def test_svg_is_deterministic(walking_speed: TimeSeries, hip_curves: CurvePair) -> None:
    assert timeline_svg(walking_speed) == timeline_svg(walking_speed)
    assert cycle_curves_svg("Hip", "deg", *hip_curves) == cycle_curves_svg("Hip", "deg", *hip_curves)
    assert "Date" not in timeline_svg(walking_speed)


def test_every_reference_resolves_and_plots_on_one_page_share_no_ids(
    walking_speed: TimeSeries, steps: tuple[TimePoint, ...]
) -> None:
    speed, bars = timeline_svg(walking_speed), session_bars_svg("Steps per session", "steps", steps)
    id_sets = []
    for svg in (speed, bars):
        ids = {element.get("id") for element in parse(svg).iter() if element.get("id")}
        assert ids, "markers and clip paths keep their ids"
        assert set(re.findall(r"(?:url\(#|href=\"#)([\w.-]+)", svg)) <= ids
        id_sets.append(ids)
    assert not id_sets[0] & id_sets[1]


def test_concurrent_rendering_gives_the_same_bytes(walking_speed: TimeSeries, steps: tuple[TimePoint, ...]) -> None:
    expected = (timeline_svg(walking_speed), session_bars_svg("Steps", "steps", steps))
    results: list[tuple[str, str]] = []

    def render() -> None:
        for _ in range(3):
            results.append((timeline_svg(walking_speed), session_bars_svg("Steps", "steps", steps)))

    threads = [threading.Thread(target=render) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 18
    assert all(result == expected for result in results)


def test_empty_series_says_no_measurements_yet() -> None:
    for svg in (timeline_svg(TimeSeries("Berg Balance Scale", "points", ())), session_bars_svg("Steps", "steps", ())):
        root = parse(svg)
        assert title_of(root).endswith(": no measurements yet")
        assert "No measurements yet" in {"".join(text.itertext()) for text in root.iter(f"{SVG}text")}
    root = parse(cycle_curves_svg("Hip angle", "deg", ()))
    assert "No gait-cycle curves yet" in {"".join(text.itertext()) for text in root.iter(f"{SVG}text")}


def test_markup_in_titles_is_escaped() -> None:
    series = TimeSeries("<b>Speed</b> & more", "m/s", (TimePoint(START, 1.0),))
    root = parse(timeline_svg(series))
    assert title_of(root).startswith("<b>Speed</b> & more: latest 1 m/s")
    assert not list(root.iter("b")) and not list(root.iter(f"{SVG}b"))


@pytest.mark.parametrize(("higher_is_better", "expected_mcid"), [(True, 0.52), (False, 0.32)])
def test_mcid_is_drawn_from_the_baseline_in_the_better_direction(higher_is_better: bool, expected_mcid: float) -> None:
    points = (TimePoint(START, 0.42), TimePoint(START + dt.timedelta(days=30), 0.6))
    series = TimeSeries("Speed", "m/s", points, higher_is_better=higher_is_better, threshold=0.1)
    assert series.effective_baseline == 0.42  # the first measurement when no baseline is given
    assert series.mcid_level == pytest.approx(expected_mcid)
    figure = plots._timeline_figure(series, plots.SVG_SIZE_IN)
    axes = figure.axes[0]
    levels = {
        round(float(np.asarray(line.get_ydata())[0]), 6) for line in axes.get_lines() if line.get_linestyle() == "--"
    }
    assert levels == {round(expected_mcid, 6)}
    explicit = TimeSeries("Speed", "m/s", points, baseline=0.5, threshold=0.1, higher_is_better=higher_is_better)
    assert explicit.mcid_level == pytest.approx(0.6 if higher_is_better else 0.4)
    assert TimeSeries("Speed", "m/s", points).mcid_level is None


def test_sessions_on_the_same_day_stand_side_by_side(steps: tuple[TimePoint, ...]) -> None:
    figure = plots._session_bars_figure("Steps", "steps", steps, plots.SVG_SIZE_IN)
    bars = [patch for patch in figure.axes[0].patches if isinstance(patch, Rectangle)]
    assert sorted(bar.get_height() for bar in bars) == sorted(point.value for point in steps)
    first_day = sorted((bar for bar in bars if bar.get_x() < plots._day_number(START) + 1), key=Rectangle.get_x)
    assert len(first_day) == 2
    assert first_day[0].get_x() + first_day[0].get_width() <= first_day[1].get_x() + 1e-9


def test_compare_curves_are_dashed_in_the_colour_of_their_counterpart(
    hip_curves: CurvePair,
) -> None:
    later, earlier = hip_curves
    figure = plots._cycle_curves_figure("Hip", "deg", later, earlier, plots.PNG_CYCLE_SIZE_IN)
    lines: dict[str, Line2D] = {str(line.get_label()): line for line in figure.axes[0].get_lines()}
    for solid, dashed in zip(later, earlier, strict=True):
        assert lines[solid.label].get_linestyle() == "-"
        assert lines[dashed.label].get_linestyle() == "--"
        assert lines[solid.label].get_color() == lines[dashed.label].get_color()
    np.testing.assert_allclose(lines[later[0].label].get_xdata(), np.linspace(0, 100, 101))  # type: ignore[arg-type]
    bands = [c for c in figure.axes[0].collections if isinstance(c, PolyCollection)]
    assert len(bands) == 3  # one per curve with an SD
    legend_texts = [text.get_text() for text in figure.legends[0].get_texts()]
    assert legend_texts == [curve.label for curve in (*later, *earlier)]


def test_png_output(walking_speed: TimeSeries, steps: tuple[TimePoint, ...], hip_curves: CurvePair) -> None:
    assert png_size(timeline_png(walking_speed)) == (
        round(plots.PNG_SIZE_IN[0] * 150),
        round(plots.PNG_SIZE_IN[1] * 150),
    )
    assert png_size(timeline_png(walking_speed, dpi=100, size_in=(6.0, 3.0))) == (600, 300)
    assert png_size(session_bars_png("Steps", "steps", steps)) == png_size(timeline_png(walking_speed))
    assert png_size(cycle_curves_png("Hip", "deg", hip_curves[0], hip_curves[1], dpi=72)) == (
        round(plots.PNG_CYCLE_SIZE_IN[0] * 72),
        round(plots.PNG_CYCLE_SIZE_IN[1] * 72),
    )
    assert timeline_png(walking_speed) == timeline_png(walking_speed)


def test_rejects_bad_plot_input() -> None:
    with pytest.raises(TypeError, match=r"compare\[0\] must be a CycleCurve, got str"):
        cycle_curves_svg("Hip", "deg", (), ("left",))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"dpi must be an integer from 50 to 600, got 10"):
        timeline_png(TimeSeries("Speed", "m/s", ()), dpi=10)
    with pytest.raises(ValueError, match=r"size_in must be \(width, height\) in inches.* got \(1.0, 1.0\)"):
        timeline_png(TimeSeries("Speed", "m/s", ()), size_in=(1.0, 1.0))
