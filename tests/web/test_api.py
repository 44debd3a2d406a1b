"""Service-wide conventions: health, OpenAPI, pagination, sorting, filtering, protective headers."""

from datetime import datetime

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from exohub.web.accounts.models import Membership
from exohub.web.config import Settings
from exohub.web.tenancy import OrganisationKind, Role
from tests.web import factories


def test_health_checks_the_database(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"


def test_health_reports_an_unreachable_database(settings: Settings) -> None:
    from exohub.web.main import create_app

    broken = settings.model_copy(update={"DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none"})
    app = create_app(broken)
    with TestClient(app) as client:
        response = client.get("/health")
    app.state.engine.dispose()
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"


def test_openapi_lists_the_versioned_api(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert all(path.startswith("/api/v1/") or path == "/health" for path in paths)
    assert "/api/v1/organisations/{organisation_id}/members" in paths


def test_pagination_sorting_and_filtering(client: TestClient, session: Session, settings: Settings) -> None:
    for name, country in [("Alpha Clinic", "JP"), ("Beta Clinic", "KR"), ("Gamma 100% Clinic", "JP")]:
        factories.make_organisation(session, name=name, country_code=country)
    factories.make_organisation(session, name="Delta Maker", kind=OrganisationKind.MANUFACTURER)
    headers = factories.bearer(session, settings, factories.make_user(session))
    page = client.get(
        "/api/v1/organisations", headers=headers, params={"limit": 2, "offset": 1, "sort": "-name"}
    ).json()
    assert page["total"] == 4
    assert (page["limit"], page["offset"]) == (2, 1)
    assert [item["name"] for item in page["items"]] == ["Delta Maker", "Beta Clinic"]
    japan = client.get("/api/v1/organisations", headers=headers, params={"country_code": "jp", "kind": "clinic"}).json()
    assert {item["name"] for item in japan["items"]} == {"Alpha Clinic", "Gamma 100% Clinic"}
    literal = client.get("/api/v1/organisations", headers=headers, params={"q": "100%"}).json()
    assert [item["name"] for item in literal["items"]] == ["Gamma 100% Clinic"]


def test_sorting_by_an_unknown_field_names_the_allowed_ones(
    client: TestClient, session: Session, settings: Settings
) -> None:
    headers = factories.bearer(session, settings, factories.make_user(session))
    response = client.get("/api/v1/organisations", headers=headers, params={"sort": "password_hash"})
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "query.sort", "message": "Cannot sort by 'password_hash'; sort by one of: country_code, kind, name."}
    ]


def test_api_needs_a_token(client: TestClient) -> None:
    response = client.get("/api/v1/organisations")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"


def test_protective_headers(client: TestClient) -> None:
    headers = client.get("/login").headers
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in headers["content-security-policy"]


def test_members_list_gives_each_role_with_its_account(
    client: TestClient, session: Session, settings: Settings
) -> None:
    clinic = factories.make_organisation(session)
    admin = factories.make_user(session, email="zed@example.org", roles=[(clinic, Role.ADMIN)])
    therapist = factories.make_user(session, email="amy@example.org", roles=[(clinic, Role.THERAPIST)], is_active=False)
    factories.make_user(session, roles=[(factories.make_organisation(session), Role.ADMIN)])  # another clinic's
    headers = factories.bearer(session, settings, admin)
    path = f"/api/v1/organisations/{clinic.id}/members"
    page = client.get(path, headers=headers, params={"sort": "email"}).json()
    assert page["total"] == 2
    first = page["items"][0]
    membership = session.scalar(select(Membership).where(Membership.user_id == therapist.id))
    assert membership is not None
    assert first == {
        "id": membership.id,
        "user_id": therapist.id,
        "email": "amy@example.org",
        "full_name": therapist.full_name,
        "role": "therapist",
        "is_active": False,
        "created_at": first["created_at"],
    }
    assert datetime.fromisoformat(first["created_at"]) == membership.created_at
    by_role = client.get(path, headers=headers, params={"sort": "-role"}).json()
    assert [item["role"] for item in by_role["items"]] == ["therapist", "admin"]
    past_the_end = client.get(path, headers=headers, params={"offset": 5}).json()
    assert (past_the_end["items"], past_the_end["total"]) == ([], 2)


def test_members_of_a_missing_organisation_are_not_found_even_for_the_operator(
    client: TestClient, session: Session, settings: Settings
) -> None:
    operator = factories.make_user(session, is_superuser=True)
    headers = factories.bearer(session, settings, operator)
    response = client.get("/api/v1/organisations/999999/members", headers=headers)
    assert response.status_code == 404
    clinic = factories.make_organisation(session)
    assert client.get(f"/api/v1/organisations/{clinic.id}/members", headers=headers).json()["total"] == 0


def test_nobody_grants_themselves_patient_access_and_the_operator_holds_none(
    client: TestClient, session: Session, settings: Settings
) -> None:
    """Admins and the operator manage people, never read patients: they cannot make themselves therapists."""
    clinic = factories.make_organisation(session)
    admin = factories.make_user(session, roles=[(clinic, Role.ADMIN)])
    operator = factories.make_user(session, is_superuser=True)
    colleague = factories.make_user(session)
    admin_headers, operator_headers = (
        factories.bearer(session, settings, admin),
        factories.bearer(session, settings, operator),
    )
    session.commit()
    path = f"/api/v1/organisations/{clinic.id}/members"
    for headers, who in ((admin_headers, admin), (operator_headers, operator)):
        for role in ("therapist", "clinician"):
            refused = client.post(path, headers=headers, json={"email": who.email, "role": role})
            assert refused.status_code == 403 and "Nobody gives themselves access" in refused.json()["detail"]
    refused = client.post(path, headers=admin_headers, json={"email": operator.email, "role": "therapist"})
    assert refused.status_code == 409 and "platform operator's account" in refused.json()["detail"]
    assert (
        client.post(path, headers=admin_headers, json={"email": colleague.email, "role": "therapist"}).status_code
        == 201
    )
    assert client.post(path, headers=admin_headers, json={"email": admin.email, "role": "auditor"}).status_code == 201
    roles = session.scalars(select(Membership.role).where(Membership.organisation_id == clinic.id)).all()
    assert sorted(roles) == sorted([Role.ADMIN, Role.THERAPIST, Role.AUDITOR])
