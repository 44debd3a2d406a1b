"""The cross-tenant registry: every endpoint that touches one organisation's objects is listed here.

Each later domain adds to it, in its own section:

- ``TENANT_ENDPOINTS``: endpoints whose path names an organisation-owned object, or whose body names the
  organisation a new object goes to (``"{organisation_id}"`` as a body value is filled in like a path
  parameter). The cross-tenant test calls each one as every role of clinic A on clinic B and requires 404.
- ``TENANT_REFERENCES``: writes on an organisation's own object whose body names another object by id
  (``"{device_id}"``). The test fills the path with clinic A's ids and the body with clinic B's, and
  requires 404 (403 where the role may not make the write at all); its probe, as a therapist with clinic A's
  own ids, must succeed.
- ``TENANT_LISTS``: list endpoints; the test requires that none of clinic B's private markers
  (member emails, audit details...) appear in what clinic A's roles receive.
- ``CONSORTIUM_WIDE``: endpoints with a path parameter that are shared by the whole consortium on
  purpose, each with the reason. A route in neither place fails ``test_every_route_is_registered``.
- ``WORLD_BUILDERS``: functions that create a domain's objects in a clinic and return the path
  parameters naming them (``{"patient_id": 7}``) and markers only that clinic may see.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from sqlalchemy.orm import Session

from exohub.web.accounts.models import Organisation, User
from exohub.web.audit import service as audit
from exohub.web.audit.service import AuditContext
from exohub.web.clinic.models import OutcomeMeasurement
from exohub.web.tenancy import Role
from tests.web.factories import make_device_unit, make_model_version, make_patient, make_therapy_session


@dataclass
class Clinic:
    """One clinic of the test world: its organisation, one user per role, its objects' ids and markers."""

    organisation: Organisation
    users: dict[Role, User]
    ids: dict[str, int] = field(default_factory=dict)
    markers: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class TenantEndpoint:
    method: str
    path: str
    body: Mapping[str, Any] | None = None
    kind: Literal["api", "page"] = "api"

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"


WorldBuilder = Callable[[Session, Clinic], None]

TENANT_ENDPOINTS: list[TenantEndpoint] = []
TENANT_REFERENCES: list[TenantEndpoint] = []
TENANT_LISTS: list[TenantEndpoint] = []
CONSORTIUM_WIDE: dict[str, str] = {}
WORLD_BUILDERS: list[WorldBuilder] = []


# accounts ----------------------------------------------------------------------------------------------

_NEW_MEMBER = {
    "email": "new.person@example.org",
    "role": "therapist",
    "full_name": "New Person",
    "password": "a long initial password",
}


def _accounts_world(session: Session, clinic: Clinic) -> None:
    therapist = clinic.users[Role.THERAPIST]
    clinic.ids["organisation_id"] = clinic.organisation.id
    clinic.ids["user_id"] = therapist.id
    clinic.ids["membership_id"] = therapist.memberships[0].id
    clinic.markers.extend(user.email for user in clinic.users.values())


TENANT_ENDPOINTS += [
    TenantEndpoint("GET", "/api/v1/organisations/{organisation_id}/members"),
    TenantEndpoint("POST", "/api/v1/organisations/{organisation_id}/members", _NEW_MEMBER),
    TenantEndpoint("DELETE", "/api/v1/organisations/{organisation_id}/members/{membership_id}"),
    TenantEndpoint("PATCH", "/api/v1/organisations/{organisation_id}", {"city": "Elsewhere"}),
    TenantEndpoint("GET", "/api/v1/users/{user_id}"),
    TenantEndpoint("PATCH", "/api/v1/users/{user_id}", {"full_name": "Renamed"}),
    TenantEndpoint("GET", "/organisations/{organisation_id}/members", kind="page"),
    TenantEndpoint("POST", "/organisations/{organisation_id}/members", _NEW_MEMBER, kind="page"),
    TenantEndpoint("POST", "/organisations/{organisation_id}/members/{membership_id}/delete", {}, kind="page"),
]
TENANT_LISTS += [
    TenantEndpoint("GET", "/api/v1/users"),
    TenantEndpoint("GET", "/users", kind="page"),
    TenantEndpoint("GET", "/dashboard", kind="page"),
]
CONSORTIUM_WIDE.update(
    {
        "GET /api/v1/organisations/{organisation_id}": "the directory profile (name, kind, country) is public",
        "GET /api/v1/organisations": "the directory of organisations (name, kind, country) is public",
    }
)
WORLD_BUILDERS.append(_accounts_world)


# audit -------------------------------------------------------------------------------------------------


