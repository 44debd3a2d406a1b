"""JSON API of the clinic: patients, device units, therapy sessions with their recordings, outcomes, progress."""

from typing import Annotated, Any

from fastapi import APIRouter, Request, status
from fastapi.responses import FileResponse, Response
from starlette.concurrency import run_in_threadpool

from exohub.web.clinic import outcomes as clinic_outcomes
from exohub.web.clinic import progress, service
from exohub.web.clinic import sessions as clinic_sessions
from exohub.web.clinic.schemas import (
    DeviceUnitCreate,
    DeviceUnitRead,
    OutcomeCreate,
    OutcomeRead,
    PatientCreate,
    PatientRead,
    PatientUpdate,
    ProgressRead,
    TherapySessionCreate,
    TherapySessionRead,
)
from exohub.web.deps import ApiAudit, SessionDep, SettingsDep, api_scope
from exohub.web.errors import NotFoundError
from exohub.web.fields import IdPath, SearchQuery
from exohub.web.pagination import Page, PageParamsDep
from exohub.web.tenancy import Permission, TenantScope
from exohub.web.uploads import incoming_file, receive_file, upload_body

router = APIRouter(prefix="/clinic", tags=["clinic"])

ReadScope = Annotated[TenantScope, api_scope(Permission.PATIENT_READ)]
WriteScope = Annotated[TenantScope, api_scope(Permission.PATIENT_WRITE)]
DeviceReadScope = Annotated[TenantScope, api_scope(Permission.DEVICE_READ)]
DeviceManageScope = Annotated[TenantScope, api_scope(Permission.DEVICE_MANAGE)]

PDF_MEDIA_TYPE = "application/pdf"


# Patients ----------------------------------------------------------------------------------------------


@router.get("/patients")
def get_patients(
    scope: ReadScope, session: SessionDep, context: ApiAudit, params: PageParamsDep, q: SearchQuery = None
) -> Page[PatientRead]:
    """List the patients of your clinics; `q` searches name and record number. The read is audited."""
    return service.get_all(session=session, scope=scope, context=context, params=params, q=q)


@router.post("/patients", status_code=status.HTTP_201_CREATED)
def create_patient(data: PatientCreate, scope: WriteScope, session: SessionDep, context: ApiAudit) -> PatientRead:
    """Register a patient in one of your clinics (therapists and clinicians)."""
    return PatientRead.model_validate(service.create(session=session, scope=scope, context=context, data=data))


@router.get("/patients/{patient_id}")
def get_patient(patient_id: IdPath, scope: ReadScope, session: SessionDep, context: ApiAudit) -> PatientRead:
    """Return one patient; the read is audited."""
    return PatientRead.model_validate(service.get(session=session, scope=scope, context=context, patient_id=patient_id))


@router.patch("/patients/{patient_id}")
def update_patient(
    patient_id: IdPath, data: PatientUpdate, scope: WriteScope, session: SessionDep, context: ApiAudit
) -> PatientRead:
    """Change a patient's details (only the fields sent)."""
    patient = service.update(session=session, scope=scope, context=context, patient_id=patient_id, data=data)
    return PatientRead.model_validate(patient)


@router.get("/patients/{patient_id}/progress")
def get_patient_progress(patient_id: IdPath, scope: ReadScope, session: SessionDep, context: ApiAudit) -> ProgressRead:
    """Each outcome's change since baseline against its published MCID, and the session series over time."""
    patient = service.get(session=session, scope=scope, context=context, patient_id=patient_id, view="progress")
    return clinic_outcomes.progress(session=session, patient=patient)


@router.get(
    "/patients/{patient_id}/report.pdf",
    response_class=Response,
    responses={200: {"content": {PDF_MEDIA_TYPE: {}}, "description": "The progress report."}},
)
def get_patient_report(
    patient_id: IdPath, scope: ReadScope, session: SessionDep, context: ApiAudit, request: Request
) -> Response:
    """The patient's progress report as a PDF for the patient file."""
    patient = service.get(session=session, scope=scope, context=context, patient_id=patient_id, view="report")
    pdf = progress.progress_report_pdf(session=session, patient=patient, author=scope.principal.full_name)
    return progress.pdf_response(pdf, patient)


