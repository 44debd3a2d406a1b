"""Sign-in, tokens, rate limits, logout, password change, and nothing sensitive in the logs."""

import logging
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from exohub.web.accounts.models import AuthSession, LoginAttempt, Membership, User
from exohub.web.audit.models import AuditEvent
from exohub.web.config import Settings
from exohub.web.database import utcnow
from exohub.web.tenancy import Role
from tests.web import factories


def _token(client: TestClient, email: str, password: str = factories.PASSWORD) -> dict[str, object]:
    response = client.post("/api/v1/auth/token", data={"username": email, "password": password})
    return {"status": response.status_code, "body": response.json(), "headers": response.headers}


def test_password_flow_issues_an_expiring_bearer_token(
    client: TestClient, session: Session, settings: Settings
) -> None:
    user = factories.make_user(session)
    result = _token(client, user.email)
    assert result["status"] == 200
    body = result["body"]
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == settings.ACCESS_TOKEN_EXPIRE_MINUTES * 60
    me = client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.json()["email"] == user.email


def test_wrong_password_and_unknown_account_look_the_same(client: TestClient, session: Session) -> None:
    user = factories.make_user(session)
    wrong = _token(client, user.email, "not the password at all")
    unknown = _token(client, "nobody@example.org")
    assert wrong["status"] == unknown["status"] == 401
    assert wrong["body"]["detail"] == unknown["body"]["detail"] == "Incorrect email or password."
    assert wrong["headers"]["content-type"] == "application/problem+json"


def test_inactive_account_cannot_sign_in(client: TestClient, session: Session) -> None:
    user = factories.make_user(session, is_active=False)
    assert _token(client, user.email)["status"] == 401


@pytest.mark.parametrize("email", ["\x00", "admin\x00@example.org", "a\x1b@example.org"])
def test_a_control_character_in_the_email_is_refused_before_anything_is_stored(
    client: TestClient, session: Session, email: str
) -> None:
    response = client.post("/api/v1/auth/token", data={"username": email, "password": "x"})
    assert response.status_code == 422
    assert "control characters" in response.json()["detail"]
    assert session.scalars(select(LoginAttempt)).all() == []


