"""Liveness that means something: the service answers and its database does."""

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from exohub import __version__

router = APIRouter(tags=["health"])


@router.get("/health")
def get_health(request: Request) -> JSONResponse:
    """Report whether the service and its database answer (503 when the database does not)."""
    try:
        # Autocommit: the probe takes no lock, so a busy database still answers it at once.
        with request.app.state.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as err:
        return JSONResponse(
            {"status": "unavailable", "database": f"error: {type(err).__name__}", "version": __version__},
            status_code=503,
        )
    return JSONResponse({"status": "ok", "database": "ok", "version": __version__})
