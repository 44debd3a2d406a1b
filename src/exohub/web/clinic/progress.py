"""A patient's progress as the pages and the PDF show it: timelines, session bars, gait-cycle curves, the report.

Outcome timelines carry their baseline and MCID; a session's gait-cycle curves can be set beside a second one's.

Turns stored rows and analysis documents into the plain data of :mod:`exohub.web.clinic.plot_data` and
:mod:`exohub.web.clinic.report_data`; draws nothing itself.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi.responses import FileResponse, Response
from sqlalchemy.orm import Session

from exohub.signals.channels import parse_channel
from exohub.web.accounts.models import Organisation
from exohub.web.clinic import outcomes as clinic_outcomes
from exohub.web.clinic import sessions as clinic_sessions
from exohub.web.clinic.analysis import headline
from exohub.web.clinic.conditions import condition_group
from exohub.web.clinic.mcid import find_mcid
from exohub.web.clinic.measures import MEASURES
from exohub.web.clinic.models import Patient, TherapySession
from exohub.web.clinic.plot_data import CycleCurve, TimePoint, TimeSeries
from exohub.web.clinic.report import render_progress_report
from exohub.web.clinic.report_data import OutcomeRow, ProgressReport, SessionRow
from exohub.web.database import utcnow

SESSION_UNITS = {"steps": "steps", "walking_time_min": "min", "up_time_min": "min", "assistance_level_pct": "%"}

#: Curves of the gait cycle a session page draws: (document key of the mean, of the SD, title, unit).
CURVE_KINDS = {
    "angles": ("angle_profiles_deg", "angle_profiles_sd_deg", "Joint angles over the gait cycle", "deg"),
    "emg": ("emg_profiles", "emg_profiles_sd", "Muscle activity (EMG envelope) over the gait cycle", "a.u."),
}
MAX_REPORT_SESSIONS = 30


@dataclass(frozen=True)
class ProgressView:
    """What the progress page and the PDF plot."""

    outcome_series: tuple[TimeSeries, ...]
    session_series: tuple[tuple[str, str, tuple[TimePoint, ...]], ...]
    changes: tuple[Any, ...]


def progress_view(*, session: Session, patient: Patient) -> ProgressView:
    """Outcome timelines (with baseline and MCID), per-session series and each measure's change since baseline."""
    result = clinic_outcomes.progress(session=session, patient=patient)
    group = condition_group(patient.condition_code)
    outcome_series = []
    for code, points in result.outcomes.items():
        measure = MEASURES[code]  # type: ignore[index]
        mcid = find_mcid(code, group)
        outcome_series.append(
            TimeSeries(
                title=measure.name,
                unit=measure.unit_label,
                points=tuple(TimePoint(point.on, point.value) for point in points),
                higher_is_better=measure.higher_is_better,
                baseline=points[0].value if points else None,
                threshold=None if mcid is None else mcid.value,
            )
        )
    session_series = tuple(
        (
            clinic_outcomes.SESSION_SERIES[name],
            SESSION_UNITS[name],
            tuple(TimePoint(point.on, point.value) for point in points),
        )
        for name, points in result.sessions.items()
    )
    return ProgressView(tuple(outcome_series), session_series, tuple(result.changes))


def cycle_curves(
    document: dict[str, Any] | None, kind: str, *, prefix: str = "", channels: Sequence[str] | None = None
) -> tuple[CycleCurve, ...]:
    """The gait-cycle curves of one analysis (``kind``: ``angles`` or ``emg``), labelled ``prefix`` + channel.

    ``channels`` picks some (in that order); by default every channel with a complete curve.
    """
    if not document:
        return ()
    mean_key, sd_key, _, _ = CURVE_KINDS[kind]
    means: dict[str, list[float | None]] = document.get(mean_key) or {}
    sds: dict[str, list[float | None]] = document.get(sd_key) or {}
    curves = []
    for channel in channels if channels is not None else list(means):
        values = means.get(channel)
        if channel == "cycle_pct" or not values or any(value is None for value in values):
            continue
        sd = sds.get(channel)
        curves.append(
            CycleCurve(
                label=f"{prefix}{channel.replace('_', ' ')}",
                mean=tuple(float(value) for value in values),  # type: ignore[arg-type]
                sd=None if not sd or any(v is None for v in sd) else tuple(float(v) for v in sd),  # type: ignore[arg-type]
            )
        )
    return tuple(curves)


MAX_CURVES_PER_PLOT = 6


