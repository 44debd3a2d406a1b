"""The PDF progress report: a valid A4 PDF whose text, pages and pixels say what the clinic expects."""

import dataclasses
import datetime as dt
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium  # type: ignore[import-untyped]
import pytest

from exohub.web.clinic.plot_data import CycleCurve, TimePoint, TimeSeries
from exohub.web.clinic.report import MAX_SESSION_ROWS, markup, render_progress_report
from exohub.web.clinic.report_data import OutcomeRow, ProgressReport, SessionRow

START = dt.date(2026, 1, 12)
GENERATED_AT = dt.datetime(2026, 5, 2, 14, 30, tzinfo=dt.UTC)
A4_PT = (595.28, 841.89)


def outcome_series() -> tuple[TimeSeries, ...]:
    """10MWT, 6MWT, TUG and Berg every three weeks from 12 Jan to 27 Apr 2026, each improving."""
    days = [START + dt.timedelta(days=21 * i) for i in range(6)]

    def points(first: float, step: float) -> tuple[TimePoint, ...]:
        return tuple(TimePoint(day, first + step * i) for i, day in enumerate(days))

    return (
        TimeSeries("Walking speed (10MWT comfortable)", "m/s", points(0.41, 0.06), threshold=0.1),
        TimeSeries("6-minute walk distance (6MWT)", "m", points(182, 17), threshold=50),
        TimeSeries("Timed Up and Go (TUG)", "s", points(24.5, -1.3), higher_is_better=False, threshold=3.4),
        TimeSeries("Berg Balance Scale", "points", points(38, 2), threshold=5),
    )


def sessions(count: int) -> tuple[SessionRow, ...]:
    """Weekly sessions from 13 Jan 2026 on two devices, given oldest first."""
    return tuple(
        SessionRow(
            on=START + dt.timedelta(days=7 * i + 1),
            device="Ekso GT #2" if i % 2 else "ReWalk 6.0",
            duration_min=45.0 + i,
            steps=350 + 80 * i,
            walking_time_s=600.0 + 40 * i,
            cadence_steps_per_min=48.5 + i,
            assistance="Level 3, both legs" if i < 6 else "Level 2",
        )
        for i in range(count)
    )


@pytest.fixture
def report() -> ProgressReport:
    series = outcome_series()
    outcomes = tuple(
        OutcomeRow(
            s.title, s.unit, s.points[0].on, s.points[0].value, s.points[-1].on, s.points[-1].value, "Above the MCID."
        )
        for s in series
    )
    cycle = np.linspace(0, 2 * np.pi, 101)
    curves = (
        CycleCurve("Left hip", tuple(20 * np.cos(cycle) + 5), tuple(np.full(101, 4.0))),
        CycleCurve("Right hip", tuple(18 * np.cos(cycle + 0.3) + 5), tuple(np.full(101, 5.0))),
    )
    return ProgressReport(
        clinic="Riverside Rehabilitation Clinic",
        patient_name="Maria Müller-Łukasiewicz",
        date_of_birth=dt.date(1958, 6, 3),
        sex="female",
        condition="Incomplete spinal cord injury (AIS C), T10",
        affected_side="both, left weaker",
        goals="Walk 200 m indoors with a rollator.\nClimb the three steps at home.",
        generated_at=GENERATED_AT,
        generated_by="Dr Jane Doe, PT",
        outcomes=outcomes,
        sessions=sessions(12),
        series=series,
        cycle_title="Hip angle",
        cycle_curves=curves,
    )


def pdf_text(pdf: bytes) -> tuple[int, str]:
    document = pdfium.PdfDocument(pdf)
    try:
        text = " ".join(page.get_textpage().get_text_range() for page in document)
        return len(document), " ".join(text.split())  # table cells wrap: compare words, not line breaks
    finally:
        document.close()


def test_renders_a_valid_a4_pdf_with_the_report_content(report: ProgressReport, tmp_path: Path) -> None:
    pdf = render_progress_report(report)
    assert pdf.startswith(b"%PDF-")
    assert pdf.rstrip().endswith(b"%%EOF")
    pages, text = pdf_text(pdf)
    assert pages == 3  # patient + outcomes + 2 plots; 3 plots + sessions; gait cycle
    for needle in (
        "Riverside Rehabilitation Clinic",
        "Progress report",
        "Maria Müller-Łukasiewicz",
        "3 Jun 1958 (age 67 at this report)",
        "Incomplete spinal cord injury (AIS C), T10",
        "Climb the three steps at home.",
        "Walking speed (10MWT",
        "6-minute walk distance (6MWT)",
        "Timed Up and Go (TUG)",
        "Berg Balance Scale",
        "+0.3 m/s",
        "\u22126.5 s",  # TUG fell by 6.5 s
        "+10 points",
        "Page 1 of 3 \u2014 generated 2 May 2026 14:30 UTC by Dr Jane Doe, PT \u2014 exohub",
        "Page 3 of 3",
        "Contains identifiable patient data",
        "Gait cycle, latest session",
    ):
        assert needle in text, needle
    assert text.count("Contains identifiable patient data") == pages
    assert text.index("31 Mar 2026") < text.index("13 Jan 2026"), "sessions are listed most recent first"

    document = pdfium.PdfDocument(pdf)
    try:
        assert document[0].get_size() == pytest.approx(A4_PT, abs=0.5)
        image = document[0].render(scale=1).to_pil().convert("L")
    finally:
        document.close()
    image.save(tmp_path / "report_page1.png")
    pixels = np.asarray(image, dtype=float)
    assert pixels.std() > 20, "page 1 is (nearly) blank"
    assert (pixels < 128).mean() > 0.01, "page 1 has too little ink for text, tables and plots"


