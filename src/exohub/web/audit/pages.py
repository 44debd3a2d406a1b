"""Page: the audit log of the organisations where the visitor is admin or auditor."""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from exohub.web.audit import service
from exohub.web.deps import SessionDep, page_scope
from exohub.web.errors import PermissionDeniedError
from exohub.web.pagination import PageParams
from exohub.web.templating import render
from exohub.web.tenancy import Permission, TenantScope

router = APIRouter()

PAGE_SIZE = 50


@router.get("/audit", response_class=HTMLResponse)
def audit_page(
    request: Request,
    scope: Annotated[TenantScope, page_scope(Permission.AUDIT_READ)],
    session: SessionDep,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> HTMLResponse:
    if not service.may_read(scope.principal):
        raise PermissionDeniedError("The audit log is for admins and auditors of an organisation, and the operator.")
    page = service.get_all(session=session, scope=scope, params=PageParams(limit=PAGE_SIZE, offset=offset))
    return render(request, "audit/events.html", {"principal": scope.principal, "page": page})
