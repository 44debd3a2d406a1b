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
