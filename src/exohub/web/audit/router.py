"""JSON API for reading the audit log of your organisations (admins and auditors)."""

from typing import Annotated

from fastapi import APIRouter, Query

from exohub.web.audit import service
from exohub.web.audit.schemas import AuditEventRead
from exohub.web.deps import SessionDep, api_scope
from exohub.web.fields import MAX_ID
from exohub.web.pagination import Page, PageParamsDep
from exohub.web.tenancy import Permission, TenantScope

router = APIRouter(tags=["audit"])


@router.get("/audit-events")
def get_audit_events(
    scope: Annotated[TenantScope, api_scope(Permission.AUDIT_READ)],
    session: SessionDep,
    params: PageParamsDep,
    action: Annotated[str | None, Query(max_length=64, pattern=r"^[a-z_.]+$")] = None,
    actor_user_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> Page[AuditEventRead]:
    """List the audit events of the organisations where you are admin or auditor, newest first."""
    return service.get_all(session=session, scope=scope, params=params, action=action, actor_user_id=actor_user_id)
