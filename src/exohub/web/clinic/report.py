"""The patient's PDF progress report (A4, reportlab Platypus).

What it shows is :class:`~exohub.web.clinic.report_data.ProgressReport`. One page flow: header, patient, outcomes
table, plots two per row, sessions table (most recent first), the gait-cycle curves of the latest session; every
page carries "Page N of M — generated <date> by <name> — exohub" and a confidentiality line.

Text is set in DejaVu Sans (shipped with matplotlib), which covers Latin, Greek and Cyrillic. No font with CJK
glyphs ships in the packages exohub depends on, so Chinese, Japanese and Korean runs in user text are set in
reportlab's built-in CID fonts (Adobe's HeiseiKakuGo-W5 for Japanese and Han, HYGothic-Medium for Hangul). Those
fonts are *not embedded*: the text is in the PDF (it can be searched, copied and read aloud) and displays in
viewers that have CJK fonts (Acrobat with its Asian font pack, macOS, Windows, browsers), but shows as blank on a
system without any CJK font.
"""

import datetime as dt
import functools
import io
import re
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import matplotlib as mpl
from reportlab.lib import colors  # type: ignore[import-untyped]
from reportlab.lib.enums import TA_CENTER  # type: ignore[import-untyped]
from reportlab.lib.pagesizes import A4  # type: ignore[import-untyped]
from reportlab.lib.styles import ParagraphStyle  # type: ignore[import-untyped]
from reportlab.lib.units import mm  # type: ignore[import-untyped]
from reportlab.pdfbase import pdfmetrics  # type: ignore[import-untyped]
from reportlab.pdfbase.cidfonts import UnicodeCIDFont  # type: ignore[import-untyped]
from reportlab.pdfbase.ttfonts import TTFont  # type: ignore[import-untyped]
from reportlab.pdfgen.canvas import Canvas  # type: ignore[import-untyped]
from reportlab.platypus import (  # type: ignore[import-untyped]
    Flowable,
    Image,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from exohub.web.clinic.plot_data import TimePoint, format_day, format_quantity, format_value
from exohub.web.clinic.plots import PNG_CYCLE_SIZE_IN, PNG_SIZE_IN, cycle_curves_png, session_bars_png, timeline_png
from exohub.web.clinic.report_data import OutcomeRow, ProgressReport

__all__ = ["MAX_SESSION_ROWS", "render_progress_report"]

MAX_SESSION_ROWS = 30
"""Sessions listed in the table; older ones are counted, not listed."""

PLOT_DPI = 150
_FONT = "ExohubSans"
_FONT_BOLD = "ExohubSans-Bold"
_JAPANESE_FONT = "HeiseiKakuGo-W5"
_KOREAN_FONT = "HYGothic-Medium"
_DASH = "\u2014"
_MISSING = "\u2013"
_MARGIN = 18 * mm
_INK = colors.HexColor("#1a1a1a")
_MUTED = colors.HexColor("#555555")
_RULE = colors.HexColor("#bbbbbb")
_HEADER_FILL = colors.HexColor("#e8eef4")
_ZEBRA_FILL = colors.HexColor("#f6f8fa")

# Hangul, CJK punctuation, kana, ideographs (with extension A and the compatibility block), full-width forms and
# the supplementary ideograph planes: characters DejaVu Sans has no glyph for. A run takes in the spaces between
# its words ("이 선생님" stays one run): a lone one-character run is dropped by pdfium's text extraction.
_CJK_CHAR = "[\u1100-\u11ff\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef\U00020000-\U0003134f]"
_CJK = re.compile(f"{_CJK_CHAR}+(?:[ \u3000]+{_CJK_CHAR}+)*")
_HANGUL = re.compile("[\u1100-\u11ff\u3130-\u318f\uac00-\ud7af]")
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f]")
_FONT_LOCK = threading.Lock()


# --- text --------------------------------------------------------------------------------------------------------


def markup(text: str) -> str:
    """User text as reportlab paragraph markup: escaped, CJK runs in a CJK font, line breaks kept.

    ``"<b>Ann & Bob</b>"`` comes out as literal text, not bold.
    """
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    cjk_font = _KOREAN_FONT if _HANGUL.search(text) else _JAPANESE_FONT
    parts: list[str] = []
    position = 0
    for match in _CJK.finditer(text):
        parts.append(escape(text[position : match.start()]))
        parts.append(f'<font name="{cjk_font}">{escape(match.group())}</font>')
        position = match.end()
    parts.append(escape(text[position:]))
    return "".join(parts).replace("\n", "<br/>")