def _audit_world(session: Session, clinic: Clinic) -> None:
    marker = f"audit-marker-{clinic.organisation.id}"
    audit.record(
        session=session,
        context=AuditContext(actor_user_id=clinic.users[Role.ADMIN].id, address="test"),
        action="test.private",
        object_type="organisation",
        object_id=clinic.organisation.id,
        organisation_id=clinic.organisation.id,
        detail={"marker": marker},
    )
    clinic.markers.append(marker)


TENANT_LISTS += [
    TenantEndpoint("GET", "/api/v1/audit-events"),
    TenantEndpoint("GET", "/audit", kind="page"),
]
WORLD_BUILDERS.append(_audit_world)


# consortium --------------------------------------------------------------------------------------------

_SHARED_ALLIANCE_ROUTES = (
    "GET /api/v1/alliances/{alliance_id}",
    "POST /api/v1/alliances/{alliance_id}/members",
    "POST /api/v1/alliances/{alliance_id}/goals",
    "PATCH /api/v1/alliances/{alliance_id}/goals/{goal_id}",
    "DELETE /api/v1/alliances/{alliance_id}/goals/{goal_id}",
    "GET /alliances/{alliance_id}",
    "POST /alliances/{alliance_id}/goals",
    "POST /alliances/{alliance_id}/goals/{goal_id}/delete",
)
CONSORTIUM_WIDE.update(
    dict.fromkeys(
        (*_SHARED_ALLIANCE_ROUTES, "GET /api/v1/alliances"),
        "alliances and their goals are shared by the whole consortium; writes are checked by role",
    )
)


# models ------------------------------------------------------------------------------------------------
# A draft is its organisation's own: every endpoint on another clinic's draft answers 404. Published
# versions are shared with the whole consortium on purpose; tests/web/models/test_router.py shows that
# clinic A reads (but cannot change) clinic B's published version.


def _models_world(session: Session, clinic: Clinic) -> None:
    marker = f"private-draft-{clinic.organisation.id}"
    draft = make_model_version(session, clinic.organisation, name=marker, site=f"site-of-{marker}")
    clinic.ids["model_id"] = draft.id
    clinic.markers.append(marker)


_NEW_DRAFT = {
    "organisation_id": "{organisation_id}",
    "name": "hip-phase-cross-tenant",
    "version": "1.0.0",
    "code_version": "exohub 0.4.0",
    "training_sites": [{"site": "Clinic A", "subjects": 3}],
    "intended_use": "Gait phase.",
    "limitations": "None known.",
}

TENANT_ENDPOINTS += [
    TenantEndpoint("POST", "/api/v1/models", _NEW_DRAFT),
    TenantEndpoint("GET", "/api/v1/models/{model_id}"),
    TenantEndpoint("PUT", "/api/v1/models/{model_id}/file"),
    TenantEndpoint("GET", "/api/v1/models/{model_id}/file"),
    TenantEndpoint("POST", "/api/v1/models/{model_id}/publish"),
    TenantEndpoint("POST", "/api/v1/models/{model_id}/withdraw"),
    TenantEndpoint("GET", "/models/{model_id}", kind="page"),
    TenantEndpoint("GET", "/models/{model_id}/file", kind="page"),
]
TENANT_LISTS += [
    TenantEndpoint("GET", "/api/v1/models"),
    TenantEndpoint("GET", "/models", kind="page"),
]
WORLD_BUILDERS.append(_models_world)


# clinic ------------------------------------------------------------------------------------------------
# Patients, their sessions, recordings and outcomes are identifiable and never leave their clinic; device
# units belong to one organisation too.


def _clinic_world(session: Session, clinic: Clinic) -> None:
    organisation = clinic.organisation
    patient = make_patient(session, organisation, full_name=f"Private Patient {organisation.id}")
    device = make_device_unit(session, organisation, serial_number=f"SERIAL-{organisation.id}-PRIVATE")
    therapy_session = make_therapy_session(session, patient)
    therapy_session.notes = f"session-note-{organisation.id}"
    outcome = OutcomeMeasurement(
        organisation_id=organisation.id,
        patient_id=patient.id,
        measure="tug",
        value=17.5,
        measured_on=date(2026, 9, 1),
        notes=f"outcome-note-{organisation.id}",
    )
    session.add(outcome)
    session.flush()
    clinic.ids.update(patient_id=patient.id, device_id=device.id, session_id=therapy_session.id, outcome_id=outcome.id)
    clinic.markers.extend([patient.full_name, device.serial_number, therapy_session.notes, outcome.notes])