# Therapy sessions --------------------------------------------------------------------------------------


@router.get("/patients/{patient_id}/sessions")
def get_patient_sessions(
    patient_id: IdPath, scope: ReadScope, session: SessionDep, context: ApiAudit
) -> list[TherapySessionRead]:
    """A patient's therapy sessions, most recent first, with each analysis's headline numbers."""
    patient = service.get(session=session, scope=scope, context=context, patient_id=patient_id, view="sessions")
    return [
        clinic_sessions.session_read(item) for item in clinic_sessions.get_sessions(session=session, patient=patient)
    ]


@router.post("/patients/{patient_id}/sessions", status_code=status.HTTP_201_CREATED)
def create_session(
    patient_id: IdPath, data: TherapySessionCreate, scope: WriteScope, session: SessionDep, context: ApiAudit
) -> TherapySessionRead:
    """Record a therapy session (date, device unit, settings); upload its recording with PUT .../recording."""
    therapy_session = clinic_sessions.create_session(
        session=session, scope=scope, context=context, patient_id=patient_id, data=data
    )
    return clinic_sessions.session_read(therapy_session)


@router.get("/sessions/{session_id}")
def get_session(session_id: IdPath, scope: ReadScope, session: SessionDep, context: ApiAudit) -> TherapySessionRead:
    """One therapy session with its settings, recording and headline metrics."""
    return clinic_sessions.session_read(
        clinic_sessions.get_session(session=session, scope=scope, context=context, session_id=session_id)
    )


@router.delete("/sessions/{session_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_session(
    session_id: IdPath, scope: WriteScope, session: SessionDep, settings: SettingsDep, context: ApiAudit
) -> None:
    """Delete a session entered by mistake, with its recording."""
    clinic_sessions.delete_session(
        session=session, scope=scope, context=context, session_id=session_id, data_dir=settings.DATA_DIR
    )


@router.get("/sessions/{session_id}/analysis")
def get_session_analysis(
    session_id: IdPath, scope: ReadScope, session: SessionDep, context: ApiAudit
) -> dict[str, Any]:
    """The full analysis of the session's recording: events, strides, gait-cycle curves, assistance, quality."""
    therapy_session = clinic_sessions.get_session(
        session=session, scope=scope, context=context, session_id=session_id, view="analysis"
    )
    if therapy_session.analysis is None:
        raise NotFoundError(f"Session {session_id} has no recording yet; upload it with PUT .../recording.")
    return therapy_session.analysis


@router.put(
    "/sessions/{session_id}/recording", openapi_extra=upload_body("The session's recording (any readable format).")
)
async def upload_session_recording(
    session_id: IdPath,
    request: Request,
    scope: WriteScope,
    session: SessionDep,
    settings: SettingsDep,
    context: ApiAudit,
) -> TherapySessionRead:
    """Upload the session's recording as the multipart field `file`: it is read, analysed and stored, or refused whole.

    Formats: CSV (the exohub convention), Parquet, C3D, XDF, EDF/BDF, by the file name's suffix.
    """
    therapy_session = clinic_sessions.get_session(
        session=session, scope=scope, context=context, session_id=session_id, view="upload"
    )
    clinic_sessions.check_can_attach(therapy_session)
    organisation_id, session_date = therapy_session.organisation_id, therapy_session.session_date
    session.commit()  # receiving and analysing take seconds: hold no transaction (and no SQLite lock) meanwhile
    with incoming_file(settings.DATA_DIR) as incoming:
        stored = await receive_file(request, incoming, max_bytes=settings.MAX_RECORDING_BYTES, what="the recording")
        prepared = await run_in_threadpool(
            lambda: clinic_sessions.prepare_recording(
                organisation_id=organisation_id,
                session_date=session_date,
                incoming=incoming,
                stored=stored,
                data_dir=settings.DATA_DIR,
            )
        )
    try:
        therapy_session = clinic_sessions.get_session_for_attach(session=session, session_id=session_id)
    except BaseException:
        prepared.path.unlink(missing_ok=True)
        raise
    clinic_sessions.attach_prepared(
        session=session, context=context, therapy_session=therapy_session, prepared=prepared
    )
    return clinic_sessions.session_read(therapy_session)


