"""Pages of the clinic: patients, a patient's progress and outcomes, device units (a session's: session_pages)."""

from typing import Annotated, Any

from fastapi import APIRouter, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from exohub.web.accounts.models import Organisation
from exohub.web.clinic import outcomes as clinic_outcomes
from exohub.web.clinic import plots, progress, service
from exohub.web.clinic import sessions as clinic_sessions
from exohub.web.clinic.analysis import headline
from exohub.web.clinic.conditions import CONDITIONS
from exohub.web.clinic.measures import MEASURES, MeasureCode
from exohub.web.clinic.models import AffectedSide, AssistMode, ConsentStatus, Patient, Sex
from exohub.web.clinic.schemas import DeviceUnitCreate, OutcomeCreate, PatientCreate, PatientUpdate
from exohub.web.deps import PageAudit, SessionDep, page_scope
from exohub.web.errors import DomainError
from exohub.web.fields import IdPath, SearchQuery
from exohub.web.forms import form_error, form_values, validate_form
from exohub.web.pagination import PageParams
from exohub.web.templating import render
from exohub.web.tenancy import Permission, TenantScope

router = APIRouter(prefix="/clinic")

ReadScope = Annotated[TenantScope, page_scope(Permission.PATIENT_READ)]
WriteScope = Annotated[TenantScope, page_scope(Permission.PATIENT_WRITE)]
DeviceReadScope = Annotated[TenantScope, page_scope(Permission.DEVICE_READ)]
DeviceManageScope = Annotated[TenantScope, page_scope(Permission.DEVICE_MANAGE)]

BERG_ITEM_FIELDS = tuple(f"item_{number}" for number in range(1, 15))
CHOICES = {
    "sexes": [(item.value, item.value) for item in Sex],
    "sides": [(item.value, item.value) for item in AffectedSide],
    "consents": [(item.value, item.value.replace("_", " ")) for item in ConsentStatus],
    "modes": [("", "—"), *((item.value, item.value.replace("_", " ")) for item in AssistMode)],
    "measures": [(code.value, MEASURES[code].name) for code in MeasureCode],
    "conditions": [(item.code, f"{item.code} {item.label}") for item in CONDITIONS],
}


# Patients ----------------------------------------------------------------------------------------------


@router.get("/patients", response_class=HTMLResponse)
def patients_page(
    request: Request, scope: ReadScope, session: SessionDep, context: PageAudit, q: SearchQuery = None
) -> HTMLResponse:
    page = service.get_all(
        session=session, scope=scope, context=context, params=PageParams(limit=200, sort="full_name"), q=q
    )
    writable = sorted(scope.principal.scope(Permission.PATIENT_WRITE).organisation_ids)
    return render(
        request, "clinic/patients.html", {"principal": scope.principal, "page": page, "q": q, "can_add": bool(writable)}
    )


@router.get("/patients/new", response_class=HTMLResponse)
def patient_new_page(request: Request, scope: WriteScope, session: SessionDep) -> HTMLResponse:
    return _render_patient_form(request, scope, session, {}, {})


def _render_patient_form(
    request: Request,
    scope: TenantScope,
    session: SessionDep,
    values: dict[str, str],
    errors: dict[str, str],
    status_code: int = 200,
) -> HTMLResponse:
    clinics = _clinic_choices(session, scope)
    context = {"principal": scope.principal, "values": values, "errors": errors, "clinics": clinics, **CHOICES}
    return render(request, "clinic/patient_new.html", context, status_code=status_code)


def _clinic_choices(session: SessionDep, scope: TenantScope) -> list[tuple[int, str]]:
    """The organisations a form may file into: those where the caller holds the scope's permission."""
    statement = select(Organisation).where(scope.where(Organisation.id)).order_by(Organisation.name)
    return [(organisation.id, organisation.name) for organisation in session.scalars(statement)]


@router.post("/patients", response_class=HTMLResponse)
async def patient_create_submit(
    request: Request, scope: WriteScope, session: SessionDep, context: PageAudit
) -> Response:
    values = form_values(await request.form())
    data, errors = validate_form(PatientCreate, values)
    if data is not None:
        try:
            patient = service.create(session=session, scope=scope, context=context, data=data)
            return RedirectResponse(f"/clinic/patients/{patient.id}", status_code=status.HTTP_303_SEE_OTHER)
        except DomainError as err:
            errors = form_error(err, field="full_name")
    return _render_patient_form(request, scope, session, values, errors, status.HTTP_422_UNPROCESSABLE_CONTENT)


