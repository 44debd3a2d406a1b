"""The clinic's patients and device units: patients stay in their clinic and every read of one is audited.

Sessions with their recordings are in :mod:`exohub.web.clinic.sessions`, outcome measures and progress in
:mod:`exohub.web.clinic.outcomes`; all take the caller's scope the same way.

Every function takes the caller's :class:`~exohub.web.tenancy.TenantScope` (``patient:read`` or
``patient:write``; ``device:read``/``device:manage`` for units); another clinic's object is *not found*.
"""

from contextlib import AbstractContextManager
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from exohub.web.audit import service as audit
from exohub.web.audit.service import AuditContext
from exohub.web.clinic.conditions import condition_label
from exohub.web.clinic.models import DeviceUnit, OutcomeMeasurement, Patient, TherapySession
from exohub.web.clinic.schemas import (
    DeviceUnitCreate,
    DeviceUnitRead,
    PatientCreate,
    PatientRead,
    PatientUpdate,
)
from exohub.web.database import unique_or_conflict, utcnow
from exohub.web.errors import InvalidInputError
from exohub.web.pagination import Page, PageParams, paginate, search_term
from exohub.web.tenancy import TenantScope


def latest_date_anywhere() -> date:
    """Today's date where it is latest (UTC+14): no clinic anywhere can be on a later date."""
    return (utcnow() + timedelta(hours=14)).date()


def check_not_in_future(value: date, *, field: str, what: str) -> None:
    if value > latest_date_anywhere():
        raise InvalidInputError(
            f"{what} {value.isoformat()} is in the future; enter the date it took place.", field=field
        )


def check_patient_date(patient: Patient, value: date, *, field: str, what: str) -> None:
    """Refuse a date of the patient's care (a session, a measurement) in the future or before their birth."""
    check_not_in_future(value, field=field, what=what)
    if value < patient.date_of_birth:
        raise InvalidInputError(f"The {what.lower()} is before the patient's date of birth.", field=field)


# Patients ----------------------------------------------------------------------------------------------


def record_patient_event(
    session: Session, context: AuditContext, patient: Patient, verb: str, detail: dict[str, Any] | None = None
) -> None:
    """Audit a read or write of a patient; the detail never holds identifying data."""
    audit.record(
        session=session,
        context=context,
        action=f"patient.{verb}",
        object_type="patient",
        object_id=patient.id,
        organisation_id=patient.organisation_id,
        detail=detail or {},
    )


def get(
    *, session: Session, scope: TenantScope, context: AuditContext, patient_id: int, view: str = "record"
) -> Patient:
    """Return one patient of the caller's clinics; the read is audited (``view`` says which page or export)."""
    patient = session.get(Patient, patient_id)
    scope.check(None if patient is None else patient.organisation_id, what="Patient")
    assert patient is not None  # noqa: S101 - scope.check raised otherwise
    record_patient_event(session, context, patient, "read", {"view": view})
    return patient


def get_all(
    *, session: Session, scope: TenantScope, context: AuditContext, params: PageParams, q: str | None = None
) -> Page[PatientRead]:
    """List the patients of the caller's clinics (search by name or record number); the read is audited."""
    statement = select(Patient).where(scope.where(Patient.organisation_id))
    if pattern := search_term(q):
        statement = statement.where(
            or_(Patient.full_name.ilike(pattern, escape="\\"), Patient.record_number.ilike(pattern, escape="\\"))
        )
    page = paginate(
        session,
        statement,
        params,
        sortable={
            "full_name": Patient.full_name,
            "created_at": Patient.created_at,
            "date_of_birth": Patient.date_of_birth,
        },
        default_sort=Patient.id,
        to_item=PatientRead.model_validate,
    )
    for organisation_id in sorted({item.organisation_id for item in page.items}):
        audit.record(
            session=session,
            context=context,
            action="patient.list",
            object_type="patient",
            object_id=None,
            organisation_id=organisation_id,
            detail={"patient_ids": [item.id for item in page.items if item.organisation_id == organisation_id]},
        )
    return page


def _check_patient_values(date_of_birth: date, condition_code: str, label: str | None) -> str:
    check_not_in_future(date_of_birth, field="date_of_birth", what="Date of birth")
    readable = label or condition_label(condition_code)
    if readable is None:
        raise InvalidInputError(
            f"{condition_code} is not in exohub's catalogue of conditions; give its readable name (condition_label).",
            field="condition_label",
        )
    return readable


