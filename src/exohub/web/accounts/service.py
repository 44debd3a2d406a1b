"""Organisations, users and memberships. Keyword-only functions, session first; they flush, never commit."""

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.orm import Session

from exohub.web.accounts.models import AuthSession, Membership, Organisation, User
from exohub.web.accounts.schemas import (
    MemberCreate,
    MemberRead,
    OrganisationCreate,
    OrganisationRead,
    OrganisationUpdate,
    UserCreate,
    UserRead,
    UserUpdate,
)
from exohub.web.audit import service as audit
from exohub.web.audit.service import AuditContext
from exohub.web.database import unique_or_conflict, utcnow
from exohub.web.errors import ConflictError, InvalidInputError, InvalidStateError, NotFoundError, PermissionDeniedError
from exohub.web.pagination import Page, PageParams, paginate, search_term
from exohub.web.security import hash_password
from exohub.web.tenancy import ROLE_PERMISSIONS, OrganisationKind, Permission, Principal, Role, TenantScope


def principal_of(user: User) -> Principal:
    """The caller's identity and roles, as the tenancy checks see them."""
    return Principal(
        user_id=user.id,
        email=user.email,
        full_name=user.full_name,
        is_superuser=user.is_superuser,
        roles=frozenset((m.organisation_id, m.role) for m in user.memberships),
    )


# Organisations -----------------------------------------------------------------------------------------


def get_organisation(*, session: Session, organisation_id: int) -> Organisation:
    """Return an organisation's public profile (names and countries are shared across the consortium)."""
    organisation = session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFoundError(f"Organisation {organisation_id} not found.")
    return organisation


def get_all_organisations(
    *,
    session: Session,
    params: PageParams,
    kind: OrganisationKind | None = None,
    country_code: str | None = None,
    q: str | None = None,
) -> Page[OrganisationRead]:
    """Return the consortium's directory of organisations, filtered."""
    statement = select(
        Organisation.id,
        Organisation.name,
        Organisation.kind,
        Organisation.country_code,
        Organisation.city,
        Organisation.created_at,
    )
    if kind:
        statement = statement.where(Organisation.kind == kind)
    if country_code:
        statement = statement.where(Organisation.country_code == country_code.upper())
    if pattern := search_term(q):
        statement = statement.where(
            or_(Organisation.name.ilike(pattern, escape="\\"), Organisation.city.ilike(pattern, escape="\\"))
        )
    return paginate(
        session,
        statement,
        params,
        sortable={"name": Organisation.name, "country_code": Organisation.country_code, "kind": Organisation.kind},
        default_sort=Organisation.id,
        to_item=OrganisationRead.model_validate,
    )


def create_organisation(
    *, session: Session, principal: Principal, context: AuditContext, data: OrganisationCreate
) -> Organisation:
    """Admit an organisation to the consortium (platform operators only)."""
    if not principal.is_superuser:
        raise PermissionDeniedError("Only the platform operator can admit organisations to the consortium.")
    _require_free_name(session, data.name)
    with unique_or_conflict(session, f"An organisation named {data.name!r} already exists."):
        organisation = Organisation(**data.model_dump())
        session.add(organisation)
    audit.record(
        session=session,
        context=context,
        action="organisation.create",
        object_type="organisation",
        object_id=organisation.id,
        organisation_id=organisation.id,
        detail={"name": organisation.name},
    )
    return organisation


def update_organisation(
    *, session: Session, scope: TenantScope, context: AuditContext, organisation_id: int, data: OrganisationUpdate
) -> Organisation:
    """Change an organisation's profile (its admins, or the platform operator)."""
    _check_organisation(session, scope, organisation_id)
    organisation = get_organisation(session=session, organisation_id=organisation_id)
    changes = data.model_dump(exclude_unset=True)
    if changes.get("name") and changes["name"] != organisation.name:
        _require_free_name(session, changes["name"])
    if "name" in changes and changes["name"] is None:
        raise InvalidInputError("name cannot be empty.", field="body.name")
    with unique_or_conflict(session, "Another organisation already has that name."):
        for field, value in changes.items():
            setattr(organisation, field, value)
    audit.record(
        session=session,
        context=context,
        action="organisation.update",
        object_type="organisation",
        object_id=organisation.id,
        organisation_id=organisation.id,
        detail={"fields": sorted(changes)},
    )
    return organisation