@router.get(
    "/sessions/{session_id}/recording",
    response_class=FileResponse,
    responses={200: {"content": {progress.PARQUET_MEDIA_TYPE: {}}, "description": "The stored recording (Parquet)."}},
)
def download_session_recording(
    session_id: IdPath, scope: ReadScope, session: SessionDep, settings: SettingsDep, context: ApiAudit
) -> FileResponse:
    """Download the session's recording as stored (Parquet, readable by `exohub.signals.read_recording`)."""
    therapy_session = clinic_sessions.get_session(
        session=session, scope=scope, context=context, session_id=session_id, view="download recording"
    )
    path = clinic_sessions.recording_file(data_dir=settings.DATA_DIR, therapy_session=therapy_session)
    return progress.recording_response(path, therapy_session)


# Outcome measures --------------------------------------------------------------------------------------


@router.get("/patients/{patient_id}/outcomes")
def get_patient_outcomes(
    patient_id: IdPath, scope: ReadScope, session: SessionDep, context: ApiAudit
) -> list[OutcomeRead]:
    """A patient's outcome measurements, oldest first, each with its unit and code (LOINC where one exists)."""
    patient = service.get(session=session, scope=scope, context=context, patient_id=patient_id, view="outcomes")
    return [
        clinic_outcomes.outcome_read(item) for item in clinic_outcomes.get_outcomes(session=session, patient=patient)
    ]


@router.post("/patients/{patient_id}/outcomes", status_code=status.HTTP_201_CREATED)
def create_patient_outcome(
    patient_id: IdPath, data: OutcomeCreate, scope: WriteScope, session: SessionDep, context: ApiAudit
) -> OutcomeRead:
    """Record an outcome measure (10MWT, 6MWT, TUG, Berg with its 14 items, FAC), checked against its range."""
    outcome = clinic_outcomes.create_outcome(
        session=session, scope=scope, context=context, patient_id=patient_id, data=data
    )
    return clinic_outcomes.outcome_read(outcome)


@router.delete("/outcomes/{outcome_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_outcome(outcome_id: IdPath, scope: WriteScope, session: SessionDep, context: ApiAudit) -> None:
    """Delete an outcome measurement entered by mistake."""
    clinic_outcomes.delete_outcome(session=session, scope=scope, context=context, outcome_id=outcome_id)


# Device units ------------------------------------------------------------------------------------------


@router.get("/devices")
def get_devices(scope: DeviceReadScope, session: SessionDep, params: PageParamsDep) -> Page[DeviceUnitRead]:
    """The device units of your organisations."""
    return service.get_devices(session=session, scope=scope, params=params)


@router.post("/devices", status_code=status.HTTP_201_CREATED)
def create_device(
    data: DeviceUnitCreate, scope: DeviceManageScope, session: SessionDep, context: ApiAudit
) -> DeviceUnitRead:
    """Register a device unit (admins and fleet managers)."""
    return DeviceUnitRead.model_validate(
        service.create_device(session=session, scope=scope, context=context, data=data)
    )


@router.get("/devices/{device_id}")
def get_device(device_id: IdPath, scope: DeviceReadScope, session: SessionDep) -> DeviceUnitRead:
    """One device unit of your organisations."""
    return DeviceUnitRead.model_validate(service.get_device(session=session, scope=scope, device_id=device_id))
