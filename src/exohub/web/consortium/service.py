"""Alliances, their members and goals.

Alliances are shared by the whole consortium: any signed-in member may read them; the platform
operator forms them; programme managers of member organisations set their goals.
"""

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from exohub.web.accounts import service as accounts_service
from exohub.web.audit import service as audit
from exohub.web.audit.service import AuditContext
from exohub.web.consortium import metrics
from exohub.web.consortium.models import Alliance, AllianceGoal, AllianceMember
from exohub.web.consortium.schemas import (
    AllianceCreate,
    AllianceDetail,
    AllianceMemberCreate,
    AllianceMemberRead,
    AllianceRead,
    GoalCreate,
    GoalRead,
    GoalUpdate,
)
from exohub.web.database import utcnow
from exohub.web.errors import ConflictError, NotFoundError, PermissionDeniedError
from exohub.web.pagination import Page, PageParams, paginate, search_term
from exohub.web.tenancy import Permission, Principal


def get(*, session: Session, alliance_id: int) -> Alliance:
    """Return an alliance, or raise NotFoundError."""
    alliance = session.get(Alliance, alliance_id)
    if alliance is None:
        raise NotFoundError(f"Alliance {alliance_id} not found.")
    return alliance


def get_all(*, session: Session, params: PageParams, q: str | None = None) -> Page[AllianceRead]:
    """List the consortium's alliances."""
    statement = select(Alliance)
    if pattern := search_term(q):
        statement = statement.where(Alliance.name.ilike(pattern, escape="\\"))
    return paginate(
        session,
        statement,
        params,
        sortable={"name": Alliance.name, "region": Alliance.region},
        default_sort=Alliance.id,
        to_item=AllianceRead.model_validate,
    )


def get_all_alliances(*, session: Session) -> list[Alliance]:
    """Every alliance, by name (the platform operator's dashboard)."""
    return list(session.scalars(select(Alliance).order_by(Alliance.name)))


def get_for_organisations(*, session: Session, organisation_ids: frozenset[int]) -> list[Alliance]:
    """The alliances any of these organisations belong to (for a member's dashboard)."""
    statement = (
        select(Alliance)
        .join(AllianceMember)
        .where(AllianceMember.organisation_id.in_(sorted(organisation_ids)))
        .distinct()
        .order_by(Alliance.name)
    )
    return list(session.scalars(statement))


def detail(*, session: Session, alliance: Alliance, today: date | None = None) -> AllianceDetail:
    """The alliance with its members and each goal's measured progress."""
    today = today or utcnow().date()
    members = [
        AllianceMemberRead(
            organisation_id=m.organisation_id,
            organisation_name=m.organisation.name,
            country_code=m.organisation.country_code,
            joined_date=m.joined_date,
        )
        for m in sorted(alliance.members, key=lambda m: m.organisation.name)
    ]
    goals = [goal_read(session=session, goal=goal, today=today) for goal in alliance.goals]
    return AllianceDetail(**AllianceRead.model_validate(alliance).model_dump(), members=members, goals=goals)


def goal_read(*, session: Session, goal: AllianceGoal, today: date) -> GoalRead:
    """A goal with its measured value and progress, where a part of exohub measures it."""
    measured = metrics.measure(session, goal.alliance, goal.metric)
    return GoalRead(
        id=goal.id,
        title=goal.title,
        metric=goal.metric,
        unit=metrics.GOAL_METRICS[goal.metric].unit,
        target_value=goal.target_value,
        deadline_date=goal.deadline_date,
        measured_value=measured,
        progress=None if measured is None else min(measured / goal.target_value, 1.0),
        days_left=(goal.deadline_date - today).days,
    )


def create(*, session: Session, principal: Principal, context: AuditContext, data: AllianceCreate) -> Alliance:
    """Form an alliance (platform operator only)."""
    _require_operator(principal)
    if session.scalar(select(Alliance.id).where(Alliance.name == data.name)) is not None:
        raise ConflictError(f"An alliance named {data.name!r} already exists.")
    alliance = Alliance(**data.model_dump())
    session.add(alliance)
    session.flush()
    audit.record(
        session=session,
        context=context,
        action="alliance.create",
        object_type="alliance",
        object_id=alliance.id,
        detail={"name": alliance.name},
    )
    return alliance


