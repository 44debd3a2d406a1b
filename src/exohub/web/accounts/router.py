"""JSON API for sign-in, organisations, members and users."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request, status
from fastapi.security import OAuth2PasswordRequestForm

from exohub.web.accounts import auth, service
from exohub.web.accounts.schemas import (
    MemberCreate,
    MemberRead,
    MembershipRead,
    OrganisationCreate,
    OrganisationRead,
    OrganisationUpdate,
    PasswordChange,
    Token,
    UserCreate,
    UserMe,
    UserRead,
    UserUpdate,
)
from exohub.web.deps import (
    ApiAudit,
    CurrentPrincipal,
    CurrentToken,
    SessionDep,
    SettingsDep,
    api_scope,
    client_address,
)
from exohub.web.fields import CountryCode, IdPath, SearchQuery
from exohub.web.pagination import Page, PageParamsDep
from exohub.web.tenancy import OrganisationKind, Permission, TenantScope

auth_router = APIRouter(prefix="/auth", tags=["auth"])
router = APIRouter(tags=["accounts"])

MembersReadScope = Annotated[TenantScope, api_scope(Permission.MEMBERS_READ)]
ManageScope = Annotated[TenantScope, api_scope(Permission.ORGANISATION_MANAGE)]


@auth_router.post("/token")
def create_token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()], request: Request, session: SessionDep, settings: SettingsDep
) -> Token:
    """Sign in with email and password; returns an expiring bearer token."""
    signed_in = auth.sign_in(
        session=session,
        settings=settings,
        email=form.username,
        password=form.password,
        address=client_address(request),
        kind="api",
    )
    return Token(access_token=signed_in.token, expires_in=signed_in.expires_in_s)


@auth_router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(principal: CurrentPrincipal, token: CurrentToken, session: SessionDep, context: ApiAudit) -> None:
    """Revoke the bearer token used for this request."""
    auth.end_session(session=session, token=token, context=context)


@auth_router.post("/password", status_code=status.HTTP_204_NO_CONTENT)
def change_password(
    data: PasswordChange,
    principal: CurrentPrincipal,
    token: CurrentToken,
    session: SessionDep,
    settings: SettingsDep,
    context: ApiAudit,
) -> None:
    """Change your password; every other session of yours is signed out.

    A wrong current password counts as a failed sign-in: after too many, 429 until the window has passed.
    """
    auth.change_password(
        session=session,
        settings=settings,
        principal=principal,
        context=context,
        current_password=data.current_password,
        new_password=data.new_password,
        keep_token=token,
    )


@router.get("/users/me")
def get_me(principal: CurrentPrincipal, session: SessionDep) -> UserMe:
    """Return your account and your roles in each organisation."""
    user = service.get_user(session=session, scope=principal.scope(Permission.MEMBERS_READ), user_id=principal.user_id)
    memberships = [
        MembershipRead(id=m.id, organisation_id=m.organisation_id, organisation_name=m.organisation.name, role=m.role)
        for m in user.memberships
    ]
    return UserMe(**UserRead.model_validate(user).model_dump(), memberships=memberships)


@router.get("/users")
def get_users(
    scope: MembersReadScope, session: SessionDep, params: PageParamsDep, q: SearchQuery = None
) -> Page[UserRead]:
    """List the accounts you may see: members of your organisations."""
    return service.get_all_users(session=session, scope=scope, params=params, q=q)


@router.post("/users", status_code=status.HTTP_201_CREATED)
def create_user(data: UserCreate, principal: CurrentPrincipal, session: SessionDep, context: ApiAudit) -> UserRead:
    """Create an account without a role (platform operator only)."""
    return UserRead.model_validate(
        service.create_user(session=session, principal=principal, context=context, data=data)
    )


@router.get("/users/{user_id}")
def get_user(user_id: IdPath, scope: MembersReadScope, session: SessionDep) -> UserRead:
    """Return an account that is a member of one of your organisations."""
    return UserRead.model_validate(service.get_user(session=session, scope=scope, user_id=user_id))


@router.patch("/users/{user_id}")
def update_user(
    user_id: IdPath, data: UserUpdate, scope: MembersReadScope, session: SessionDep, context: ApiAudit
) -> UserRead:
    """Rename your account; the platform operator may also deactivate accounts."""
    user = service.update_user(session=session, scope=scope, context=context, user_id=user_id, data=data)
    return UserRead.model_validate(user)


@router.get("/organisations")
def get_organisations(
    principal: CurrentPrincipal,
    session: SessionDep,
    params: PageParamsDep,
    kind: OrganisationKind | None = None,
    country_code: CountryCode | None = None,
    q: SearchQuery = None,
) -> Page[OrganisationRead]:
    """List the consortium's organisations (a directory every member may read)."""
    return service.get_all_organisations(session=session, params=params, kind=kind, country_code=country_code, q=q)


@router.post("/organisations", status_code=status.HTTP_201_CREATED)
def create_organisation(
    data: OrganisationCreate, principal: CurrentPrincipal, session: SessionDep, context: ApiAudit
) -> OrganisationRead:
    """Admit an organisation to the consortium (platform operator only)."""
    organisation = service.create_organisation(session=session, principal=principal, context=context, data=data)
    return OrganisationRead.model_validate(organisation)


@router.get("/organisations/{organisation_id}")
def get_organisation(organisation_id: IdPath, principal: CurrentPrincipal, session: SessionDep) -> OrganisationRead:
    """Return an organisation's public profile."""
    return OrganisationRead.model_validate(service.get_organisation(session=session, organisation_id=organisation_id))


@router.patch("/organisations/{organisation_id}")
def update_organisation(
    organisation_id: IdPath, data: OrganisationUpdate, scope: ManageScope, session: SessionDep, context: ApiAudit
) -> OrganisationRead:
    """Change your organisation's profile (admins)."""
    organisation = service.update_organisation(
        session=session, scope=scope, context=context, organisation_id=organisation_id, data=data
    )
    return OrganisationRead.model_validate(organisation)


@router.get("/organisations/{organisation_id}/members")
def get_members(
    organisation_id: IdPath, scope: MembersReadScope, session: SessionDep, params: PageParamsDep
) -> Page[MemberRead]:
    """List the people with a role in your organisation."""
    return service.get_members(session=session, scope=scope, organisation_id=organisation_id, params=params)


@router.post("/organisations/{organisation_id}/members", status_code=status.HTTP_201_CREATED)
def add_member(
    organisation_id: IdPath, data: MemberCreate, scope: ManageScope, session: SessionDep, context: ApiAudit
) -> MemberRead:
    """Give a person a role in your organisation, creating their account if needed (admins)."""
    membership = service.add_member(
        session=session, scope=scope, context=context, organisation_id=organisation_id, data=data
    )
    return service.member_read(membership)


@router.delete("/organisations/{organisation_id}/members/{membership_id}", status_code=status.HTTP_204_NO_CONTENT)
def remove_member(
    organisation_id: IdPath, membership_id: IdPath, scope: ManageScope, session: SessionDep, context: ApiAudit
) -> None:
    """Take a role away from a person in your organisation (admins)."""
    service.remove_member(
        session=session, scope=scope, context=context, organisation_id=organisation_id, membership_id=membership_id
    )
