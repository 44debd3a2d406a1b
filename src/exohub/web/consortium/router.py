"""JSON API for alliances, their members and goals."""

from fastapi import APIRouter, status

from exohub.web.consortium import metrics, service
from exohub.web.consortium.schemas import (
    AllianceCreate,
    AllianceDetail,
    AllianceMemberCreate,
    AllianceRead,
    GoalCreate,
    GoalMetricRead,
    GoalRead,
    GoalUpdate,
)
from exohub.web.database import utcnow
from exohub.web.deps import ApiAudit, CurrentPrincipal, SessionDep
from exohub.web.fields import IdPath, SearchQuery
from exohub.web.pagination import Page, PageParamsDep

router = APIRouter(tags=["consortium"])


@router.get("/goal-metrics")
def get_goal_metrics(principal: CurrentPrincipal) -> list[GoalMetricRead]:
    """List what an alliance goal can measure, and which part of exohub measures it."""
    return [GoalMetricRead(**vars(metric)) for metric in metrics.GOAL_METRICS.values()]


@router.get("/alliances")
def get_alliances(
    principal: CurrentPrincipal, session: SessionDep, params: PageParamsDep, q: SearchQuery = None
) -> Page[AllianceRead]:
    """List the consortium's alliances."""
    return service.get_all(session=session, params=params, q=q)


@router.post("/alliances", status_code=status.HTTP_201_CREATED)
def create_alliance(
    data: AllianceCreate, principal: CurrentPrincipal, session: SessionDep, context: ApiAudit
) -> AllianceRead:
    """Form an alliance (platform operator only)."""
    alliance = service.create(session=session, principal=principal, context=context, data=data)
    return AllianceRead.model_validate(alliance)


@router.get("/alliances/{alliance_id}")
def get_alliance(alliance_id: IdPath, principal: CurrentPrincipal, session: SessionDep) -> AllianceDetail:
    """Return an alliance with its members and the progress of each goal."""
    return service.detail(session=session, alliance=service.get(session=session, alliance_id=alliance_id))


@router.post("/alliances/{alliance_id}/members", status_code=status.HTTP_201_CREATED)
def add_alliance_member(
    alliance_id: IdPath,
    data: AllianceMemberCreate,
    principal: CurrentPrincipal,
    session: SessionDep,
    context: ApiAudit,
) -> AllianceDetail:
    """Admit an organisation to the alliance (platform operator only)."""
    member = service.add_member(
        session=session, principal=principal, context=context, alliance_id=alliance_id, data=data
    )
    return service.detail(session=session, alliance=member.alliance)


@router.post("/alliances/{alliance_id}/goals", status_code=status.HTTP_201_CREATED)
def create_goal(
    alliance_id: IdPath, data: GoalCreate, principal: CurrentPrincipal, session: SessionDep, context: ApiAudit
) -> GoalRead:
    """Set a goal for the alliance (programme managers of its member organisations)."""
    goal = service.create_goal(
        session=session, principal=principal, context=context, alliance_id=alliance_id, data=data
    )
    return service.goal_read(session=session, goal=goal, today=utcnow().date())


@router.patch("/alliances/{alliance_id}/goals/{goal_id}")
def update_goal(
    alliance_id: IdPath,
    goal_id: IdPath,
    data: GoalUpdate,
    principal: CurrentPrincipal,
    session: SessionDep,
    context: ApiAudit,
) -> GoalRead:
    """Change a goal's title, target or deadline."""
    goal = service.update_goal(
        session=session, principal=principal, context=context, alliance_id=alliance_id, goal_id=goal_id, data=data
    )
    return service.goal_read(session=session, goal=goal, today=utcnow().date())


@router.delete("/alliances/{alliance_id}/goals/{goal_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_goal(
    alliance_id: IdPath, goal_id: IdPath, principal: CurrentPrincipal, session: SessionDep, context: ApiAudit
) -> None:
    """Withdraw a goal."""
    service.delete_goal(session=session, principal=principal, context=context, alliance_id=alliance_id, goal_id=goal_id)