def create(*, session: Session, scope: TenantScope, context: AuditContext, data: PatientCreate) -> Patient:
    """Register a patient in one of the caller's clinics."""
    scope.check(data.organisation_id, what="Organisation")
    label = _check_patient_values(data.date_of_birth, data.condition_code, data.condition_label)
    with _unique_record_number(session, data.record_number):
        patient = Patient(**data.model_dump(exclude={"condition_label"}), condition_label=label)
        if data.consent_status.value != "not_asked":
            patient.consent_updated_at = utcnow()
        session.add(patient)
    record_patient_event(session, context, patient, "create")
    return patient


def update(
    *, session: Session, scope: TenantScope, context: AuditContext, patient_id: int, data: PatientUpdate
) -> Patient:
    """Change a patient's details; only the fields sent change."""
    patient = get(session=session, scope=scope, context=context, patient_id=patient_id, view="update")
    changes = data.model_dump(exclude_unset=True)
    required = ("full_name", "date_of_birth", "sex", "condition_code", "affected_side", "goals", "consent_status")
    for name in required:
        if name in changes and changes[name] is None:
            raise InvalidInputError(f"{name} cannot be emptied; send a value (goals may be an empty text).", field=name)
    if "date_of_birth" in changes:
        _check_birth_before_records(session, patient, changes["date_of_birth"])
    code = changes.get("condition_code", patient.condition_code)
    label = changes.get("condition_label") or (None if "condition_code" in changes else patient.condition_label)
    changes["condition_label"] = _check_patient_values(changes.get("date_of_birth", patient.date_of_birth), code, label)
    with _unique_record_number(session, changes.get("record_number", patient.record_number)):
        if "consent_status" in changes and changes["consent_status"] != patient.consent_status:
            patient.consent_updated_at = utcnow()
        for name, value in changes.items():
            setattr(patient, name, value)
    record_patient_event(session, context, patient, "update", {"fields": sorted(changes)})
    return patient


def _check_birth_before_records(session: Session, patient: Patient, date_of_birth: date) -> None:
    """Refuse a date of birth after the patient's first session or outcome measurement."""
    first_session = session.scalar(
        select(func.min(TherapySession.session_date)).where(TherapySession.patient_id == patient.id)
    )
    first_outcome = session.scalar(
        select(func.min(OutcomeMeasurement.measured_on)).where(OutcomeMeasurement.patient_id == patient.id)
    )
    first = min((day for day in (first_session, first_outcome) if day is not None), default=None)
    if first is not None and date_of_birth > first:
        raise InvalidInputError(
            f"The date of birth {date_of_birth.isoformat()} is after the patient's first session or measurement "
            f"({first.isoformat()}); check the date.",
            field="date_of_birth",
        )


def _unique_record_number(session: Session, record_number: str | None) -> AbstractContextManager[None]:
    return unique_or_conflict(session, f"Another patient of this clinic already has record number {record_number!r}.")


# Device units ------------------------------------------------------------------------------------------


def get_devices(*, session: Session, scope: TenantScope, params: PageParams) -> Page[DeviceUnitRead]:
    """List the device units of the caller's clinics."""
    return paginate(
        session,
        select(DeviceUnit).where(scope.where(DeviceUnit.organisation_id)),
        params,
        sortable={"model_name": DeviceUnit.model_name, "serial_number": DeviceUnit.serial_number},
        default_sort=DeviceUnit.id,
        to_item=DeviceUnitRead.model_validate,
    )


def get_device(*, session: Session, scope: TenantScope, device_id: int) -> DeviceUnit:
    device = session.get(DeviceUnit, device_id)
    scope.check(None if device is None else device.organisation_id, what="Device unit")
    assert device is not None  # noqa: S101
    return device


def create_device(*, session: Session, scope: TenantScope, context: AuditContext, data: DeviceUnitCreate) -> DeviceUnit:
    """Register a device unit in one of the caller's organisations."""
    scope.check(data.organisation_id, what="Organisation")
    with unique_or_conflict(session, f"{data.manufacturer} unit {data.serial_number!r} is already registered."):
        device = DeviceUnit(**data.model_dump())
        session.add(device)
    audit.record(
        session=session,
        context=context,
        action="device_unit.create",
        object_type="device_unit",
        object_id=device.id,
        organisation_id=device.organisation_id,
        detail={"serial_number": device.serial_number},
    )
    return device
