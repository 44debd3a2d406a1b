"""Signing in through the real pages: every demo role reaches its dashboard, and wrong credentials do not."""

import pytest
from playwright.sync_api import Page, expect

from exohub.web.demo import GOALS
from tests.browser.conftest import (
    ALLIANCE_NAME,
    DEMO_PASSWORD,
    OPERATOR_EMAIL,
    OPERATOR_NAME,
    ORGANISATION_NAMES,
    PEOPLE,
    demo_email,
    login,
    login_redirect,
)


def _one_person_per_role() -> list[tuple[str, str, str, str]]:
    chosen: dict[str, tuple[str, str, str, str]] = {}
    for local_part, full_name, org_key, role in PEOPLE:
        chosen.setdefault(role.value, (local_part, full_name, org_key, role.value))
    return list(chosen.values())


ROLE_LOGINS = _one_person_per_role()


@pytest.mark.parametrize(
    ("local_part", "full_name", "org_key", "role"), ROLE_LOGINS, ids=[role for *_, role in ROLE_LOGINS]
)
def test_each_role_signs_in_to_their_dashboard(
    page: Page, live_server: str, local_part: str, full_name: str, org_key: str, role: str
) -> None:
    response = login(page, live_server, demo_email(local_part), DEMO_PASSWORD)

    assert response.status == 303
    expect(page).to_have_url(f"{live_server}/dashboard")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Welcome, {full_name}")
    organisations = page.get_by_role("region", name="Your organisations")
    expect(organisations.get_by_role("link", name=ORGANISATION_NAMES[org_key])).to_be_visible()
    expect(organisations.locator(f".badge.role-{role}")).to_have_text(role.replace("_", " "))
    alliance = page.get_by_role("region", name=ALLIANCE_NAME)
    expect(alliance.get_by_role("heading", name=ALLIANCE_NAME, level=2)).to_be_visible()
    expect(alliance.get_by_text("Train 5,000 therapists")).to_be_visible()
    for title, *_ in GOALS:
        expect(alliance.get_by_role("heading", name=title, level=3)).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def test_operator_signs_in_to_the_platform_dashboard(page: Page, live_server: str) -> None:
    response = login(page, live_server, OPERATOR_EMAIL, DEMO_PASSWORD)

    assert response.status == 303
    expect(page).to_have_url(f"{live_server}/dashboard")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Welcome, {OPERATOR_NAME}")
    organisations = page.get_by_role("region", name="Your organisations")
    expect(organisations).to_contain_text("You operate the platform")
    expect(organisations.get_by_role("link", name="organisations")).to_have_attribute("href", "/organisations")
    expect(organisations.locator(".badge")).to_have_count(0)
    expect(page.get_by_role("link", name=ALLIANCE_NAME)).to_be_visible()  # the operator sees every alliance


@pytest.mark.parametrize(("local_part", "sees_audit_log"), [("therapist.jp", False), ("auditor.jp", True)])
def test_navigation_offers_only_what_the_role_may_open(
    page: Page, live_server: str, local_part: str, sees_audit_log: bool
) -> None:
    login(page, live_server, demo_email(local_part), DEMO_PASSWORD)
    navigation = page.get_by_role("navigation", name="Main")
    expect(navigation.get_by_role("link", name="Audit log")).to_have_count(1 if sees_audit_log else 0)


def test_wrong_password_stays_on_the_login_page(page: Page, live_server: str) -> None:
    email = demo_email("therapist.kr")

    response = login(page, live_server, email, "not-the-password")

    assert response.status == 401
    expect(page).to_have_url(f"{live_server}/login")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to exohub")
    expect(page.get_by_role("alert")).to_have_text("Incorrect email or password.")
    expect(page.get_by_label("Email")).to_have_value(email)
    expect(page.get_by_label("Password")).to_have_value("")
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)


def test_dashboard_without_signing_in_redirects_to_login(page: Page, live_server: str) -> None:
    response = page.goto(f"{live_server}/dashboard")

    assert response is not None
    assert response.ok
    expect(page).to_have_url(login_redirect(live_server, "/dashboard"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to exohub")
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
