"""Pages: alliances with their members and the progress of their goals; goal editing for programme managers."""

from fastapi import APIRouter, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from exohub.web.consortium import metrics, service
from exohub.web.consortium.schemas import GoalCreate
from exohub.web.database import utcnow
from exohub.web.deps import PageAudit, PagePrincipal, SessionDep
from exohub.web.errors import DomainError
from exohub.web.fields import IdPath
from exohub.web.forms import form_error, form_values, validate_form
from exohub.web.pagination import PageParams
from exohub.web.templating import render
from exohub.web.tenancy import Principal

router = APIRouter()


@router.get("/alliances", response_class=HTMLResponse)
def alliances_page(request: Request, principal: PagePrincipal, session: SessionDep) -> HTMLResponse:
    page = service.get_all(session=session, params=PageParams(limit=200, sort="name"))
    return render(request, "consortium/alliances.html", {"principal": principal, "page": page})


@router.get("/alliances/{alliance_id}", response_class=HTMLResponse)
def alliance_page(request: Request, alliance_id: IdPath, principal: PagePrincipal, session: SessionDep) -> HTMLResponse:
    return _render_alliance(request, principal, session, alliance_id)


def _render_alliance(
    request: Request,
    principal: Principal,
    session: SessionDep,
    alliance_id: int,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    alliance = service.get(session=session, alliance_id=alliance_id)
    context = {
        "principal": principal,
        "alliance": service.detail(session=session, alliance=alliance, today=utcnow().date()),
        "can_manage": service.can_manage(principal, alliance),
        "metrics": metrics.GOAL_METRICS,
        "errors": errors or {},
    }
    return render(request, "consortium/alliance.html", context, status_code=status_code)


@router.post("/alliances/{alliance_id}/goals", response_class=HTMLResponse)
async def goal_create_submit(
    request: Request, alliance_id: IdPath, principal: PagePrincipal, session: SessionDep, context: PageAudit
) -> Response:
    data, errors = validate_form(GoalCreate, form_values(await request.form()))
    if data is not None:
        try:
            service.create_goal(
                session=session, principal=principal, context=context, alliance_id=alliance_id, data=data
            )
            return RedirectResponse(f"/alliances/{alliance_id}", status_code=status.HTTP_303_SEE_OTHER)
        except DomainError as err:
            errors = form_error(err, field="title")
    return _render_alliance(request, principal, session, alliance_id, errors, status.HTTP_422_UNPROCESSABLE_CONTENT)


@router.post("/alliances/{alliance_id}/goals/{goal_id}/delete")
def goal_delete_submit(
    alliance_id: IdPath, goal_id: IdPath, principal: PagePrincipal, session: SessionDep, context: PageAudit
) -> Response:
    service.delete_goal(session=session, principal=principal, context=context, alliance_id=alliance_id, goal_id=goal_id)
    return RedirectResponse(f"/alliances/{alliance_id}", status_code=status.HTTP_303_SEE_OTHER)
