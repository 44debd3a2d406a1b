"""The dashboard: the caller's organisations and roles, their alliances' goals, and panels per role."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from exohub.web.accounts import service as accounts_service
from exohub.web.audit import service as audit_service
from exohub.web.consortium import service as consortium_service
from exohub.web.database import utcnow
from exohub.web.deps import PagePrincipal, SessionDep
from exohub.web.pagination import PageParams
from exohub.web.templating import render
from exohub.web.tenancy import Permission, Role

router = APIRouter()


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard_page(request: Request, principal: PagePrincipal, session: SessionDep) -> HTMLResponse:
    today = utcnow().date()
    organisations = {
        org_id: accounts_service.get_organisation(session=session, organisation_id=org_id)
        for org_id in sorted(principal.organisation_ids)
    }
    alliances = (
        consortium_service.get_all_alliances(session=session)
        if principal.is_superuser
        else consortium_service.get_for_organisations(session=session, organisation_ids=principal.organisation_ids)
    )
    audit_scope = principal.scope(Permission.AUDIT_READ)
    recent_events = (
        audit_service.get_all(session=session, scope=audit_scope, params=PageParams(limit=8)).items
        if audit_service.may_read(principal)
        else []
    )
    managed = [org for org_id, org in organisations.items() if principal.can(Permission.ORGANISATION_MANAGE, org_id)]
    context = {
        "principal": principal,
        "organisations": organisations,
        "roles": {org_id: sorted(principal.roles_in(org_id)) for org_id in organisations},
        "alliances": [consortium_service.detail(session=session, alliance=a, today=today) for a in alliances],
        "manageable_alliances": {a.id for a in alliances if consortium_service.can_manage(principal, a)},
        "managed_organisations": managed,
        "recent_events": recent_events,
        "Role": Role,
    }
    return render(request, "dashboard/dashboard.html", context)
