"""Pages: sign in and out, password change, the organisation directory, members and account admin."""

from typing import Annotated

from fastapi import APIRouter, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from exohub.web.accounts import auth, service
from exohub.web.accounts.auth import EMAIL_MAX_LENGTH
from exohub.web.accounts.schemas import MemberCreate, OrganisationCreate, PasswordChange, UserCreate
from exohub.web.deps import PageAudit, PagePrincipal, SessionDep, SettingsDep, client_address, page_scope
from exohub.web.errors import AuthenticationError, DomainError, InvalidInputError, RateLimitedError
from exohub.web.fields import IdPath, SearchQuery
from exohub.web.forms import form_error, form_values, validate_form
from exohub.web.pagination import PageParams
from exohub.web.security import new_token
from exohub.web.templating import render
from exohub.web.tenancy import OrganisationKind, Permission, Role, TenantScope

router = APIRouter()

MembersScope = Annotated[TenantScope, page_scope(Permission.MEMBERS_READ)]
ManageScope = Annotated[TenantScope, page_scope(Permission.ORGANISATION_MANAGE)]


def _safe_next(target: str | None) -> str:
    """Only redirect to a path on this site."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/dashboard"


@router.get("/", response_class=HTMLResponse)
def home_page() -> RedirectResponse:
    return RedirectResponse("/dashboard", status_code=status.HTTP_303_SEE_OTHER)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str | None = None) -> HTMLResponse:
    return render(request, "login.html", {"next": _safe_next(next)})


@router.post("/login", response_class=HTMLResponse)
async def login_submit(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    form = form_values(await request.form())
    next_path = _safe_next(form.get("next"))
    try:
        signed_in = auth.sign_in(
            session=session,
            settings=settings,
            email=form.get("email", ""),
            password=form.get("password", ""),
            address=client_address(request),
            kind="page",
        )
    except (AuthenticationError, InvalidInputError, RateLimitedError) as err:
        context = {"next": next_path, "error": err.detail, "email": form.get("email", "")[:EMAIL_MAX_LENGTH]}
        return render(request, "login.html", context, status_code=err.status)
    request.session.clear()
    request.session.update({"token": signed_in.token, "csrf": new_token()})
    return RedirectResponse(next_path, status_code=status.HTTP_303_SEE_OTHER)


@router.post("/logout")
def logout_submit(request: Request, principal: PagePrincipal, session: SessionDep, context: PageAudit) -> Response:
    auth.end_session(session=session, token=request.session["token"], context=context)
    request.session.clear()
    return RedirectResponse("/login", status_code=status.HTTP_303_SEE_OTHER)


@router.get("/account/password", response_class=HTMLResponse)
def password_page(request: Request, principal: PagePrincipal) -> HTMLResponse:
    return render(request, "accounts/password.html", {"principal": principal})


@router.post("/account/password", response_class=HTMLResponse)
async def password_submit(
    request: Request, principal: PagePrincipal, session: SessionDep, settings: SettingsDep, context: PageAudit
) -> HTMLResponse:
    data, errors = validate_form(PasswordChange, form_values(await request.form()))
    if data is not None:
        try:
            auth.change_password(
                session=session,
                settings=settings,
                principal=principal,
                context=context,
                current_password=data.current_password,
                new_password=data.new_password,
                keep_token=request.session["token"],
            )
        except DomainError as err:
            errors = form_error(err, field="current_password")
    status_code = status.HTTP_422_UNPROCESSABLE_CONTENT if errors else status.HTTP_200_OK
    return render(
        request,
        "accounts/password.html",
        {"principal": principal, "errors": errors, "changed": not errors},
        status_code=status_code,
    )


@router.get("/organisations", response_class=HTMLResponse)
def organisations_page(
    request: Request,
    principal: PagePrincipal,
    session: SessionDep,
    q: SearchQuery = None,
    kind: OrganisationKind | None = None,
) -> HTMLResponse:
    page = service.get_all_organisations(session=session, params=PageParams(limit=200), q=q, kind=kind)
    context = {"principal": principal, "page": page, "q": q or "", "kind": kind, "kinds": list(OrganisationKind)}
    return render(request, "accounts/organisations.html", context)


@router.post("/organisations", response_class=HTMLResponse)
async def organisation_create_submit(
    request: Request, principal: PagePrincipal, session: SessionDep, context: PageAudit
) -> Response:
    data, errors = validate_form(OrganisationCreate, form_values(await request.form()))
    if data is not None:
        try:
            organisation = service.create_organisation(session=session, principal=principal, context=context, data=data)
            return RedirectResponse(f"/organisations/{organisation.id}/members", status_code=303)
        except DomainError as err:
            errors = form_error(err, field="name")
    page = service.get_all_organisations(session=session, params=PageParams(limit=200))
    return render(
        request,
        "accounts/organisations.html",
        {
            "principal": principal,
            "page": page,
            "q": "",
            "kind": None,
            "kinds": list(OrganisationKind),
            "errors": errors,
        },
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
    )


@router.get("/organisations/{organisation_id}/members", response_class=HTMLResponse)
def members_page(request: Request, organisation_id: IdPath, scope: MembersScope, session: SessionDep) -> HTMLResponse:
    return _render_members(request, scope, session, organisation_id)


def _render_members(
    request: Request,
    scope: TenantScope,
    session: SessionDep,
    organisation_id: int,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    members = service.get_members(
        session=session, scope=scope, organisation_id=organisation_id, params=PageParams(limit=200, sort="full_name")
    )
    organisation = service.get_organisation(session=session, organisation_id=organisation_id)
    context = {
        "principal": scope.principal,
        "organisation": organisation,
        "members": members,
        "roles": list(Role),
        "can_manage": scope.principal.can(Permission.ORGANISATION_MANAGE, organisation_id),
        "errors": errors or {},
    }
    return render(request, "accounts/members.html", context, status_code=status_code)


@router.post("/organisations/{organisation_id}/members", response_class=HTMLResponse)
async def member_add_submit(
    request: Request, organisation_id: IdPath, scope: ManageScope, session: SessionDep, context: PageAudit
) -> Response:
    data, errors = validate_form(MemberCreate, form_values(await request.form()))
    if data is not None:
        try:
            service.add_member(
                session=session, scope=scope, context=context, organisation_id=organisation_id, data=data
            )
            return RedirectResponse(f"/organisations/{organisation_id}/members", status_code=303)
        except DomainError as err:
            errors = form_error(err, field="email")
    return _render_members(request, scope, session, organisation_id, errors, status.HTTP_422_UNPROCESSABLE_CONTENT)


@router.post("/organisations/{organisation_id}/members/{membership_id}/delete", response_class=HTMLResponse)
def member_remove_submit(
    request: Request,
    organisation_id: IdPath,
    membership_id: IdPath,
    scope: ManageScope,
    session: SessionDep,
    context: PageAudit,
) -> Response:
    try:
        service.remove_member(
            session=session, scope=scope, context=context, organisation_id=organisation_id, membership_id=membership_id
        )
    except DomainError as err:
        return _render_members(
            request, scope, session, organisation_id, form_error(err, field="membership"), err.status
        )
    return RedirectResponse(f"/organisations/{organisation_id}/members", status_code=303)


@router.get("/users", response_class=HTMLResponse)
def users_page(request: Request, scope: MembersScope, session: SessionDep, q: SearchQuery = None) -> HTMLResponse:
    page = service.get_all_users(session=session, scope=scope, params=PageParams(limit=200, sort="email"), q=q)
    return render(request, "accounts/users.html", {"principal": scope.principal, "page": page, "q": q or ""})


@router.post("/users", response_class=HTMLResponse)
async def user_create_submit(
    request: Request, scope: MembersScope, session: SessionDep, context: PageAudit
) -> Response:
    values: dict[str, object] = {**form_values(await request.form())}
    values["is_superuser"] = "is_superuser" in values
    data, errors = validate_form(UserCreate, values)
    if data is not None:
        try:
            service.create_user(session=session, principal=scope.principal, context=context, data=data)
            return RedirectResponse("/users", status_code=303)
        except DomainError as err:
            errors = form_error(err, field="email")
    page = service.get_all_users(session=session, scope=scope, params=PageParams(limit=200, sort="email"))
    return render(
        request,
        "accounts/users.html",
        {"principal": scope.principal, "page": page, "q": "", "errors": errors},
        status_code=422,
    )