@router.get("/patients/{patient_id}", response_class=HTMLResponse)
def patient_page(
    request: Request, patient_id: IdPath, scope: ReadScope, session: SessionDep, context: PageAudit
) -> HTMLResponse:
    patient = service.get(session=session, scope=scope, context=context, patient_id=patient_id, view="progress page")
    return _render_patient(request, scope, session, patient, {}, {})


def _render_patient(
    request: Request,
    scope: TenantScope,
    session: SessionDep,
    patient: Patient,
    values: dict[str, str],
    errors: dict[str, str],
    status_code: int = 200,
) -> HTMLResponse:
    view = progress.progress_view(session=session, patient=patient)
    sessions = clinic_sessions.get_sessions(session=session, patient=patient)
    outcomes = clinic_outcomes.get_outcomes(session=session, patient=patient)
    context = {
        "principal": scope.principal,
        "patient": patient,
        "can_write": scope.principal.can(Permission.PATIENT_WRITE, patient.organisation_id),
        "outcome_plots": [plots.timeline_svg(series) for series in view.outcome_series],
        "session_plots": [plots.session_bars_svg(title, unit, points) for title, unit, points in view.session_series],
        "changes": view.changes,
        "sessions": [(item, headline(item.analysis)) for item in sessions],
        "outcomes": [clinic_outcomes.outcome_read(item) for item in reversed(outcomes)],
        "values": values,
        "errors": errors,
        "berg_items": MEASURES[MeasureCode.BERG_BALANCE].items,
        "unit_labels": {code.value: measure.unit_label for code, measure in MEASURES.items()},
        "today": service.latest_date_anywhere(),
        **CHOICES,
    }
    return render(request, "clinic/patient.html", context, status_code=status_code)


@router.get("/patients/{patient_id}/edit", response_class=HTMLResponse)
def patient_edit_page(
    request: Request, patient_id: IdPath, scope: WriteScope, session: SessionDep, context: PageAudit
) -> HTMLResponse:
    patient = service.get(session=session, scope=scope, context=context, patient_id=patient_id, view="edit page")
    values = {name: _form_value(getattr(patient, name)) for name in PatientUpdate.model_fields}
    return _render_patient_edit(request, scope, patient, values, {})


def _form_value(value: object) -> str:
    return "" if value is None else str(getattr(value, "value", value))


def _render_patient_edit(
    request: Request,
    scope: TenantScope,
    patient: Patient,
    values: dict[str, str],
    errors: dict[str, str],
    status_code: int = 200,
) -> HTMLResponse:
    context = {"principal": scope.principal, "patient": patient, "values": values, "errors": errors, **CHOICES}
    return render(request, "clinic/patient_edit.html", context, status_code=status_code)


@router.post("/patients/{patient_id}/edit", response_class=HTMLResponse)
async def patient_edit_submit(
    request: Request, patient_id: IdPath, scope: WriteScope, session: SessionDep, context: PageAudit
) -> Response:
    form = await request.form()
    # Every field of the form is sent; an emptied optional field clears it.
    values = {
        name: value for name, value in form.items() if isinstance(value, str) and name in PatientUpdate.model_fields
    }
    cleared = {name: value if value or name == "goals" else None for name, value in values.items()}
    data, errors = validate_form(PatientUpdate, cleared)
    if data is not None:
        try:
            service.update(session=session, scope=scope, context=context, patient_id=patient_id, data=data)
            return RedirectResponse(f"/clinic/patients/{patient_id}", status_code=status.HTTP_303_SEE_OTHER)
        except DomainError as err:
            errors = form_error(err, field="full_name")
    patient = service.get(session=session, scope=scope, context=context, patient_id=patient_id, view="edit page")
    return _render_patient_edit(request, scope, patient, values, errors, status.HTTP_422_UNPROCESSABLE_CONTENT)


