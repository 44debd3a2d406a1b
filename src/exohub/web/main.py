"""The application factory: every domain's API under ``/api/v1`` and its pages, one error format."""

import gc
import re
from pathlib import Path

from fastapi import APIRouter, Depends, FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from sqlalchemy import Engine
from starlette.middleware.sessions import SessionMiddleware

from exohub import __version__
from exohub.web import health
from exohub.web.accounts import pages as accounts_pages
from exohub.web.accounts import router as accounts_router
from exohub.web.audit import pages as audit_pages
from exohub.web.audit import router as audit_router
from exohub.web.clinic import pages as clinic_pages
from exohub.web.clinic import router as clinic_router
from exohub.web.clinic import session_pages as clinic_session_pages
from exohub.web.config import Settings, get_settings
from exohub.web.consortium import pages as consortium_pages
from exohub.web.consortium import router as consortium_router
from exohub.web.cpu_affinity import pin_worker
from exohub.web.dashboard import pages as dashboard_pages
from exohub.web.database import make_engine, make_sessionmaker
from exohub.web.deps import SessionSlots
from exohub.web.errors import install_error_handlers
from exohub.web.middleware import BodySizeLimit, SecurityHeaders
from exohub.web.models import pages as models_pages
from exohub.web.models import router as models_router
from exohub.web.templating import verify_csrf

API_PREFIX = "/api/v1"

# The routes that stream large files to disk and enforce their own limit (uploads.receive_file); every other
# route keeps MAX_BODY_BYTES.
LARGE_BODY_PATHS = re.compile(
    rf"{API_PREFIX}/models/[0-9]+/file|{API_PREFIX}/clinic/sessions/[0-9]+/recording|/clinic/patients/[0-9]+/sessions"
)

API_ROUTERS: tuple[APIRouter, ...] = (
    accounts_router.auth_router,
    accounts_router.router,
    consortium_router.router,
    audit_router.router,
    models_router.router,
    clinic_router.router,
)
PAGE_ROUTERS: tuple[APIRouter, ...] = (
    accounts_pages.router,
    dashboard_pages.router,
    consortium_pages.router,
    audit_pages.router,
    models_pages.router,
    clinic_pages.router,
    clinic_session_pages.router,
)


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    """Build the service for ``settings`` (read from the environment by default)."""
    settings = settings or get_settings()
    app = FastAPIOffline(
        title="exohub",
        version=__version__,
        summary="Exoskeleton sensors, clinics, shared gait models and the consortium that runs them.",
    )
    app.state.settings = settings
    app.state.engine = engine or make_engine(
        settings.database_url,
        pool_size=settings.DATABASE_POOL_SIZE,
        pre_ping=settings.DATABASE_PRE_PING,
        pool_recycle_s=settings.DATABASE_POOL_RECYCLE_S,
    )
    app.state.sessionmaker = make_sessionmaker(app.state.engine)
    app.state.session_slots = SessionSlots(settings.DATABASE_MAX_SESSIONS, wait_s=settings.DATABASE_SESSION_WAIT_S)

    app.include_router(health.router)
    for router in API_ROUTERS:
        app.include_router(router, prefix=API_PREFIX)
    for router in PAGE_ROUTERS:
        app.include_router(router, include_in_schema=False, dependencies=[Depends(verify_csrf)])
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")

    install_error_handlers(app)
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret_key,
        session_cookie="exohub_session",
        max_age=settings.SESSION_EXPIRE_MINUTES * 60,
        same_site="lax",
        https_only=settings.secure_cookies,
    )
    app.add_middleware(BodySizeLimit, max_bytes=settings.MAX_BODY_BYTES, large_body_paths=LARGE_BODY_PATHS)
    app.add_middleware(SecurityHeaders)
    return app


def create_served_app() -> FastAPI:
    """The service as each ``exohub serve`` worker runs it.

    :func:`create_app`, then the start-up heap frozen and, with several workers, each pinned to a CPU of its
    own (unless ``EXOHUB_WORKER_CPU_AFFINITY`` is off; :mod:`exohub.web.cpu_affinity` says when it is not).
    """
    app = create_app()
    freeze_startup_heap()
    settings: Settings = app.state.settings
    if settings.WORKER_CPU_AFFINITY:
        pin_worker()
    return app


def freeze_startup_heap() -> None:
    """Leave everything built so far (modules, schemas, routes, the app) out of future garbage collections.

    A worker starts with a few hundred thousand long-lived objects, and every full (oldest-generation)
    collection walks them all: under load one ran every 2-3 s and stopped the worker for up to 200 ms
    (160 ms on average), which was the benchmark's p99. Frozen (``gc.freeze``), they are skipped, and those
    pauses fell from 2.3-3.1 s per worker over a 45 s run to 0.25 s. Call it once, in a serving process,
    after the app is built; objects frozen are still freed by reference counting, only cycles among them
    stay until exit.
    """
    gc.collect()
    gc.freeze()