def test_user_markup_renders_literally(report: ProgressReport) -> None:
    tricky = dataclasses.replace(report, patient_name="<b>Ann</b> & Bob", goals="<font size=40>big</font>")
    _, text = pdf_text(render_progress_report(tricky))
    assert "<b>Ann</b> & Bob" in text
    assert "<font size=40>big</font>" in text
    assert markup("<b>Ann & Bob</b>\nnext") == "&lt;b&gt;Ann &amp; Bob&lt;/b&gt;<br/>next"


def test_cjk_names_are_kept_as_text_in_cjk_fonts(report: ProgressReport) -> None:
    japanese = render_progress_report(dataclasses.replace(report, patient_name="佐藤 花子"))
    assert "佐藤 花子" in pdf_text(japanese)[1]
    assert b"/HeiseiKakuGo-W5" in japanese
    korean = render_progress_report(dataclasses.replace(report, patient_name="김민준", generated_by="이 선생님"))
    text = pdf_text(korean)[1]
    assert "김민준" in text
    assert "by 이 선생님 \u2014 exohub" in text
    assert b"/HYGothic-Medium" in korean
    assert (
        markup("佐藤 & 김") == '<font name="HYGothic-Medium">佐藤</font> &amp; <font name="HYGothic-Medium">김</font>'
    )


def test_empty_outcomes_and_sessions_still_make_a_report(report: ProgressReport) -> None:
    empty = dataclasses.replace(report, outcomes=(), sessions=(), series=(), cycle_curves=())
    pages, text = pdf_text(render_progress_report(empty))
    assert pages == 1
    for needle in ("Maria Müller-Łukasiewicz", "No outcome measures recorded yet.", "No sessions recorded yet."):
        assert needle in text
    assert "Page 1 of 1" in text
    assert "Progress over time" not in text and "Gait cycle" not in text


def test_long_session_history_lists_the_most_recent_and_counts_the_rest(report: ProgressReport) -> None:
    many = sessions(MAX_SESSION_ROWS + 15)
    _, text = pdf_text(render_progress_report(dataclasses.replace(report, sessions=many)))
    assert f"30 most recent of {len(many)} sessions shown; 15 earlier sessions (from 13 Jan 2026) not listed." in text
    newest, oldest_listed, oldest = many[-1].on, many[15].on, many[14].on
    assert f"{newest.day} {newest:%b %Y}" in text
    assert f"{oldest_listed.day} {oldest_listed:%b %Y}" in text
    assert f"{oldest.day} {oldest:%b %Y}" not in text


def test_rejects_bad_input(report: ProgressReport) -> None:
    with pytest.raises(ValueError, match=r"date_of_birth must not be after the report date 2026-05-02, got 2027"):
        dataclasses.replace(report, date_of_birth=dt.date(2027, 1, 1))
    with pytest.raises(ValueError, match=r"patient_name must not be empty"):
        dataclasses.replace(report, patient_name="  ")
    with pytest.raises(TypeError, match=r"ProgressReport.outcomes\[0\] must be a OutcomeRow, got dict"):
        dataclasses.replace(report, outcomes=({"measure": "10MWT"},))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"SessionRow.steps must be a finite number of at least 0, got -5"):
        dataclasses.replace(report.sessions[0], steps=-5)
    with pytest.raises(TypeError, match=r"SessionRow.steps must be an int or None, got float"):
        dataclasses.replace(report.sessions[0], steps=12.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"OutcomeRow.latest must be a finite number, got nan"):
        dataclasses.replace(report.outcomes[0], latest=float("nan"))
    with pytest.raises(TypeError, match=r"report must be a ProgressReport, got dict"):
        render_progress_report({})  # type: ignore[arg-type]


def test_every_page_names_the_record_number(report: ProgressReport) -> None:
    """A name the viewer cannot draw prints blank; the record number keeps each page identifiable."""
    pdf = pdfium.PdfDocument(render_progress_report(dataclasses.replace(report, record_number="SRC-26-0142")))
    pages = [" ".join(pdf[index].get_textpage().get_text_range().split()) for index in range(len(pdf))]
    pdf.close()
    assert len(pages) > 1
    assert "SRC-26-0142" in pages[0]
    assert all("record SRC-26-0142" in text for text in pages[1:])
