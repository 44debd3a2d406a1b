"""The demo consortium: an Asia-Pacific alliance with clinics in five countries and a login for every role.

Everything is created through the services, so the demo exercises the same rules and audit trail as
real use. The clinics' patients, their sessions with recordings and their outcomes come from
:func:`exohub.web.clinic.demo.seed_clinic_demo`.
"""

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session

from exohub.web.accounts import service as accounts
from exohub.web.accounts.models import Organisation
from exohub.web.accounts.schemas import MemberCreate, OrganisationCreate, UserCreate
from exohub.web.audit.service import AuditContext
from exohub.web.clinic.demo import seed_clinic_demo
from exohub.web.consortium import service as consortium
from exohub.web.consortium.schemas import AllianceCreate, AllianceMemberCreate, GoalCreate
from exohub.web.tenancy import SYSTEM, OrganisationKind, Role

DEMO_PASSWORD = "exohub-demo"  # noqa: S105 - printed on purpose: these are the demo's logins
DEMO_DOMAIN = "demo.exohub.org"
OPERATOR_EMAIL = f"operator@{DEMO_DOMAIN}"
OPERATOR_NAME = "Platform Operator"
ALLIANCE_NAME = "Asia-Pacific Exoskeleton Rehabilitation Alliance"

ORGANISATIONS = (
    ("jp", "Sakura Rehabilitation Clinic", OrganisationKind.CLINIC, "JP", "Osaka"),
    ("kr", "Hangang Gait Rehabilitation Centre", OrganisationKind.CLINIC, "KR", "Seoul"),
    ("au", "Southern Cross Neuro Rehab", OrganisationKind.CLINIC, "AU", "Melbourne"),
    ("id", "Nusantara Rehabilitation Clinic", OrganisationKind.CLINIC, "ID", "Jakarta"),
    ("ph", "Bayanihan Rehabilitation Clinic", OrganisationKind.CLINIC, "PH", "Manila"),
    ("maker", "StrideWorks Robotics", OrganisationKind.MANUFACTURER, "KR", "Daejeon"),
    ("uni", "Pacific Institute of Technology", OrganisationKind.UNIVERSITY, "AU", "Brisbane"),
    ("academy", "Asia-Pacific Exoskeleton Therapy Academy", OrganisationKind.ACADEMY, "SG", "Singapore"),
    ("secretariat", "Alliance Secretariat", OrganisationKind.NGO, "TH", "Bangkok"),
)

PEOPLE = (
    ("admin.jp", "Haruka Sato", "jp", Role.ADMIN),
    ("therapist.jp", "Kenji Tanaka", "jp", Role.THERAPIST),
    ("clinician.jp", "Dr. Aiko Yamamoto", "jp", Role.CLINICIAN),
    ("auditor.jp", "Yuki Nakamura", "jp", Role.AUDITOR),
    ("admin.kr", "Min-jun Kim", "kr", Role.ADMIN),
    ("therapist.kr", "Seo-yeon Park", "kr", Role.THERAPIST),
    ("admin.au", "Olivia Brown", "au", Role.ADMIN),
    ("therapist.au", "Liam Wilson", "au", Role.THERAPIST),
    ("clinician.au", "Dr. Grace Nguyen", "au", Role.CLINICIAN),
    ("admin.id", "Siti Rahmawati", "id", Role.ADMIN),
    ("therapist.id", "Budi Santoso", "id", Role.THERAPIST),
    ("admin.ph", "Maria Santos", "ph", Role.ADMIN),
    ("therapist.ph", "Jose Reyes", "ph", Role.THERAPIST),
    ("fleet", "Ji-ho Choi", "maker", Role.FLEET_MANAGER),
    ("researcher", "Dr. Ethan Clarke", "uni", Role.RESEARCHER),
    ("instructor", "Mei Ling Tan", "academy", Role.INSTRUCTOR),
    ("programme", "Anong Srisuk", "secretariat", Role.PROGRAMME_MANAGER),
)

GOALS = (
    ("Train 5,000 therapists in exoskeleton-assisted gait training", "therapists_trained", 5000, date(2026, 12, 31)),
    ("Treat 20,000 patients with exoskeletons", "patients_treated", 20000, date(2027, 12, 31)),
    ("Deploy 400 exoskeletons to member clinics", "devices_deployed", 400, date(2027, 6, 30)),
    ("Member organisations in 8 countries", "member_countries", 8, date(2026, 12, 31)),
)


@dataclass(frozen=True)
class DemoLogin:
    role: str
    email: str
    password: str
    organisation: str


def seed_demo(session: Session, *, data_dir: Path) -> list[DemoLogin]:
    """Create the demo alliance in an empty database and return the logins to print.

    ``data_dir`` is the served ``DATA_DIR``: the demo patients' session recordings are stored under it.
    """
    system = AuditContext(actor_user_id=None, address="exohub demo")
    operator = accounts.create_user(
        session=session,
        principal=None,
        context=system,
        data=UserCreate(email=OPERATOR_EMAIL, full_name=OPERATOR_NAME, password=DEMO_PASSWORD, is_superuser=True),
    )
    operator_principal = accounts.principal_of(operator)
    organisations: dict[str, Organisation] = {}
    for key, name, kind, country, city in ORGANISATIONS:
        organisations[key] = accounts.create_organisation(
            session=session,
            principal=operator_principal,
            context=system,
            data=OrganisationCreate(name=name, kind=kind, country_code=country, city=city),
        )
    logins = [DemoLogin("platform operator", operator.email, DEMO_PASSWORD, "—")]
    staff: dict[str, int] = {}
    for local_part, full_name, org_key, role in PEOPLE:
        organisation = organisations[org_key]
        email = f"{local_part}@{DEMO_DOMAIN}"
        staff[local_part] = accounts.add_member(
            session=session,
            scope=SYSTEM.scope_everywhere(),
            context=system,
            organisation_id=organisation.id,
            data=MemberCreate(email=email, role=role, full_name=full_name, password=DEMO_PASSWORD),
        ).user_id
        logins.append(DemoLogin(role.value.replace("_", " "), email, DEMO_PASSWORD, organisation.name))

    alliance = consortium.create(
        session=session,
        principal=operator_principal,
        context=system,
        data=AllianceCreate(
            name=ALLIANCE_NAME,
            region="Asia-Pacific",
            description="Clinics, makers, researchers and educators sharing exoskeleton therapy across the region.",
        ),
    )
    for organisation in organisations.values():
        consortium.add_member(
            session=session,
            principal=operator_principal,
            context=system,
            alliance_id=alliance.id,
            data=AllianceMemberCreate(organisation_id=organisation.id, joined_date=date(2026, 1, 15)),
        )
    for title, metric, target, deadline in GOALS:
        consortium.create_goal(
            session=session,
            principal=operator_principal,
            context=system,
            alliance_id=alliance.id,
            data=GoalCreate(title=title, metric=metric, target_value=target, deadline_date=deadline),
        )
    seed_clinic_demo(session, data_dir=data_dir, organisations=organisations, staff=staff)
    return logins
