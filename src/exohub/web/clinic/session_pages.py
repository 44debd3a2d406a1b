"""Pages of a therapy session: the new-session form and its upload, the session's analysis, its recording.

The form takes the session's settings and its recording in one request (``/clinic/upload-progress`` says how far the
upload has got); the session page shows the analysis beside another session's, and the recording can be downloaded.

The clinic's other pages (patients, progress, outcomes, devices) are in :mod:`exohub.web.clinic.pages`, whose scopes
and form choices these share.
"""

import re
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from exohub.signals.io import readable_suffixes
from exohub.web.clinic import plots, progress, recordings, service, upload_progress
from exohub.web.clinic import sessions as clinic_sessions
from exohub.web.clinic.analysis import headline
from exohub.web.clinic.models import Patient
from exohub.web.clinic.pages import CHOICES, ReadScope, WriteScope
from exohub.web.clinic.schemas import TherapySessionCreate
from exohub.web.deps import PageAudit, PagePrincipal, SessionDep, SettingsDep
from exohub.web.errors import DomainError
from exohub.web.fields import IdPath
from exohub.web.forms import form_error, form_values, validate_form
from exohub.web.pagination import PageParams
from exohub.web.templating import render
from exohub.web.tenancy import Permission, TenantScope
from exohub.web.uploads import FILE_FIELD, incoming_file

router = APIRouter(prefix="/clinic")


@router.get("/patients/{patient_id}/sessions/new", response_class=HTMLResponse)
def session_new_page(
    request: Request, patient_id: IdPath, scope: WriteScope, session: SessionDep, context: PageAudit
) -> HTMLResponse:
    patient = service.get(session=session, scope=scope, context=context, patient_id=patient_id, view="new session")
    return _render_session_form(request, scope, session, patient, {}, {})


def _render_session_form(
    request: Request,
    scope: TenantScope,
    session: SessionDep,
    patient: Patient,
    values: dict[str, str],
    errors: dict[str, str],
    status_code: int = 200,
) -> HTMLResponse:
    devices = service.get_devices(
        session=session, scope=scope.principal.scope(Permission.DEVICE_READ), params=PageParams(limit=200)
    )
    context = {
        "principal": scope.principal,
        "patient": patient,
        "device_choices": [("", "—")]
        + [(str(item.id), item.label) for item in devices.items if item.organisation_id == patient.organisation_id],
        "values": values,
        "errors": errors,
        "formats": ", ".join(readable_suffixes()),
        "today": service.latest_date_anywhere(),
        **CHOICES,
    }
    return render(request, "clinic/session_new.html", context, status_code=status_code)


@router.post("/patients/{patient_id}/sessions", response_class=HTMLResponse)
async def session_create_submit(
    request: Request,
    patient_id: IdPath,
    scope: WriteScope,
    session: SessionDep,
    settings: SettingsDep,
    context: PageAudit,
) -> Response:
    """Create the session and attach its recording in one unit: on any refusal nothing is stored."""
    form = await request.form()
    token = request.query_params.get("progress", "")
    on_stage = None
    if re.fullmatch(upload_progress.TOKEN_PATTERN, token):
        user_id = scope.principal.user_id

        def on_stage(step: int) -> None:
            upload_progress.BOARD.report(token, user_id, step)

    try:
        return await _create_session_from_form(request, patient_id, scope, session, settings, context, form, on_stage)
    finally:
        await form.close()  # the parser spooled the file to a temporary file


async def _create_session_from_form(
    request: Request,
    patient_id: int,
    scope: TenantScope,
    session: SessionDep,
    settings: SettingsDep,
    context: Any,
    form: FormData,
    on_stage: Callable[[int], None] | None,
) -> Response:
    upload = form.get(FILE_FIELD)
    values = form_values(form)
    data, errors = validate_form(TherapySessionCreate, _session_fields(values))
    if data is not None:
        try:
            # The patient is checked first; then the recording is read and analysed with no transaction open (it
            # takes seconds); then the session and its recording are written together, or neither.
            patient = service.get(
                session=session, scope=scope, context=context, patient_id=patient_id, view="new session"
            )
            organisation_id = patient.organisation_id
            session.commit()
            prepared = None
            if isinstance(upload, UploadFile) and upload.filename:
                prepared = await _prepare_page_upload(settings, organisation_id, data.session_date, upload, on_stage)
            try:
                with session.begin_nested():
                    therapy_session = clinic_sessions.create_session(
                        session=session, scope=scope, context=context, patient_id=patient_id, data=data
                    )
                    if prepared is not None:
                        clinic_sessions.attach_prepared(
                            session=session, context=context, therapy_session=therapy_session, prepared=prepared
                        )
            except BaseException:
                if prepared is not None:
                    prepared.path.unlink(missing_ok=True)
                raise
            return RedirectResponse(f"/clinic/sessions/{therapy_session.id}", status_code=status.HTTP_303_SEE_OTHER)
        except DomainError as err:
            errors = form_error(err, field="session_date")
    patient = service.get(session=session, scope=scope, context=context, patient_id=patient_id, view="new session")
    return _render_session_form(request, scope, session, patient, values, errors, status.HTTP_422_UNPROCESSABLE_CONTENT)


