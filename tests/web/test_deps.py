"""The request's unit of work: what a route writes is committed with its success and undone by its error."""

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from exohub.web.accounts.models import Organisation
from exohub.web.deps import SessionDep
from exohub.web.errors import ConflictError
from exohub.web.tenancy import OrganisationKind


def _add_writing_routes(app: FastAPI) -> None:
    def write(session: SessionDep, name: str, fail: bool = False) -> dict[str, int]:
        organisation = Organisation(name=name, kind=OrganisationKind.CLINIC, country_code="JP")
        session.add(organisation)
        session.flush()
        if fail:
            raise ConflictError("refused after writing")
        return {"id": organisation.id}

    app.add_api_route("/test-unit-of-work", write, methods=["POST"])


def _names(session: Session) -> set[str]:
    return set(session.scalars(select(Organisation.name)))


def test_a_successful_request_commits_before_it_answers(app: FastAPI, client: TestClient, session: Session) -> None:
    _add_writing_routes(app)
    response = client.post("/test-unit-of-work", params={"name": "Committed Clinic"})
    assert response.status_code == 200
    assert "Committed Clinic" in _names(session)


def test_a_failed_request_leaves_nothing_written(app: FastAPI, client: TestClient, session: Session) -> None:
    _add_writing_routes(app)
    response = client.post("/test-unit-of-work", params={"name": "Half-written Clinic", "fail": True})
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert "Half-written Clinic" not in _names(session)
    assert client.post("/test-unit-of-work", params={"name": "Half-written Clinic"}).status_code == 200
