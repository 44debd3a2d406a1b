"""Import every domain's tables so ``Base.metadata`` is complete (for Alembic and the tests)."""

from exohub.web.accounts.models import AuthSession, LoginAttempt, Membership, Organisation, User
from exohub.web.audit.models import AuditEvent
from exohub.web.clinic.models import DeviceUnit, OutcomeMeasurement, Patient, TherapySession
from exohub.web.consortium.models import Alliance, AllianceGoal, AllianceMember
from exohub.web.database import Base
from exohub.web.models.models import ModelVersion

__all__ = [
    "Alliance",
    "AllianceGoal",
    "AllianceMember",
    "AuditEvent",
    "AuthSession",
    "Base",
    "DeviceUnit",
    "LoginAttempt",
    "Membership",
    "ModelVersion",
    "Organisation",
    "OutcomeMeasurement",
    "Patient",
    "TherapySession",
    "User",
]