def add_member(
    *, session: Session, principal: Principal, context: AuditContext, alliance_id: int, data: AllianceMemberCreate
) -> AllianceMember:
    """Admit an organisation to an alliance (platform operator only)."""
    _require_operator(principal)
    alliance = get(session=session, alliance_id=alliance_id)
    organisation = accounts_service.get_organisation(session=session, organisation_id=data.organisation_id)
    if any(m.organisation_id == organisation.id for m in alliance.members):
        raise ConflictError(f"{organisation.name} is already a member of {alliance.name}.")
    member = AllianceMember(organisation=organisation, joined_date=data.joined_date or utcnow().date())
    alliance.members.append(member)
    session.flush()
    audit.record(
        session=session,
        context=context,
        action="alliance.add_member",
        object_type="alliance",
        object_id=alliance.id,
        organisation_id=organisation.id,
    )
    return member


def create_goal(
    *, session: Session, principal: Principal, context: AuditContext, alliance_id: int, data: GoalCreate
) -> AllianceGoal:
    """Set a new goal for the alliance (its programme managers)."""
    alliance = get(session=session, alliance_id=alliance_id)
    _require_manager(principal, alliance)
    goal = AllianceGoal(**data.model_dump())
    alliance.goals.append(goal)
    session.flush()
    audit.record(
        session=session,
        context=context,
        action="alliance_goal.create",
        object_type="alliance_goal",
        object_id=goal.id,
        detail={"alliance_id": alliance.id, "metric": goal.metric},
    )
    return goal


def update_goal(
    *, session: Session, principal: Principal, context: AuditContext, alliance_id: int, goal_id: int, data: GoalUpdate
) -> AllianceGoal:
    """Change a goal's title, target or deadline (its alliance's programme managers)."""
    goal = _get_goal(session, alliance_id, goal_id)
    _require_manager(principal, goal.alliance)
    changes = data.model_dump(exclude_unset=True, exclude_none=True)
    for field, value in changes.items():
        setattr(goal, field, value)
    session.flush()
    audit.record(
        session=session,
        context=context,
        action="alliance_goal.update",
        object_type="alliance_goal",
        object_id=goal.id,
        detail={"fields": sorted(changes)},
    )
    return goal


def delete_goal(
    *, session: Session, principal: Principal, context: AuditContext, alliance_id: int, goal_id: int
) -> None:
    """Withdraw a goal (its alliance's programme managers)."""
    goal = _get_goal(session, alliance_id, goal_id)
    _require_manager(principal, goal.alliance)
    audit.record(
        session=session,
        context=context,
        action="alliance_goal.delete",
        object_type="alliance_goal",
        object_id=goal.id,
        detail={"alliance_id": alliance_id, "title": goal.title},
    )
    session.delete(goal)
    session.flush()


def can_manage(principal: Principal, alliance: Alliance) -> bool:
    """Whether ``principal`` may set the alliance's goals."""
    return principal.is_superuser or any(
        principal.can(Permission.ALLIANCE_MANAGE, m.organisation_id) for m in alliance.members
    )


def _get_goal(session: Session, alliance_id: int, goal_id: int) -> AllianceGoal:
    goal = session.get(AllianceGoal, goal_id)
    if goal is None or goal.alliance_id != alliance_id:
        raise NotFoundError(f"Goal {goal_id} not found in alliance {alliance_id}.")
    return goal


def _require_manager(principal: Principal, alliance: Alliance) -> None:
    if not can_manage(principal, alliance):
        raise PermissionDeniedError(
            f"Only programme managers of {alliance.name}'s member organisations can change its goals."
        )


def _require_operator(principal: Principal) -> None:
    if not principal.is_superuser:
        raise PermissionDeniedError("Only the platform operator forms alliances and admits their members.")
