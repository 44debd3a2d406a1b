"""One factory per model: small functions that create valid rows with sensible defaults."""

import itertools
import re
from datetime import date
from functools import cache

from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy.orm import Session

from exohub.web.accounts import auth
from exohub.web.accounts.models import Membership, Organisation, User
from exohub.web.clinic.models import AffectedSide, DeviceUnit, Patient, Sex, TherapySession
from exohub.web.config import Settings
from exohub.web.consortium.models import Alliance, AllianceGoal, AllianceMember
from exohub.web.database import utcnow
from exohub.web.models.models import ModelStatus, ModelVersion
from exohub.web.security import hash_password
from exohub.web.tenancy import OrganisationKind, Role

PASSWORD = "correct horse battery"
_counter = itertools.count(1)


@cache
def _password_hash() -> str:
    return hash_password(PASSWORD)  # hashed once: argon2id is slow on purpose


def make_organisation(
    session: Session,
    *,
    name: str | None = None,
    kind: OrganisationKind = OrganisationKind.CLINIC,
    country_code: str = "JP",
) -> Organisation:
    organisation = Organisation(name=name or f"Clinic {next(_counter)}", kind=kind, country_code=country_code)
    session.add(organisation)
    session.flush()
    return organisation


def make_user(
    session: Session,
    *,
    email: str | None = None,
    roles: list[tuple[Organisation, Role]] | None = None,
    is_superuser: bool = False,
    is_active: bool = True,
) -> User:
    number = next(_counter)
    user = User(
        email=email or f"person{number}@example.org",
        full_name=f"Person {number}",
        password_hash=_password_hash(),
        is_superuser=is_superuser,
        is_active=is_active,
    )
    session.add(user)
    session.flush()
    for organisation, role in roles or []:
        session.add(Membership(user_id=user.id, organisation_id=organisation.id, role=role))
    session.flush()
    session.refresh(user)
    return user


def make_alliance(session: Session, *, members: list[Organisation] = (), name: str | None = None) -> Alliance:  # type: ignore[assignment]
    alliance = Alliance(name=name or f"Alliance {next(_counter)}", region="Asia-Pacific")
    session.add(alliance)
    session.flush()
    for organisation in members:
        session.add(
            AllianceMember(alliance_id=alliance.id, organisation_id=organisation.id, joined_date=date(2026, 1, 1))
        )
    session.flush()
    session.refresh(alliance)
    return alliance


def make_goal(
    session: Session, alliance: Alliance, *, metric: str = "member_organisations", target: float = 10
) -> AllianceGoal:
    goal = AllianceGoal(
        alliance_id=alliance.id,
        title=f"Goal {next(_counter)}",
        metric=metric,
        target_value=target,
        deadline_date=date(2027, 12, 31),
    )
    session.add(goal)
    session.flush()
    return goal


def make_model_version(
    session: Session,
    organisation: Organisation,
    *,
    name: str | None = None,
    version: str = "1.0.0",
    status: ModelStatus = ModelStatus.DRAFT,
    site: str = "Clinic site 1",
    file_sha256: str | None = None,
) -> ModelVersion:
    model = ModelVersion(
        organisation_id=organisation.id,
        name=name or f"gait-model-{next(_counter)}",
        version=version,
        status=status,
        code_version="exohub 0.1.0",
        training_config={"epochs": 3},
        training_sites=[{"site": site, "subjects": 4}],
        metrics={site: {"phase_rmse_pct": 3.2, "mode_accuracy": 0.97}},
        intended_use="Estimating gait phase of adults walking with a hip exoskeleton.",
        limitations="Not validated for stairs.",
        file_sha256=file_sha256,
        file_size_bytes=None if file_sha256 is None else 100,
        published_at=None if status == ModelStatus.DRAFT else utcnow(),
    )
    session.add(model)
    session.flush()
    return model


def make_patient(
    session: Session, organisation: Organisation, *, full_name: str | None = None, condition_code: str = "I63.9"
) -> Patient:
    patient = Patient(
        organisation_id=organisation.id,
        full_name=full_name or f"Patient {next(_counter)}",
        date_of_birth=date(1958, 4, 12),
        sex=Sex.FEMALE,
        condition_code=condition_code,
        condition_label="Cerebral infarction, unspecified",
        affected_side=AffectedSide.LEFT,
    )
    session.add(patient)
    session.flush()
    return patient


def make_device_unit(session: Session, organisation: Organisation, *, serial_number: str | None = None) -> DeviceUnit:
    device = DeviceUnit(
        organisation_id=organisation.id,
        manufacturer="StrideWorks",
        model_name="H2 hip exoskeleton",
        serial_number=serial_number or f"H2-{next(_counter):04d}",
        joints="hip",
    )
    session.add(device)
    session.flush()
    return device


def make_therapy_session(session: Session, patient: Patient, *, on: date = date(2026, 10, 1)) -> TherapySession:
    therapy_session = TherapySession(
        organisation_id=patient.organisation_id, patient_id=patient.id, session_date=on, notes=""
    )
    session.add(therapy_session)
    session.flush()
    return therapy_session


def bearer(session: Session, settings: Settings, user: User) -> dict[str, str]:
    """An Authorization header with a fresh API token for ``user``."""
    token = auth.start_session(session=session, settings=settings, user=user, kind="api", address="test")
    return {"Authorization": f"Bearer {token}"}


_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    """The CSRF token a page's forms carry."""
    match = _CSRF.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def sign_in_page(client: TestClient, user: User, **extra: str) -> Response:
    """Sign ``user`` in through the login form, as a browser would; returns the POST's response (not followed)."""
    form = {"email": user.email, "password": PASSWORD, "csrf_token": csrf_of(client.get("/login").text), **extra}
    return client.post("/login", data=form, follow_redirects=False)