def _session_fields(values: dict[str, str]) -> dict[str, Any]:
    """The form's fields in the API's shape: joint limits from <joint>_min_deg / <joint>_max_deg pairs."""
    fields: dict[str, Any] = {key: value for key, value in values.items() if not key.endswith(("_min_deg", "_max_deg"))}
    limits = {}
    for key in values:
        if key.endswith("_min_deg"):
            joint = key.removesuffix("_min_deg")
            limits[joint] = {"min_deg": values[key], "max_deg": values.get(f"{joint}_max_deg", "")}
    if limits:
        fields["joint_limits_deg"] = limits
    return fields


async def _prepare_page_upload(
    settings: SettingsDep,
    organisation_id: int,
    session_date: date,
    upload: UploadFile,
    on_stage: Callable[[int], None] | None,
) -> clinic_sessions.PreparedRecording:
    with incoming_file(settings.DATA_DIR) as incoming:
        stored = await recordings.save_upload_file(upload, incoming, max_bytes=settings.MAX_RECORDING_BYTES)
        return await run_in_threadpool(
            lambda: clinic_sessions.prepare_recording(
                organisation_id=organisation_id,
                session_date=session_date,
                incoming=incoming,
                stored=stored,
                data_dir=settings.DATA_DIR,
                on_stage=on_stage,
            )
        )


@router.get("/upload-progress")
def upload_progress_answer(
    principal: PagePrincipal, token: Annotated[str, Query(pattern=upload_progress.TOKEN_PATTERN)]
) -> dict[str, object]:
    """Where the visitor's upload ``token`` stands: ``{"step", "steps", "stage"}``, or ``{"stage": null}``."""
    entry = upload_progress.BOARD.get(token, principal.user_id)
    steps = len(upload_progress.STAGES)
    return (
        {"step": None, "steps": steps, "stage": None}
        if entry is None
        else {"step": entry.step, "steps": steps, "stage": entry.stage}
    )


@router.get("/sessions/{session_id}", response_class=HTMLResponse)
def session_page(
    request: Request,
    session_id: IdPath,
    scope: ReadScope,
    session: SessionDep,
    context: PageAudit,
    compare: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
) -> HTMLResponse:
    therapy_session = clinic_sessions.get_session(session=session, scope=scope, context=context, session_id=session_id)
    others = [
        item
        for item in clinic_sessions.get_sessions(session=session, patient=therapy_session.patient)
        if item.id != therapy_session.id and item.analysis
    ]
    compared = next((item for item in others if item.id == compare), None)
    document = therapy_session.analysis
    curve_plots = []
    for kind, (_, _, _, unit) in progress.CURVE_KINDS.items():
        for title, channels in progress.cycle_curve_groups(document, kind):
            here = progress.cycle_curves(
                document, kind, prefix=f"{therapy_session.session_date.isoformat()}: ", channels=channels
            )
            there = (
                ()
                if compared is None
                else progress.cycle_curves(
                    compared.analysis, kind, prefix=f"{compared.session_date.isoformat()}: ", channels=channels
                )
            )
            if here:
                curve_plots.append(plots.cycle_curves_svg(title, unit, here, there))
    context_ = {
        "principal": scope.principal,
        "therapy_session": therapy_session,
        "patient": therapy_session.patient,
        "numbers": headline(document),
        "document": document,
        "curve_plots": curve_plots,
        "others": others,
        "compared": compared,
    }
    return render(request, "clinic/session.html", context_)


@router.get("/sessions/{session_id}/recording")
def session_recording_download(
    session_id: IdPath, scope: ReadScope, session: SessionDep, settings: SettingsDep, context: PageAudit
) -> FileResponse:
    therapy_session = clinic_sessions.get_session(
        session=session, scope=scope, context=context, session_id=session_id, view="download recording"
    )
    path = clinic_sessions.recording_file(data_dir=settings.DATA_DIR, therapy_session=therapy_session)
    return progress.recording_response(path, therapy_session)
