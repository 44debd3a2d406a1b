"""Malformed JSON, wrong types, unknown fields, oversized bodies, SQL-ish and HTML-ish strings:
always a 4xx problem that names the field, never a 500, nothing half-written."""

import string

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from exohub.web.accounts.models import Membership, Organisation, User
from exohub.web.config import Settings
from exohub.web.tenancy import Role
from tests.web import factories

HOSTILE = [
    "'; DROP TABLE user_account; --",
    '" OR 1=1 --',
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "%_%",
    "\\",
    "名前 テスト",
    "x" * 5000,
    "\x00null",
]


def _admin(session: Session, settings: Settings) -> tuple[Organisation, dict[str, str]]:
    organisation = factories.make_organisation(session)
    admin = factories.make_user(session, roles=[(organisation, Role.ADMIN)], is_superuser=True)
    headers = factories.bearer(session, settings, admin)
    session.commit()
    return organisation, headers


def test_malformed_json_is_a_problem_naming_the_body(client: TestClient, session: Session, settings: Settings) -> None:
    _, headers = _admin(session, settings)
    response = client.post(
        "/api/v1/organisations",
        headers={**headers, "content-type": "application/json"},
        content=b'{"name": "unterminated',
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"].startswith("body")


def test_unknown_fields_and_wrong_types_are_named(client: TestClient, session: Session, settings: Settings) -> None:
    _, headers = _admin(session, settings)
    response = client.post(
        "/api/v1/organisations",
        headers=headers,
        json={"name": 7, "kind": "spaceport", "country_code": "XX", "admin": True},
    )
    assert response.status_code == 422
    fields = {error["field"] for error in response.json()["errors"]}
    assert fields == {"body.name", "body.kind", "body.country_code", "body.admin"}


def test_oversized_body_is_refused_before_it_is_read(client: TestClient, session: Session, settings: Settings) -> None:
    _, headers = _admin(session, settings)
    response = client.post(
        "/api/v1/organisations",
        headers={**headers, "content-type": "application/json"},
        content=b"[" + b"1," * settings.MAX_BODY_BYTES + b"1]",
    )
    assert response.status_code == 413
    assert response.json()["title"] == "Content Too Large"


def test_duplicate_is_a_conflict_and_nothing_is_half_written(
    client: TestClient, session: Session, settings: Settings
) -> None:
    organisation, headers = _admin(session, settings)
    before = session.scalar(select(func.count()).select_from(User))
    # a new account whose role already exists cannot be created: the user row must not survive either
    response = client.post(
        f"/api/v1/organisations/{organisation.id}/members",
        headers=headers,
        json={"email": "x@example.org", "role": "therapist", "full_name": "X"},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body.password"
    assert session.scalar(select(func.count()).select_from(User)) == before


def test_last_admin_cannot_be_removed(client: TestClient, session: Session, settings: Settings) -> None:
    organisation, headers = _admin(session, settings)
    membership = session.scalars(select(Membership).where(Membership.organisation_id == organisation.id)).one()
    response = client.delete(f"/api/v1/organisations/{organisation.id}/members/{membership.id}", headers=headers)
    assert response.status_code == 409
    assert "last admin" in response.json()["detail"]
    assert session.get(Membership, membership.id) is not None


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    name=st.one_of(st.sampled_from(HOSTILE), st.text(max_size=300)),
    city=st.one_of(st.none(), st.sampled_from(HOSTILE), st.text(alphabet=string.printable, max_size=50)),
    country=st.text(max_size=4),
)
def test_any_organisation_input_is_stored_exactly_or_refused_with_4xx(
    client: TestClient, session: Session, settings: Settings, name: str, city: str | None, country: str
) -> None:
    _, headers = _admin(session, settings)
    response = client.post(
        "/api/v1/organisations",
        headers=headers,
        json={"name": name, "kind": "clinic", "country_code": country, "city": city},
    )
    assert response.status_code in (201, 409, 422), response.text
    if response.status_code == 201:
        stored = session.get(Organisation, response.json()["id"])
        assert stored is not None and stored.name == name.strip()
    else:
        assert response.json()["detail"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    q=st.one_of(st.sampled_from(HOSTILE), st.text(max_size=120)),
    sort=st.text(max_size=70),
    limit=st.integers(-5, 500),
    offset=st.integers(-5, 2**40),
)
def test_any_list_query_is_answered_or_refused_with_4xx(
    client: TestClient, session: Session, settings: Settings, q: str, sort: str, limit: int, offset: int
) -> None:
    _, headers = _admin(session, settings)
    response = client.get(
        "/api/v1/organisations", headers=headers, params={"q": q, "sort": sort, "limit": limit, "offset": offset}
    )
    assert response.status_code in (200, 422), response.text


def test_html_in_names_is_escaped_on_pages(client: TestClient, session: Session, settings: Settings) -> None:
    organisation = factories.make_organisation(session, name="<script>alert('x')</script> Clinic")
    user = factories.make_user(session, roles=[(organisation, Role.THERAPIST)])
    session.commit()
    factories.sign_in_page(client, user)
    dashboard = client.get("/dashboard").text
    assert "<script>alert" not in dashboard
    assert "&lt;script&gt;" in dashboard


@pytest.mark.parametrize("field", ["serial_number", "joints", "manufacturer"])
def test_a_control_character_in_a_device_is_refused_naming_the_field(
    client: TestClient, session: Session, settings: Settings, field: str
) -> None:
    """PostgreSQL refuses NUL in text: it must be a 422 naming the field on both engines, never a 500."""
    clinic = factories.make_organisation(session)
    user = factories.make_user(session, roles=[(clinic, Role.FLEET_MANAGER)])
    headers = factories.bearer(session, settings, user)
    session.commit()
    device = {"organisation_id": clinic.id, "manufacturer": "StrideWorks", "model_name": "H2", "serial_number": "H2-1"}
    response = client.post("/api/v1/clinic/devices", headers=headers, json=device | {field: "H2\x00-1"})
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == f"body.{field}"