def cycle_curve_groups(document: dict[str, Any] | None, kind: str) -> list[tuple[str, list[str]]]:
    """The channels of one kind of curve split into readable plots: joint angles by joint, EMG by side.

    Returns ``(title, channels)`` pairs, at most :data:`MAX_CURVES_PER_PLOT` channels each, in the document's order.
    """
    if not document:
        return []
    mean_key, _, title, _ = CURVE_KINDS[kind]
    groups: dict[str, list[str]] = {}
    for channel in document.get(mean_key) or {}:
        if channel == "cycle_pct":
            continue
        parsed = parse_channel(channel)
        key = parsed.body_part if kind == "angles" else (parsed.side or "")
        groups.setdefault(key, []).append(channel)
    plots = []
    for key, channels in groups.items():
        name = f"{key.replace('_', ' ')}: " if key else ""
        chunks = [channels[i : i + MAX_CURVES_PER_PLOT] for i in range(0, len(channels), MAX_CURVES_PER_PLOT)]
        for number, chunk in enumerate(chunks, start=1):
            part = f" ({number} of {len(chunks)})" if len(chunks) > 1 else ""
            plots.append(
                (f"{name[:1].upper()}{name[1:]}{title[:1].lower()}{title[1:]}{part}" if name else title, chunk)
            )
    return plots


def progress_report_pdf(*, session: Session, patient: Patient, author: str) -> bytes:
    """The patient's progress report (PDF): outcomes with their change, timelines, sessions, the latest curves."""
    view = progress_view(session=session, patient=patient)
    sessions = clinic_sessions.get_sessions(session=session, patient=patient)
    outcomes = clinic_outcomes.get_outcomes(session=session, patient=patient)
    latest_analysed = next((item for item in sessions if item.analysis), None)
    latest = None if latest_analysed is None else latest_analysed.analysis
    first_group = next(iter(cycle_curve_groups(latest, "angles")), None)
    rows = tuple(_outcome_row(code, view, outcomes) for code in dict.fromkeys(item.measure for item in outcomes))
    report = ProgressReport(
        clinic=patient_clinic_name(session, patient),
        patient_name=patient.full_name,
        record_number=patient.record_number,
        date_of_birth=patient.date_of_birth,
        sex=patient.sex.value,
        condition=f"{patient.condition_label} ({patient.condition_code})",
        affected_side=patient.affected_side.value,
        goals=patient.goals,
        generated_at=utcnow(),
        generated_by=author,
        outcomes=rows,
        sessions=tuple(_session_row(item) for item in sessions),
        series=view.outcome_series
        + tuple(TimeSeries(title, unit, points) for title, unit, points in view.session_series if points),
        cycle_title=None
        if latest_analysed is None or first_group is None
        else f"{first_group[0]}, session of {latest_analysed.session_date.isoformat()}",
        cycle_curves=() if first_group is None else cycle_curves(latest, "angles", channels=first_group[1]),
    )
    return render_progress_report(report)


def patient_clinic_name(session: Session, patient: Patient) -> str:
    """The name of the patient's clinic."""
    return session.get_one(Organisation, patient.organisation_id).name


def _outcome_row(code: str, view: ProgressView, outcomes: Sequence[Any]) -> OutcomeRow:
    measure = MEASURES[code]  # type: ignore[index]
    points = [item for item in outcomes if item.measure == code]
    first, last = points[0], points[-1]
    change = next((item for item in view.changes if item.measure.value == code), None)
    return OutcomeRow(
        measure=measure.name,
        unit=measure.unit_label,
        baseline_date=first.measured_on,
        baseline=first.value,
        latest_date=last.measured_on,
        latest=last.value,
        change_text="Only one measurement so far." if change is None else change.text,
    )


def _session_row(therapy_session: TherapySession) -> SessionRow:
    numbers = headline(therapy_session.analysis)
    device = therapy_session.device_unit
    mode = therapy_session.assist_mode.value.replace("_", " ") if therapy_session.assist_mode else ""
    level = "" if therapy_session.assistance_level_pct is None else f"{therapy_session.assistance_level_pct:.0f} %"
    return SessionRow(
        on=therapy_session.session_date,
        device="" if device is None else f"{device.manufacturer} {device.model_name}",
        duration_min=therapy_session.duration_min,
        steps=None if numbers is None else numbers.steps,
        walking_time_s=None if numbers is None else numbers.walking_time_s,
        cadence_steps_per_min=None if numbers is None else numbers.cadence_steps_per_min,
        assistance=" ".join(part for part in (mode, level) if part),
    )


def pdf_response(pdf: bytes, patient: Patient) -> Response:
    """The report as a download named after the record (never the patient's name: file names travel)."""
    name = f"progress-report-patient-{patient.record_number or patient.id}-{utcnow().date().isoformat()}.pdf"
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "private, no-store"},
    )


PARQUET_MEDIA_TYPE = "application/vnd.apache.parquet"


def recording_response(path: Path, therapy_session: TherapySession) -> FileResponse:
    """A session's stored recording as a Parquet download (named by session, never by patient)."""
    return FileResponse(
        path,
        media_type=PARQUET_MEDIA_TYPE,
        filename=f"session-{therapy_session.id}.parquet",
        headers={"Cache-Control": "private, no-store"},
    )
