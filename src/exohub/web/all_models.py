"""Import every domain's tables so ``Base.metadata`` is complete (for Alembic and the tests)."""

from exohub.web.accounts.models import AuthSession, LoginAttempt, Membership, Organisation, User
from exohub.web.audit.models import AuditEvent
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
    "LoginAttempt",
    "Membership",
    "ModelVersion",
    "Organisation",
    "User",
]
