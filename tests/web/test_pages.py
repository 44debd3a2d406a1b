"""Page behaviour that needs no browser: redirects, error pages, per-role dashboards."""

from urllib.parse import parse_qs, urlsplit

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from exohub.web.accounts.models import User
from exohub.web.audit import service as audit
from exohub.web.audit.service import AuditContext
from exohub.web.tenancy import Role
from tests.web import factories


def _sign_in(client: TestClient, user: User) -> str:
    factories.sign_in_page(client, user)
    return client.get("/dashboard").text


def test_login_redirect_keeps_the_whole_target(client: TestClient) -> None:
    response = client.get("/audit?offset=50", follow_redirects=False)
    assert response.status_code == 303
    location = urlsplit(response.headers["location"])
    assert location.path == "/login"
    assert parse_qs(location.query)["next"] == ["/audit?offset=50"]


def test_error_page_keeps_the_navigation_for_a_signed_in_visitor(client: TestClient, session: Session) -> None:
    user = factories.make_user(session, roles=[(factories.make_organisation(session), Role.THERAPIST)])
    session.commit()
    _sign_in(client, user)
    response = client.get("/organisations/999999/members", headers={"accept": "text/html"})
    assert response.status_code == 404
    assert "Sign out" in response.text
    assert user.full_name in response.text


def test_dashboard_panels_follow_the_role(client: TestClient, session: Session) -> None:
    clinic = factories.make_organisation(session, name="Panel Clinic")
    factories.make_goal(session, factories.make_alliance(session, members=[clinic], name="Panel Alliance"))
    admin = factories.make_user(session, roles=[(clinic, Role.ADMIN)])
    therapist = factories.make_user(session, roles=[(clinic, Role.THERAPIST)])
    audit.record(
        session=session,
        context=AuditContext(actor_user_id=admin.id, address="test"),
        action="organisation.update",
        object_type="organisation",
        organisation_id=clinic.id,
    )
    session.commit()
    admin_page = _sign_in(client, admin)
    assert "Manage the people of Panel Clinic" in admin_page
    assert "Recent activity" in admin_page
    assert "Panel Alliance" in admin_page
    client.cookies.clear()
    therapist_page = _sign_in(client, therapist)
    assert "Panel Alliance" in therapist_page
    assert "Manage the people" not in therapist_page
    assert "Recent activity" not in therapist_page
    assert 'href="/audit"' not in therapist_page


def test_operator_reads_platform_events_but_no_clinic_events(client: TestClient, session: Session) -> None:
    clinic = factories.make_organisation(session)
    operator = factories.make_user(session, is_superuser=True)
    context = AuditContext(actor_user_id=None, address="test")
    audit.record(session=session, context=context, action="alliance.create", object_type="alliance", object_id=41)
    audit.record(
        session=session,
        context=context,
        action="patient.read",
        object_type="patient",
        object_id=42,
        organisation_id=clinic.id,
    )
    session.commit()
    factories.sign_in_page(client, operator)
    page = client.get("/audit").text
    assert "alliance 41" in page
    assert "patient 42" not in page


def test_operator_admits_an_organisation_through_the_form(client: TestClient, session: Session) -> None:
    operator = factories.make_user(session, is_superuser=True)
    session.commit()
    factories.sign_in_page(client, operator)
    csrf = factories.csrf_of(client.get("/organisations").text)
    refused = client.post(
        "/organisations", data={"csrf_token": csrf, "name": "Mekong Rehab", "kind": "clinic", "country_code": "ZZ"}
    )
    assert refused.status_code == 422
    assert "is not an ISO 3166-1 alpha-2 country code" in refused.text
    admitted = client.post(
        "/organisations",
        follow_redirects=False,
        data={"csrf_token": csrf, "name": "Mekong Rehab", "kind": "clinic", "country_code": "vn", "city": "Hanoi"},
    )
    assert admitted.status_code == 303
    members_page = client.get(admitted.headers["location"]).text
    assert "Mekong Rehab" in members_page
    assert "Hanoi, Vietnam" in members_page


def test_operator_creates_an_account_and_others_cannot(client: TestClient, session: Session) -> None:
    operator = factories.make_user(session, is_superuser=True)
    admin = factories.make_user(session, roles=[(factories.make_organisation(session), Role.ADMIN)])
    session.commit()
    form = {"email": "New.Person@Example.org", "full_name": "New Person", "password": "a long first password"}
    factories.sign_in_page(client, operator)
    created = client.post(
        "/users", follow_redirects=False, data={**form, "csrf_token": factories.csrf_of(client.get("/users").text)}
    )
    assert created.status_code == 303
    assert "new.person@example.org" in client.get("/users").text
    client.cookies.clear()
    factories.sign_in_page(client, admin)
    refused = client.post(
        "/users",
        headers={"accept": "text/html"},
        data={**form, "email": "other@example.org", "csrf_token": factories.csrf_of(client.get("/users").text)},
    )
    assert refused.status_code == 403
