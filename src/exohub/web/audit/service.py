"""Write and read the audit log. Every domain records through :func:`record`; nothing edits an event."""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from exohub.web.audit.models import AuditEvent
from exohub.web.audit.schemas import AuditEventRead
from exohub.web.pagination import Page, PageParams, paginate
from exohub.web.tenancy import Permission, Principal, TenantScope

# Keys that must never reach the audit log, whatever a caller passes in ``detail``.
_SECRET_KEYS = frozenset({"password", "current_password", "new_password", "token", "access_token", "secret"})


@dataclass(frozen=True)
class AuditContext:
    """Who acts and from where; built once per request."""

    actor_user_id: int | None
    address: str | None


def record(
    *,
    session: Session,
    context: AuditContext,
    action: str,
    object_type: str,
    object_id: int | str | None = None,
    organisation_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event: ``context`` did ``action`` to ``object_type`` ``object_id``."""
    clean = {key: value for key, value in (detail or {}).items() if key not in _SECRET_KEYS}
    event = AuditEvent(
        actor_user_id=context.actor_user_id,
        organisation_id=organisation_id,
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        address=context.address,
        detail=clean,
    )
    session.add(event)
    session.flush()
    return event


def may_read(principal: Principal) -> bool:
    """Whether ``principal`` may open the audit log: admins and auditors, and the platform operator."""
    return principal.is_superuser or bool(principal.scope(Permission.AUDIT_READ).organisation_ids)


def _visible(scope: TenantScope) -> ColumnElement[bool]:
    """Events of the organisations in scope; the platform operator also sees platform events (no organisation)."""
    own = scope.where(AuditEvent.organisation_id)
    if scope.principal.is_superuser:
        return or_(own, AuditEvent.organisation_id.is_(None))
    return own


def get_all(
    *,
    session: Session,
    scope: TenantScope,
    params: PageParams,
    action: str | None = None,
    actor_user_id: int | None = None,
) -> Page[AuditEventRead]:
    """Return the events of the organisations in ``scope``, newest first unless sorted otherwise."""
    statement = select(AuditEvent).where(_visible(scope))
    if action:
        statement = statement.where(AuditEvent.action == action)
    if actor_user_id:
        statement = statement.where(AuditEvent.actor_user_id == actor_user_id)
    return paginate(
        session,
        statement,
        params.model_copy(update={"sort": params.sort or "-occurred_at"}),
        sortable={"occurred_at": AuditEvent.occurred_at, "action": AuditEvent.action},
        default_sort=AuditEvent.id,
        to_item=AuditEventRead.model_validate,
    )