def _require_free_name(session: Session, name: str) -> None:
    if session.scalar(select(Organisation.id).where(func.lower(Organisation.name) == name.lower())) is not None:
        raise ConflictError(f"An organisation named {name!r} already exists.")


# Members -----------------------------------------------------------------------------------------------


def get_members(*, session: Session, scope: TenantScope, organisation_id: int, params: PageParams) -> Page[MemberRead]:
    """Return the people holding a role in an organisation."""
    _check_organisation(session, scope, organisation_id)
    statement = (
        select(
            Membership.id,
            Membership.user_id,
            User.email,
            User.full_name,
            Membership.role,
            User.is_active,
            Membership.created_at,
        )
        .join(Membership.user)
        .where(Membership.organisation_id == organisation_id)
    )
    return paginate(
        session,
        statement,
        params,
        sortable={"email": User.email, "full_name": User.full_name, "role": Membership.role},
        default_sort=Membership.id,
        to_item=MemberRead.model_validate,
    )


def add_member(
    *, session: Session, scope: TenantScope, context: AuditContext, organisation_id: int, data: MemberCreate
) -> Membership:
    """Give a person a role in an organisation, creating their account if it does not exist yet."""
    _check_organisation(session, scope, organisation_id)
    user = get_by_email(session=session, email=data.email)
    if user is None:
        if data.password is None or data.full_name is None:
            raise InvalidInputError(
                f"No account exists for {data.email}; give full_name and an initial password to create it.",
                field="body.password",
            )
        password_hash = hash_password(data.password)
        with unique_or_conflict(session, f"An account for {data.email} already exists."):
            user = User(email=data.email, full_name=data.full_name, password_hash=password_hash)
            session.add(user)
    elif any(m.organisation_id == organisation_id and m.role == data.role for m in user.memberships):
        raise ConflictError(f"{data.email} already has the role {data.role.value!r} in this organisation.")
    else:
        _check_patient_access_grant(scope.principal, user, data.role)
    with unique_or_conflict(session, f"{data.email} already has the role {data.role.value!r} in this organisation."):
        membership = Membership(user=user, organisation_id=organisation_id, role=data.role)
        session.add(membership)
    audit.record(
        session=session,
        context=context,
        action="membership.create",
        object_type="membership",
        object_id=membership.id,
        organisation_id=organisation_id,
        detail={"user_id": user.id, "role": data.role},
    )
    return membership


def _check_patient_access_grant(principal: Principal, user: User, role: Role) -> None:
    """Nobody gives themselves a role that reads patient data, and the platform operator's account holds none.

    Admins and the operator manage people and never read identifiable patient data (``tenancy``); without this,
    either could add themselves as a therapist and read every patient of the clinic.
    """
    if Permission.PATIENT_READ not in ROLE_PERMISSIONS[role]:
        return
    if user.id == principal.user_id:
        raise PermissionDeniedError(
            "Nobody gives themselves access to patient data: ask another admin of the clinic to add you as "
            f"{role.value}."
        )
    if user.is_superuser:
        raise InvalidStateError(
            f"{user.email} is a platform operator's account, which never reads patient data; add a separate personal "
            f"account as {role.value}."
        )


def remove_member(
    *, session: Session, scope: TenantScope, context: AuditContext, organisation_id: int, membership_id: int
) -> None:
    """Take a role away; an organisation always keeps at least one admin."""
    _check_organisation(session, scope, organisation_id)
    membership = session.get(Membership, membership_id)
    if membership is None or membership.organisation_id != organisation_id:
        raise NotFoundError(f"Membership {membership_id} not found in this organisation.")
    if membership.role == Role.ADMIN and _admin_count(session, organisation_id) <= 1:
        raise InvalidStateError("This is the organisation's last admin; make someone else admin first.")
    audit.record(
        session=session,
        context=context,
        action="membership.delete",
        object_type="membership",
        object_id=membership.id,
        organisation_id=organisation_id,
        detail={"user_id": membership.user_id, "role": membership.role},
    )
    session.delete(membership)
    session.flush()


def _admin_count(session: Session, organisation_id: int) -> int:
    statement = select(func.count()).where(Membership.organisation_id == organisation_id, Membership.role == Role.ADMIN)
    return session.scalar(statement) or 0


def member_read(membership: Membership) -> MemberRead:
    return MemberRead(
        id=membership.id,
        user_id=membership.user_id,
        email=membership.user.email,
        full_name=membership.user.full_name,
        role=membership.role,
        is_active=membership.user.is_active,
        created_at=membership.created_at,
    )


