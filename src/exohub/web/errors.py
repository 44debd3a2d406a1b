"""Domain errors, and their translation to RFC 9457 problem details (JSON) or error pages (HTML).

Services raise these; routes never build HTTP errors by hand. One set of handlers, installed by
:func:`install_error_handlers`, maps each to its status.
"""

import logging
from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from exohub.exceptions import ExohubError

logger = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"


class DomainError(ExohubError):
    """An error a service raises for the caller; ``status`` is its HTTP meaning, ``field`` the input it is about."""

    status: int = HTTPStatus.BAD_REQUEST
    headers: dict[str, str] | None = None

    def __init__(self, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field


class NotFoundError(DomainError):
    status = HTTPStatus.NOT_FOUND


class ConflictError(DomainError):
    status = HTTPStatus.CONFLICT


class PermissionDeniedError(DomainError):
    status = HTTPStatus.FORBIDDEN


class InvalidStateError(DomainError):
    status = HTTPStatus.CONFLICT


class InvalidInputError(DomainError):
    status = HTTPStatus.UNPROCESSABLE_ENTITY


class AuthenticationError(DomainError):
    status = HTTPStatus.UNAUTHORIZED
    headers = {"WWW-Authenticate": "Bearer"}


class RetryLaterError(DomainError):
    """An error the caller may retry after ``retry_after_s`` seconds (sent as ``Retry-After``)."""

    def __init__(self, detail: str, *, retry_after_s: int) -> None:
        super().__init__(detail)
        self.headers = {"Retry-After": str(retry_after_s)}


class RateLimitedError(RetryLaterError):
    status = HTTPStatus.TOO_MANY_REQUESTS


class ServiceBusyError(RetryLaterError):
    """Every database session of this worker stayed taken for the whole wait: the server is overloaded."""

    status = HTTPStatus.SERVICE_UNAVAILABLE


class FieldProblem(BaseModel):
    field: str
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details, plus ``errors`` naming each invalid field."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[FieldProblem] | None = None


class PageLoginRequired(ExohubError):  # noqa: N818 - a control-flow signal, not a failure
    """A page needs a signed-in user; the handler redirects to the login page."""


def problem_response(request: Request, status: int, detail: str, **extra: Any) -> Response:
    """Answer with problem details (API) or the error page (pages) for ``status``."""
    headers = extra.pop("headers", None)
    problem = Problem(title=HTTPStatus(status).phrase, status=status, detail=detail, instance=request.url.path, **extra)
    if _wants_html(request):
        from exohub.web.templating import render_error_page  # late: templating imports this module

        return render_error_page(request, problem, headers=headers)
    return JSONResponse(
        problem.model_dump(exclude_none=True), status_code=status, media_type=PROBLEM_JSON, headers=headers
    )


def _wants_html(request: Request) -> bool:
    path = request.url.path
    if path.startswith("/api/") or path in {"/health", "/openapi.json"}:
        return False
    return "text/html" in request.headers.get("accept", "")


def _field_name(location: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in location)


async def _domain_error(request: Request, error: Exception) -> Response:
    exc = cast(DomainError, error)
    extra: dict[str, Any] = {"headers": exc.headers}
    if exc.field:
        extra["errors"] = [FieldProblem(field=exc.field, message=exc.detail)]
    return problem_response(request, exc.status, exc.detail, **extra)


async def _validation_error(request: Request, error: Exception) -> Response:
    exc = cast(RequestValidationError, error)
    # Never echo the input back: it may hold a password.
    errors = [
        FieldProblem(field=_field_name(err["loc"]), message=err["msg"].removeprefix("Value error, "))
        for err in exc.errors()
    ]
    names = ", ".join(sorted({e.field for e in errors})) or "request"
    return problem_response(request, HTTPStatus.UNPROCESSABLE_ENTITY, f"Invalid input in: {names}.", errors=errors)


async def _http_error(request: Request, error: Exception) -> Response:
    exc = cast(StarletteHTTPException, error)
    return problem_response(request, exc.status_code, str(exc.detail), headers=exc.headers)


async def _login_required(request: Request, exc: Exception) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=HTTPStatus.SEE_OTHER)


DATABASE_RETRY_AFTER_S = 1


async def _database_error(request: Request, error: Exception) -> Response:
    """A lost database connection is the server's trouble, not a bug: 503 with a retry hint.

    SQLAlchemy marks the error ``connection_invalidated`` and renews the pool, so a retry gets a fresh
    connection (the first request after a database restart lands here unless pre-ping is on). Any other
    database error is unexpected.
    """
    exc = cast(DBAPIError, error)
    if not exc.connection_invalidated:
        return await _unexpected_error(request, exc)
    logger.warning("Lost the database connection on %s %s; the pool was renewed", request.method, request.url.path)
    return problem_response(
        request,
        HTTPStatus.SERVICE_UNAVAILABLE,
        "The connection to the database was lost and has been renewed; retry the request.",
        headers={"Retry-After": str(DATABASE_RETRY_AFTER_S)},
    )


async def _unexpected_error(request: Request, exc: Exception) -> Response:
    logger.exception("Unhandled error on %s %s", request.method, request.url.path)
    return problem_response(request, HTTPStatus.INTERNAL_SERVER_ERROR, "An unexpected error occurred; it was logged.")


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers that turn every error into problem details or an error page."""
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(PageLoginRequired, _login_required)
    app.add_exception_handler(DBAPIError, _database_error)
    app.add_exception_handler(Exception, _unexpected_error)