def _format_generated(moment: dt.datetime) -> str:
    zone = f" {moment.tzname()}" if moment.tzinfo is not None and moment.tzname() else ""
    return f"{format_day(moment.date())} {moment:%H:%M}{zone}"


def _optional(value: float | None, formatter: Callable[[float], str] = format_value) -> str:
    return _MISSING if value is None else formatter(value)


def _minutes_seconds(seconds: float) -> str:
    whole = round(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


def _change(row: OutcomeRow) -> str:
    if row.baseline is None or row.latest is None:
        return _MISSING
    difference = row.latest - row.baseline
    sign = "+" if difference > 0 else ("\u2212" if difference < 0 else "\u00b1")
    return f"{sign}{format_quantity(abs(difference), row.unit)}"


# --- fonts and styles --------------------------------------------------------------------------------------------


def _register_fonts() -> None:
    """Register DejaVu Sans (from matplotlib) and the CJK CID fonts with reportlab, once per process."""
    with _FONT_LOCK:
        if _FONT in pdfmetrics.getRegisteredFontNames():
            return
        fonts = Path(mpl.get_data_path()) / "fonts" / "ttf"
        faces = {
            _FONT: "DejaVuSans.ttf",
            _FONT_BOLD: "DejaVuSans-Bold.ttf",
            f"{_FONT}-Oblique": "DejaVuSans-Oblique.ttf",
            f"{_FONT}-BoldOblique": "DejaVuSans-BoldOblique.ttf",
        }
        for name, file in faces.items():
            pdfmetrics.registerFont(TTFont(name, str(fonts / file)))
        pdfmetrics.registerFontFamily(
            _FONT, normal=_FONT, bold=_FONT_BOLD, italic=f"{_FONT}-Oblique", boldItalic=f"{_FONT}-BoldOblique"
        )
        for cid in (_JAPANESE_FONT, _KOREAN_FONT):
            pdfmetrics.registerFont(UnicodeCIDFont(cid))
            pdfmetrics.registerFontFamily(cid, normal=cid, bold=cid, italic=cid, boldItalic=cid)


@functools.cache
def _styles() -> dict[str, ParagraphStyle]:
    body = ParagraphStyle("body", fontName=_FONT, fontSize=9.5, leading=12.5, textColor=_INK)
    return {
        "body": body,
        "small": ParagraphStyle("small", parent=body, fontSize=8, leading=10, textColor=_MUTED),
        "cell": ParagraphStyle("cell", parent=body, fontSize=8.5, leading=10.5),
        "cell_head": ParagraphStyle("cell_head", parent=body, fontName=_FONT_BOLD, fontSize=8.5, leading=10.5),
        "label": ParagraphStyle("label", parent=body, textColor=_MUTED),
        "clinic": ParagraphStyle("clinic", parent=body, fontSize=11, leading=14, textColor=_MUTED),
        "title": ParagraphStyle("title", parent=body, fontName=_FONT_BOLD, fontSize=20, leading=24, spaceAfter=2),
        "h2": ParagraphStyle(
            "h2", parent=body, fontName=_FONT_BOLD, fontSize=13, leading=16, spaceBefore=12, spaceAfter=6
        ),
        "footer": ParagraphStyle(
            "footer", parent=body, fontSize=7.5, leading=9.5, textColor=_MUTED, alignment=TA_CENTER
        ),
    }


# --- page furniture ----------------------------------------------------------------------------------------------


class _NumberedCanvas(Canvas):  # type: ignore[misc]
    """A canvas that holds its pages until the end, so each can say "Page N of M" (the usual reportlab recipe)."""

    def __init__(self, *args: Any, furniture: Callable[[Canvas, int, int], None], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._furniture = furniture
        self._pages: list[dict[str, Any]] = []

    def showPage(self) -> None:  # noqa: N802 - reportlab's name
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._pages)
        for state in self._pages:
            self.__dict__.update(state)
            self._furniture(self, self._pageNumber, total)
            super().showPage()
        super().save()


def _furniture(report: ProgressReport, canvas: Canvas, page: int, total: int) -> None:
    """Footer on every page, a running header from page 2 on."""
    styles = _styles()
    width, height = A4
    text_width = width - 2 * _MARGIN
    generated = _format_generated(report.generated_at)
    lines = [
        f"Page {page} of {total} {_DASH} generated {escape(generated)} by {markup(report.generated_by)} {_DASH} exohub",
        "Contains identifiable patient data. Confidential: store and share it as a health record.",
    ]
    y = 8 * mm
    for line in reversed(lines):
        paragraph = Paragraph(line, styles["footer"])
        _, line_height = paragraph.wrap(text_width, 20 * mm)
        paragraph.drawOn(canvas, _MARGIN, y)
        y += line_height + 1
    canvas.setStrokeColor(_RULE)
    canvas.setLineWidth(0.5)
    canvas.line(_MARGIN, y + 1.5 * mm, width - _MARGIN, y + 1.5 * mm)
    if page > 1:
        header = Paragraph(
            f"{markup(report.clinic)} {_DASH} Progress report {_DASH} {markup(report.patient_name)}, "
            f"{_record(report)}born {format_day(report.date_of_birth)}",
            styles["small"],
        )
        header.wrap(text_width, 20 * mm)
        header.drawOn(canvas, _MARGIN, height - _MARGIN + 4 * mm)
        canvas.line(_MARGIN, height - _MARGIN + 2.5 * mm, width - _MARGIN, height - _MARGIN + 2.5 * mm)


# --- story -------------------------------------------------------------------------------------------------------


def _table(rows: list[list[Flowable]], widths: Sequence[float], *, header: bool = True) -> Table:
    table = Table(rows, colWidths=list(widths), repeatRows=1 if header else 0, hAlign="LEFT")
    commands: list[tuple[Any, ...]] = [
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ("LEFTPADDING", (0, 0), (-1, -1), 4),
        ("RIGHTPADDING", (0, 0), (-1, -1), 4),
        ("LINEBELOW", (0, 0), (-1, -1), 0.25, _RULE),
    ]
    if header:
        commands += [("BACKGROUND", (0, 0), (-1, 0), _HEADER_FILL), ("LINEBELOW", (0, 0), (-1, 0), 0.75, _MUTED)]
        commands += [("BACKGROUND", (0, row), (-1, row), _ZEBRA_FILL) for row in range(2, len(rows), 2)]
    table.setStyle(TableStyle(commands))
    return table


def _header(report: ProgressReport) -> list[Flowable]:
    styles = _styles()
    return [
        Paragraph(markup(report.clinic), styles["clinic"]),
        Paragraph("Progress report", styles["title"]),
        Paragraph(
            f"Generated {escape(_format_generated(report.generated_at))} by {markup(report.generated_by)}",
            styles["small"],
        ),
        Spacer(1, 4 * mm),
    ]


def _record(report: ProgressReport) -> str:
    return f"record {markup(report.record_number)}, " if report.record_number else ""


def _patient(report: ProgressReport, width: float) -> list[Flowable]:
    styles = _styles()
    born = f"{format_day(report.date_of_birth)} (age {report.age_years} at this report)"
    fields = [
        ("Patient", f"<b>{markup(report.patient_name)}</b>"),
        ("Record number", markup(report.record_number or "") or _MISSING),
        ("Date of birth", born),
        ("Sex", markup(report.sex) or _MISSING),
        ("Condition", markup(report.condition) or _MISSING),
        ("Affected side", markup(report.affected_side) or _MISSING),
        ("Goals", markup(report.goals) or _MISSING),
    ]
    rows = [[Paragraph(label, styles["label"]), Paragraph(value, styles["body"])] for label, value in fields]
    return [_table(rows, (32 * mm, width - 32 * mm), header=False)]


def _value_cell(amount: float | None, on: dt.date | None, unit: str) -> Paragraph:
    text = _MISSING if amount is None else markup(format_quantity(amount, unit))
    if on is not None:
        text += f'<br/><font size="7" color="#555555">{format_day(on)}</font>'
    return Paragraph(text, _styles()["cell"])


def _outcomes(report: ProgressReport, width: float) -> list[Flowable]:
    styles = _styles()
    heading = Paragraph("Outcome measures", styles["h2"])
    if not report.outcomes:
        return [heading, Paragraph("No outcome measures recorded yet.", styles["body"])]
    head = ["Measure", "Baseline", "Latest", "Change", "Interpretation"]
    rows: list[list[Flowable]] = [[Paragraph(text, styles["cell_head"]) for text in head]]
    for row in report.outcomes:
        rows.append(
            [
                Paragraph(markup(row.measure), styles["cell"]),
                _value_cell(row.baseline, row.baseline_date, row.unit),
                _value_cell(row.latest, row.latest_date, row.unit),
                Paragraph(markup(_change(row)), styles["cell"]),
                Paragraph(markup(row.change_text) or _MISSING, styles["cell"]),
            ]
        )
    widths = (44 * mm, 24 * mm, 24 * mm, 22 * mm)
    return [KeepTogether([heading, _table(rows, (*widths, width - sum(widths)))])]


def _image(png: bytes, width: float, size_in: tuple[float, float]) -> Image:
    return Image(io.BytesIO(png), width=width, height=width * size_in[1] / size_in[0])


def _plots(report: ProgressReport, width: float) -> list[Flowable]:
    styles = _styles()
    pngs = [timeline_png(series, dpi=PLOT_DPI) for series in report.series]
    steps = [TimePoint(session.on, session.steps) for session in report.sessions if session.steps is not None]
    if steps:
        pngs.append(session_bars_png("Steps per session", "steps", steps, dpi=PLOT_DPI))
    if not pngs:
        return []
    gap = 4 * mm
    cell = (width - gap) / 2
    images: list[Flowable] = [_image(png, cell, PNG_SIZE_IN) for png in pngs]
    if len(images) % 2:
        images.append(Spacer(cell, 1))
    grid = Table(
        [images[index : index + 2] for index in range(0, len(images), 2)],
        colWidths=[cell + gap / 2, cell + gap / 2],
        hAlign="LEFT",
        style=TableStyle([("ALIGN", (0, 0), (-1, -1), "LEFT"), ("VALIGN", (0, 0), (-1, -1), "TOP")]),
    )
    grid.setStyle(TableStyle([(name, (0, 0), (-1, -1), 0) for name in ("LEFTPADDING", "RIGHTPADDING")]))
    return [Paragraph("Progress over time", styles["h2"]), grid]


def _sessions(report: ProgressReport, width: float) -> list[Flowable]:
    styles = _styles()
    heading = Paragraph("Sessions", styles["h2"])
    if not report.sessions:
        return [heading, Paragraph("No sessions recorded yet.", styles["body"])]
    latest_first = sorted(report.sessions, key=lambda session: session.on, reverse=True)
    shown = latest_first[:MAX_SESSION_ROWS]
    head = [
        "Date",
        "Device",
        "Duration<br/>(min)",
        "Steps",
        "Walking time<br/>(min:s)",
        "Cadence<br/>(steps/min)",
        "Assistance",
    ]
    rows: list[list[Flowable]] = [[Paragraph(text, styles["cell_head"]) for text in head]]
    for session in shown:
        cells = [
            format_day(session.on),
            markup(session.device) or _MISSING,
            _optional(session.duration_min),
            _MISSING if session.steps is None else f"{session.steps:,}",
            _optional(session.walking_time_s, _minutes_seconds),
            _optional(session.cadence_steps_per_min),
            markup(session.assistance) or _MISSING,
        ]
        rows.append([Paragraph(cell, styles["cell"]) for cell in cells])
    widths = (22 * mm, 30 * mm, 18 * mm, 16 * mm, 22 * mm, 25 * mm)
    story: list[Flowable] = [heading, _table(rows, (*widths, width - sum(widths)))]
    if len(latest_first) > len(shown):
        hidden = len(latest_first) - len(shown)
        first = format_day(latest_first[-1].on)
        story.append(
            Paragraph(
                f"{len(shown)} most recent of {len(latest_first)} sessions shown; {hidden} earlier "
                f"session{'s' if hidden != 1 else ''} (from {first}) not listed.",
                styles["small"],
            )
        )
    return story


def _cycle(report: ProgressReport, width: float) -> list[Flowable]:
    if not report.cycle_curves:
        return []
    title = report.cycle_title or "Gait cycle, latest session"
    png = cycle_curves_png(title, report.cycle_unit, report.cycle_curves, dpi=PLOT_DPI)
    heading = Paragraph("Gait cycle, latest session", _styles()["h2"])
    return [KeepTogether([heading, _image(png, width, PNG_CYCLE_SIZE_IN)])]


# --- public API --------------------------------------------------------------------------------------------------


def render_progress_report(report: ProgressReport) -> bytes:
    """Lay out ``report`` as an A4 PDF and return its bytes."""
    if not isinstance(report, ProgressReport):
        raise TypeError(f"report must be a ProgressReport, got {type(report).__name__}.")
    _register_fonts()
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=_MARGIN,
        rightMargin=_MARGIN,
        topMargin=_MARGIN,
        bottomMargin=_MARGIN + 6 * mm,
        title=f"Progress report {_DASH} {report.patient_name}",
        author=report.clinic,
        subject="Exoskeleton rehabilitation progress report",
        creator="exohub",
        lang="en",
        displayDocTitle=True,
        initialFontName=_FONT,
    )
    width = document.width
    story = [
        *_header(report),
        *_patient(report, width),
        *_outcomes(report, width),
        *_plots(report, width),
        *_sessions(report, width),
        *_cycle(report, width),
    ]
    document.build(
        story, canvasmaker=functools.partial(_NumberedCanvas, furniture=functools.partial(_furniture, report))
    )
    return buffer.getvalue()