def _check_organisation(session: Session, scope: TenantScope, organisation_id: int) -> None:
    """Raise unless the organisation exists and ``scope`` covers it (see :meth:`TenantScope.check`).

    A role in the organisation proves it exists (memberships reference it), so only an organisation outside
    the caller's own ones, or the platform operator's scope, costs a lookup.
    """
    if organisation_id in scope.organisation_ids:
        return
    exists = session.scalar(select(Organisation.id).where(Organisation.id == organisation_id)) is not None
    scope.check(organisation_id if exists else None, what="Organisation")


# Users -------------------------------------------------------------------------------------------------


def get_by_email(*, session: Session, email: str) -> User | None:
    """Return the account with this email address, or None."""
    return session.scalar(select(User).where(User.email == email.lower()))


def _visible_users(scope: TenantScope) -> ColumnElement[bool]:
    in_scope = select(Membership.user_id).where(scope.where(Membership.organisation_id))
    return or_(User.id.in_(in_scope), User.id == scope.principal.user_id)


def get_user(*, session: Session, scope: TenantScope, user_id: int) -> User:
    """Return an account the caller may see: their own, or a member of an organisation in ``scope``."""
    if scope.everywhere:
        user = session.get(User, user_id)
    else:
        user = session.scalar(select(User).where(User.id == user_id, _visible_users(scope)))
    if user is None:
        raise NotFoundError(f"User {user_id} not found.")
    return user


def get_all_users(*, session: Session, scope: TenantScope, params: PageParams, q: str | None = None) -> Page[UserRead]:
    """Return the accounts the caller may see."""
    statement = select(User)
    if not scope.everywhere:
        statement = statement.where(_visible_users(scope))
    if pattern := search_term(q):
        statement = statement.where(
            or_(User.email.ilike(pattern, escape="\\"), User.full_name.ilike(pattern, escape="\\"))
        )
    return paginate(
        session,
        statement,
        params,
        sortable={"email": User.email, "full_name": User.full_name, "created_at": User.created_at},
        default_sort=User.id,
        to_item=UserRead.model_validate,
    )


def create_user(*, session: Session, principal: Principal | None, context: AuditContext, data: UserCreate) -> User:
    """Create an account without a role (platform operators; ``principal=None`` is the command line)."""
    if principal is not None and not principal.is_superuser:
        raise PermissionDeniedError("Only the platform operator creates accounts directly; admins add members.")
    if get_by_email(session=session, email=data.email) is not None:
        raise ConflictError(f"An account for {data.email} already exists.")
    password_hash = hash_password(data.password)
    with unique_or_conflict(session, f"An account for {data.email} already exists."):
        user = User(
            email=data.email, full_name=data.full_name, password_hash=password_hash, is_superuser=data.is_superuser
        )
        session.add(user)
    audit.record(
        session=session,
        context=context,
        action="user.create",
        object_type="user",
        object_id=user.id,
        detail={"email": user.email, "is_superuser": user.is_superuser},
    )
    return user


def update_user(*, session: Session, scope: TenantScope, context: AuditContext, user_id: int, data: UserUpdate) -> User:
    """Rename one's own account; the platform operator may also (de)activate any account."""
    user = get_user(session=session, scope=scope, user_id=user_id)
    principal = scope.principal
    changes = data.model_dump(exclude_unset=True)
    if "is_active" in changes and not principal.is_superuser:
        raise PermissionDeniedError("Only the platform operator can activate or deactivate accounts.")
    if changes.get("is_active") is False and user.id == principal.user_id:
        raise InvalidStateError("You cannot deactivate your own account; ask another platform operator.")
    if "full_name" in changes and user.id != principal.user_id and not principal.is_superuser:
        raise PermissionDeniedError("You can only rename your own account.")
    for field, value in changes.items():
        if value is None:
            raise InvalidInputError(f"{field} cannot be null.", field=f"body.{field}")
        setattr(user, field, value)
    session.flush()
    if changes.get("is_active") is False:  # signed out everywhere: reactivating must not revive old tokens
        session.execute(
            update(AuthSession)
            .where(AuthSession.user_id == user.id, AuthSession.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
    audit.record(
        session=session,
        context=context,
        action="user.update",
        object_type="user",
        object_id=user.id,
        detail={"fields": sorted(changes)},
    )
    return user
