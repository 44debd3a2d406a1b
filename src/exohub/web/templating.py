"""Jinja2 templates, and the CSRF token every page form carries (synchronizer token in the signed session)."""

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool

from exohub import __version__
from exohub.web.accounts import auth
from exohub.web.audit import service as audit_service
from exohub.web.errors import PermissionDeniedError, Problem
from exohub.web.fields import country_name
from exohub.web.security import new_token, tokens_equal
from exohub.web.tenancy import Principal
from exohub.web.uploads import MULTIPART_OVERHEAD_BYTES, ContentTooLargeError

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
templates.env.globals.update(version=__version__, country_name=country_name, may_read_audit=audit_service.may_read)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_FIELD = "csrf_token"


def csrf_token(request: Request) -> str:
    """The visitor's CSRF token, created with their session."""
    token: str | None = request.session.get("csrf")
    if token is None:
        token = new_token()
        request.session["csrf"] = token
    return token


async def verify_csrf(request: Request) -> None:
    """Refuse a state-changing page request whose form does not carry the session's CSRF token."""
    if request.method in SAFE_METHODS:
        return
    expected = request.session.get("csrf")
    if request.headers.get("content-type", "").startswith("multipart/"):
        await _check_upload_allowed(request)
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    if not expected or not isinstance(sent, str) or not tokens_equal(sent, expected):
        raise PermissionDeniedError("This form expired or did not come from exohub; reload the page and try again.")


async def _check_upload_allowed(request: Request) -> None:
    """A page form with a file is parsed (spooled to disk) only for a signed-in visitor, and within the size limit.

    Signed in means a session whose token is still valid (not expired, revoked or of a deactivated account),
    checked before a byte of the body is read.
    """
    if await run_in_threadpool(_signed_in_visitor, request) is None:
        raise PermissionDeniedError("Sign in before sending files.")
    declared = request.headers.get("content-length", "")
    max_bytes = request.app.state.settings.MAX_RECORDING_BYTES + MULTIPART_OVERHEAD_BYTES
    if not (declared.isascii() and declared.isdigit()) or int(declared) > max_bytes:
        raise ContentTooLargeError(f"Send files of at most {max_bytes} bytes, with their length declared.")


def render(request: Request, name: str, context: dict[str, Any] | None = None, status_code: int = 200) -> HTMLResponse:
    """Render a page template with the CSRF token and the signed-in user available."""
    context = {"csrf_token": csrf_token(request), **(context or {})}
    return templates.TemplateResponse(request=request, name=name, context=context, status_code=status_code)


def render_error_page(request: Request, problem: Problem, headers: dict[str, str] | None = None) -> HTMLResponse:
    """The HTML twin of a problem response."""
    context = {"problem": problem, "principal": _signed_in_visitor(request)}
    response = render(request, "error.html", context, status_code=problem.status)
    if headers:
        response.headers.update(headers)
    return response


def _signed_in_visitor(request: Request) -> Principal | None:
    """Who is signed in, for the navigation of an error page (the failed request's session is gone)."""
    token = request.session.get("token") if "session" in request.scope else None
    if not token:
        return None
    with request.app.state.sessionmaker() as session:
        return auth.principal_for_token(session=session, token=token, kind="page")