@router.post("/patients/{patient_id}/outcomes", response_class=HTMLResponse)
async def outcome_create_submit(
    request: Request, patient_id: IdPath, scope: WriteScope, session: SessionDep, context: PageAudit
) -> Response:
    values = form_values(await request.form())
    fields: dict[str, Any] = {key: value for key, value in values.items() if key not in BERG_ITEM_FIELDS}
    items, item_error = _berg_items(values)
    if items is not None:
        fields["item_scores"] = items
    data, errors = validate_form(OutcomeCreate, fields)
    if item_error:
        data, errors = None, {"item_scores": item_error, **errors}
    if data is not None:
        try:
            clinic_outcomes.create_outcome(
                session=session, scope=scope, context=context, patient_id=patient_id, data=data
            )
            return RedirectResponse(f"/clinic/patients/{patient_id}#outcomes", status_code=status.HTTP_303_SEE_OTHER)
        except DomainError as err:
            errors = form_error(err, field="value")
    patient = service.get(session=session, scope=scope, context=context, patient_id=patient_id, view="progress page")
    return _render_patient(request, scope, session, patient, values, errors, status.HTTP_422_UNPROCESSABLE_CONTENT)


def _berg_items(values: dict[str, str]) -> tuple[list[int] | None, str]:
    """The Berg item scores of the outcome form: all 14 or none, each a whole number (else a message saying which)."""
    filled = {number: values[name] for number, name in enumerate(BERG_ITEM_FIELDS, start=1) if values.get(name)}
    if not filled:
        return None, ""
    if values.get("measure") != MeasureCode.BERG_BALANCE.value:
        return None, "Item scores belong to the Berg Balance Scale only; clear them for this measure."
    missing = [number for number in range(1, len(BERG_ITEM_FIELDS) + 1) if number not in filled]
    if missing:
        return None, f"Score all 14 Berg items or none (then enter the total); items {_ranges(missing)} are empty."
    not_whole = [number for number, text in filled.items() if not text.strip().isdecimal()]  # "²" is a digit, no int
    if not_whole:
        return None, f"Berg items are scored 0 to 4 in whole points; items {_ranges(not_whole)} are not."
    return [int(filled[number]) for number in sorted(filled)], ""


def _ranges(numbers: list[int]) -> str:
    """1, 2, 3, 7, 9, 10 -> "1-3, 7, 9-10"."""
    runs = [[numbers[0], numbers[0]]]
    for number in numbers[1:]:
        if number == runs[-1][1] + 1:
            runs[-1][1] = number
        else:
            runs.append([number, number])
    return ", ".join(str(first) if first == last else f"{first}-{last}" for first, last in runs)


@router.get("/patients/{patient_id}/report.pdf")
def patient_report_download(patient_id: IdPath, scope: ReadScope, session: SessionDep, context: PageAudit) -> Response:
    patient = service.get(session=session, scope=scope, context=context, patient_id=patient_id, view="report")
    pdf = progress.progress_report_pdf(session=session, patient=patient, author=scope.principal.full_name)
    return progress.pdf_response(pdf, patient)


# Devices -----------------------------------------------------------------------------------------------


@router.get("/devices", response_class=HTMLResponse)
def devices_page(request: Request, scope: DeviceReadScope, session: SessionDep) -> HTMLResponse:
    return _render_devices(request, scope, session, {}, {})


def _render_devices(
    request: Request,
    scope: TenantScope,
    session: SessionDep,
    values: dict[str, str],
    errors: dict[str, str],
    status_code: int = 200,
) -> HTMLResponse:
    devices = service.get_devices(session=session, scope=scope, params=PageParams(limit=200, sort="model_name"))
    manage = scope.principal.scope(Permission.DEVICE_MANAGE)
    context = {
        "principal": scope.principal,
        "devices": devices,
        "clinics": _clinic_choices(session, manage) if manage.organisation_ids else [],
        "values": values,
        "errors": errors,
    }
    return render(request, "clinic/devices.html", context, status_code=status_code)


@router.post("/devices", response_class=HTMLResponse)
async def device_create_submit(
    request: Request, scope: DeviceManageScope, session: SessionDep, context: PageAudit
) -> Response:
    values = form_values(await request.form())
    data, errors = validate_form(DeviceUnitCreate, values)
    if data is not None:
        try:
            service.create_device(session=session, scope=scope, context=context, data=data)
            return RedirectResponse("/clinic/devices", status_code=status.HTTP_303_SEE_OTHER)
        except DomainError as err:
            errors = form_error(err, field="serial_number")
    return _render_devices(request, scope, session, values, errors, status.HTTP_422_UNPROCESSABLE_CONTENT)