def test_expired_and_revoked_tokens_are_refused(client: TestClient, session: Session, settings: Settings) -> None:
    user = factories.make_user(session)
    headers = factories.bearer(session, settings, user)
    assert client.get("/api/v1/users/me", headers=headers).status_code == 200
    session.execute(update(AuthSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    session.commit()
    response = client.get("/api/v1/users/me", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


def test_deactivation_and_a_removed_role_take_effect_at_the_next_request(
    client: TestClient, session: Session, settings: Settings
) -> None:
    clinic = factories.make_organisation(session)
    user = factories.make_user(session, roles=[(clinic, Role.THERAPIST)])
    headers = factories.bearer(session, settings, user)
    members = f"/api/v1/organisations/{clinic.id}/members"
    assert client.get(members, headers=headers).status_code == 200
    session.execute(delete(Membership).where(Membership.user_id == user.id))
    session.commit()
    assert client.get(members, headers=headers).status_code == 404
    session.execute(update(User).where(User.id == user.id).values(is_active=False))
    session.commit()
    assert client.get("/api/v1/users/me", headers=headers).status_code == 401


def test_logout_revokes_the_token(client: TestClient, session: Session, settings: Settings) -> None:
    headers = factories.bearer(session, settings, factories.make_user(session))
    session.commit()
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    assert client.get("/api/v1/users/me", headers=headers).status_code == 401


def test_rate_limit_per_account(client: TestClient, session: Session, settings: Settings) -> None:
    user = factories.make_user(session)
    for _ in range(settings.LOGIN_MAX_FAILURES_PER_ACCOUNT):
        assert _token(client, user.email, "wrong password!")["status"] == 401
    limited = _token(client, user.email)  # even the right password is refused now
    assert limited["status"] == 429
    assert int(limited["headers"]["retry-after"]) == settings.LOGIN_WINDOW_MINUTES * 60
    assert "this account" in limited["body"]["detail"]


def test_rate_limit_per_address(client: TestClient, session: Session, settings: Settings) -> None:
    for number in range(settings.LOGIN_MAX_FAILURES_PER_ADDRESS):
        assert _token(client, f"guess{number}@example.org", "wrong password!")["status"] == 401
    user = factories.make_user(session)
    limited = _token(client, user.email)
    assert limited["status"] == 429
    assert "your address" in limited["body"]["detail"]


def test_failed_attempts_are_audited_without_the_password(client: TestClient, session: Session) -> None:
    user = factories.make_user(session)
    _token(client, user.email, "my secret guess")
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "auth.sign_in_failed")).one()
    assert event.object_id == str(user.id)
    assert "my secret guess" not in str(event.detail)


def test_password_change_revokes_other_sessions(client: TestClient, session: Session, settings: Settings) -> None:
    user = factories.make_user(session)
    current = factories.bearer(session, settings, user)
    other = factories.bearer(session, settings, user)
    session.commit()
    new_password = "a brand new passphrase"
    response = client.post(
        "/api/v1/auth/password",
        headers=current,
        json={"current_password": factories.PASSWORD, "new_password": new_password},
    )
    assert response.status_code == 204
    assert client.get("/api/v1/users/me", headers=current).status_code == 200
    assert client.get("/api/v1/users/me", headers=other).status_code == 401
    assert _token(client, user.email, new_password)["status"] == 200


def test_password_change_needs_the_current_password(client: TestClient, session: Session, settings: Settings) -> None:
    headers = factories.bearer(session, settings, factories.make_user(session))
    session.commit()
    response = client.post(
        "/api/v1/auth/password",
        headers=headers,
        json={"current_password": "not my password", "new_password": "a brand new passphrase"},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body.current_password"


def test_guessing_the_current_password_is_rate_limited_and_audited(
    client: TestClient, session: Session, settings: Settings
) -> None:
    """A stolen session must not be a way to brute-force the password: guesses count as failed sign-ins."""
    user = factories.make_user(session)
    headers = factories.bearer(session, settings, user)
    session.commit()
    change = {"current_password": "a long wrong guess", "new_password": "a brand new passphrase"}
    for _ in range(settings.LOGIN_MAX_FAILURES_PER_ACCOUNT):
        assert client.post("/api/v1/auth/password", headers=headers, json=change).status_code == 422
    change["current_password"] = factories.PASSWORD
    limited = client.post("/api/v1/auth/password", headers=headers, json=change)
    assert limited.status_code == 429 and "this account" in limited.json()["detail"]
    assert _token(client, user.email)["status"] == 429  # the account's sign-in is limited as well
    actions = session.scalars(select(AuditEvent.action)).all()
    assert actions.count("auth.password_change_failed") == settings.LOGIN_MAX_FAILURES_PER_ACCOUNT
    assert actions.count("auth.rate_limited") == 2
    session.expire_all()
    assert session.get(User, user.id).password_hash == user.password_hash


def test_a_rate_limited_sign_in_is_audited(client: TestClient, session: Session, settings: Settings) -> None:
    user = factories.make_user(session)
    for _ in range(settings.LOGIN_MAX_FAILURES_PER_ACCOUNT + 2):
        _token(client, user.email, "wrong password!")
    events = session.scalars(select(AuditEvent).where(AuditEvent.action == "auth.rate_limited")).all()
    assert len(events) == 2 and events[0].detail == {"email": user.email, "reason": "for this account"}


def test_an_email_longer_than_any_account_is_refused_before_anything_is_stored(
    client: TestClient, session: Session
) -> None:
    response = client.post("/api/v1/auth/token", data={"username": "a" * 300 + "@example.org", "password": "x"})
    assert response.status_code == 422 and "at most 254 characters" in response.json()["detail"]
    csrf = factories.csrf_of(client.get("/login").text)
    page = client.post("/login", data={"csrf_token": csrf, "email": "b" * 300, "password": "x"})
    assert page.status_code == 422 and "at most 254 characters" in page.text
    assert session.scalars(select(LoginAttempt)).all() == []


def test_deactivating_an_account_signs_it_out_for_good(
    client: TestClient, session: Session, settings: Settings
) -> None:
    operator = factories.make_user(session, is_superuser=True)
    user = factories.make_user(session)
    operator_headers, headers = factories.bearer(session, settings, operator), factories.bearer(session, settings, user)
    session.commit()
    for active, expected in ((False, 401), (True, 401)):
        response = client.patch(f"/api/v1/users/{user.id}", headers=operator_headers, json={"is_active": active})
        assert response.status_code == 200, response.text
        assert client.get("/api/v1/users/me", headers=headers).status_code == expected  # not revived by reactivation
    assert _token(client, user.email)["status"] == 200


def test_nothing_sensitive_in_logs(client: TestClient, session: Session, caplog: pytest.LogCaptureFixture) -> None:
    user = factories.make_user(session)
    with caplog.at_level(logging.DEBUG):
        result = _token(client, user.email)
        client.post("/api/v1/auth/token", data={"username": user.email, "password": "leaky guess 123"})
    token = result["body"]["access_token"]
    assert factories.PASSWORD not in caplog.text
    assert "leaky guess 123" not in caplog.text
    assert token not in caplog.text


def test_tokens_are_stored_only_as_digests(client: TestClient, session: Session) -> None:
    user = factories.make_user(session)
    token = _token(client, user.email)["body"]["access_token"]
    stored = session.scalars(select(AuthSession.token_digest)).all()
    assert token not in stored
    assert all(len(digest) == 64 for digest in stored)


def test_page_login_sets_a_signed_session_and_logout_ends_it(client: TestClient, session: Session) -> None:
    user = factories.make_user(session, roles=[(factories.make_organisation(session), Role.THERAPIST)])
    session.commit()
    response = factories.sign_in_page(client, user)
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    assert "exohub_session=" in cookie and "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()
    dashboard = client.get("/dashboard")
    assert dashboard.status_code == 200 and user.full_name in dashboard.text
    client.post("/logout", data={"csrf_token": factories.csrf_of(dashboard.text)})
    assert client.get("/dashboard", follow_redirects=False).status_code == 303


def test_page_login_redirects_only_within_the_site(client: TestClient, session: Session) -> None:
    user = factories.make_user(session)
    session.commit()
    response = factories.sign_in_page(client, user, next="//evil.example.org/")
    assert response.headers["location"] == "/dashboard"


def test_old_attempts_and_sessions_are_pruned_at_sign_in(
    client: TestClient, session: Session, settings: Settings
) -> None:
    user = factories.make_user(session)
    old = utcnow() - timedelta(days=2)
    session.add(LoginAttempt(email=user.email, address="old", succeeded=False, attempted_at=old))
    session.add(AuthSession(token_digest="0" * 64, user_id=user.id, kind="api", expires_at=old))
    session.commit()
    assert _token(client, user.email)["status"] == 200
    assert session.scalars(select(LoginAttempt).where(LoginAttempt.address == "old")).all() == []
    assert session.scalars(select(AuthSession).where(AuthSession.token_digest == "0" * 64)).all() == []