_SESSION = {"session_date": "2026-10-02"}
_NEW_PATIENT = {
    "organisation_id": "{organisation_id}",
    "full_name": "New Patient",
    "date_of_birth": "1960-01-02",
    "sex": "female",
    "condition_code": "I63.9",
    "affected_side": "left",
    "consent_status": "granted",
}
_NEW_DEVICE = {
    "organisation_id": "{organisation_id}",
    "manufacturer": "StrideWorks",
    "model_name": "H2",
    "serial_number": "H2-CROSS-TENANT",
}
_OUTCOME = {"measure": "10mwt_comfortable", "value": 0.5, "measured_on": "2026-10-02"}

TENANT_ENDPOINTS += [
    TenantEndpoint("POST", "/api/v1/clinic/patients", _NEW_PATIENT),
    TenantEndpoint("POST", "/api/v1/clinic/devices", _NEW_DEVICE),
    TenantEndpoint("POST", "/clinic/patients", _NEW_PATIENT, kind="page"),
    TenantEndpoint("POST", "/clinic/devices", _NEW_DEVICE, kind="page"),
    TenantEndpoint("GET", "/api/v1/clinic/patients/{patient_id}"),
    TenantEndpoint("PATCH", "/api/v1/clinic/patients/{patient_id}", {"goals": "Walk to the shop"}),
    TenantEndpoint("GET", "/api/v1/clinic/patients/{patient_id}/progress"),
    TenantEndpoint("GET", "/api/v1/clinic/patients/{patient_id}/report.pdf"),
    TenantEndpoint("GET", "/api/v1/clinic/patients/{patient_id}/sessions"),
    TenantEndpoint("POST", "/api/v1/clinic/patients/{patient_id}/sessions", _SESSION),
    TenantEndpoint("GET", "/api/v1/clinic/patients/{patient_id}/outcomes"),
    TenantEndpoint("POST", "/api/v1/clinic/patients/{patient_id}/outcomes", _OUTCOME),
    TenantEndpoint("DELETE", "/api/v1/clinic/outcomes/{outcome_id}"),
    TenantEndpoint("GET", "/api/v1/clinic/sessions/{session_id}"),
    TenantEndpoint("DELETE", "/api/v1/clinic/sessions/{session_id}"),
    TenantEndpoint("GET", "/api/v1/clinic/sessions/{session_id}/analysis"),
    TenantEndpoint("PUT", "/api/v1/clinic/sessions/{session_id}/recording"),
    TenantEndpoint("GET", "/api/v1/clinic/sessions/{session_id}/recording"),
    TenantEndpoint("GET", "/api/v1/clinic/devices/{device_id}"),
    TenantEndpoint("GET", "/clinic/patients/{patient_id}", kind="page"),
    TenantEndpoint("GET", "/clinic/patients/{patient_id}/edit", kind="page"),
    TenantEndpoint("POST", "/clinic/patients/{patient_id}/edit", {"full_name": "Renamed", "goals": "x"}, kind="page"),
    TenantEndpoint("POST", "/clinic/patients/{patient_id}/outcomes", _OUTCOME, kind="page"),
    TenantEndpoint("GET", "/clinic/patients/{patient_id}/report.pdf", kind="page"),
    TenantEndpoint("GET", "/clinic/patients/{patient_id}/sessions/new", kind="page"),
    TenantEndpoint("POST", "/clinic/patients/{patient_id}/sessions", _SESSION, kind="page"),
    TenantEndpoint("GET", "/clinic/sessions/{session_id}", kind="page"),
    TenantEndpoint("GET", "/clinic/sessions/{session_id}/recording", kind="page"),
]
_SESSION_ON_UNIT = {**_SESSION, "device_unit_id": "{device_id}"}
_OUTCOME_OF_SESSION = {**_OUTCOME, "measured_on": "2026-10-01", "therapy_session_id": "{session_id}"}
TENANT_REFERENCES += [
    TenantEndpoint("POST", "/api/v1/clinic/patients/{patient_id}/sessions", _SESSION_ON_UNIT),
    TenantEndpoint("POST", "/api/v1/clinic/patients/{patient_id}/outcomes", _OUTCOME_OF_SESSION),
    TenantEndpoint("POST", "/clinic/patients/{patient_id}/sessions", _SESSION_ON_UNIT, kind="page"),
    TenantEndpoint("POST", "/clinic/patients/{patient_id}/outcomes", _OUTCOME_OF_SESSION, kind="page"),
]
TENANT_LISTS += [
    TenantEndpoint("GET", "/api/v1/clinic/patients"),
    TenantEndpoint("GET", "/api/v1/clinic/devices"),
    TenantEndpoint("GET", "/clinic/patients", kind="page"),
    TenantEndpoint("GET", "/clinic/patients/new", kind="page"),
    TenantEndpoint("GET", "/clinic/devices", kind="page"),
]
WORLD_BUILDERS.append(_clinic_world)
