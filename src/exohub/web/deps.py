"""Typed dependencies every route uses: the unit of work, the caller, their tenant scope, audit context.

Dependencies that do no I/O are ``async def`` so they run on the event loop instead of costing a
thread-pool hop on every request; those that touch the database stay sync.
"""

import asyncio
from collections.abc import AsyncIterator, Generator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import anyio
from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from exohub.web.accounts import auth
from exohub.web.audit.service import AuditContext
from exohub.web.config import Settings
from exohub.web.database import unit_of_work
from exohub.web.errors import AuthenticationError, PageLoginRequired, ServiceBusyError
from exohub.web.tenancy import Permission, Principal, TenantScope

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


class SessionSlots:
    """At most ``limit`` requests of this worker hold a database session at once; the rest wait their turn.

    Waiting happens on the event loop, first come first served, so a request never blocks a worker thread
    waiting for a pooled connection, and few threads compete for the interpreter: with 50 clients on two
    workers, 4 sessions each answered 770-860 req/s with a p99 of 92-104 ms where 16 gave 590-720 req/s and
    160-770 ms (``benchmarks/bench_api.py``, 2026-12-01). A request that waits ``wait_s`` in vain is answered
    503 with a retry hint. The semaphore belongs to the event loop that first needs it (a test client runs
    its own loop).
    """

    RETRY_AFTER_S = 1

    def __init__(self, limit: int, *, wait_s: float) -> None:
        self.limit = limit
        self.wait_s = wait_s
        self._loop: asyncio.AbstractEventLoop | None = None
        self._semaphore: asyncio.Semaphore | None = None

    @asynccontextmanager
    async def taken(self) -> AsyncIterator[None]:
        """Hold one slot for the duration of the ``async with`` block."""
        loop = asyncio.get_running_loop()
        if self._semaphore is None or loop is not self._loop:
            self._loop, self._semaphore = loop, asyncio.Semaphore(self.limit)
        semaphore = self._semaphore
        try:
            async with asyncio.timeout(self.wait_s):
                await semaphore.acquire()
        except TimeoutError:
            raise ServiceBusyError(
                f"The server is busy: no database session came free within {self.wait_s:g} s; retry the request.",
                retry_after_s=self.RETRY_AFTER_S,
            ) from None
        try:
            yield
        finally:
            semaphore.release()


async def get_db(request: Request) -> AsyncIterator[Session]:
    """One transaction per request, committed before the response is sent, rolled back on any error.

    The request first waits for one of the worker's :class:`SessionSlots`. Opening a session does no I/O (it
    connects at its first query), so it happens on the event loop; only the commit or rollback and the close
    take a thread-pool hop, one per request instead of one each way.
    """
    slots: SessionSlots = request.app.state.session_slots
    async with slots.taken():
        unit = unit_of_work(request.app.state.sessionmaker)
        session = next(unit)
        try:
            yield session
        except BaseException as error:
            with anyio.CancelScope(shield=True):  # roll back even when the request is being cancelled
                await run_in_threadpool(_throw_into, unit, error)
            raise
        await run_in_threadpool(next, unit, None)  # commits and closes; the unit then ends


def _throw_into(unit: Generator[Session, None, None], error: BaseException) -> None:
    """Let ``unit`` roll back for ``error``; its re-raising of ``error`` is left to the caller."""
    try:
        unit.throw(error)
    except BaseException as raised:
        if raised is not error:
            raise


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_db, scope="function")]
BearerToken = Annotated[str | None, Depends(oauth2_scheme)]


def client_address(request: Request) -> str:
    """The caller's address as the server sees it (put a trusted proxy's header in uvicorn, not here)."""
    return request.client.host if request.client else "unknown"


_NOT_SIGNED_IN = "Not signed in, or the token expired or was revoked; request a new token at /api/v1/auth/token."


async def get_current_token(token: BearerToken) -> str:
    """The bearer token of the request; refused if there is none."""
    if not token:
        raise AuthenticationError(_NOT_SIGNED_IN)
    return token


CurrentToken = Annotated[str, Depends(get_current_token)]


def get_current_principal(session: SessionDep, token: CurrentToken) -> Principal:
    """The API caller, from the bearer token."""
    principal = auth.principal_for_token(session=session, token=token, kind="api")
    if principal is None:
        raise AuthenticationError(_NOT_SIGNED_IN)
    return principal


def get_page_principal(request: Request, session: SessionDep) -> Principal:
    """The page visitor, from the signed session cookie; redirects to the login page if there is none."""
    token = request.session.get("token")
    principal = auth.principal_for_token(session=session, token=token, kind="page") if token else None
    if principal is None:
        request.session.clear()
        raise PageLoginRequired
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_current_principal)]
PagePrincipal = Annotated[Principal, Depends(get_page_principal)]


async def _api_audit(principal: CurrentPrincipal, request: Request) -> AuditContext:
    return AuditContext(actor_user_id=principal.user_id, address=client_address(request))


async def _page_audit(principal: PagePrincipal, request: Request) -> AuditContext:
    return AuditContext(actor_user_id=principal.user_id, address=client_address(request))


ApiAudit = Annotated[AuditContext, Depends(_api_audit)]
PageAudit = Annotated[AuditContext, Depends(_page_audit)]


def api_scope(permission: Permission) -> Any:
    """Dependency: the API caller's :class:`TenantScope` for ``permission``."""

    async def dependency(principal: CurrentPrincipal) -> TenantScope:
        return principal.scope(permission)

    return Depends(dependency)


def page_scope(permission: Permission) -> Any:
    """Dependency: the page visitor's :class:`TenantScope` for ``permission``."""

    async def dependency(principal: PagePrincipal) -> TenantScope:
        return principal.scope(permission)

    return Depends(dependency)
