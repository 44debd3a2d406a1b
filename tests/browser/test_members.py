"""Organisation members through the pages: an admin manages their own clinic and never sees another's."""

import secrets

from playwright.sync_api import Page, expect

from tests.browser.conftest import DEMO_PASSWORD, ORGANISATION_NAMES, PEOPLE, demo_email, login, login_redirect

SAKURA = ORGANISATION_NAMES["jp"]
HANGANG = ORGANISATION_NAMES["kr"]


def _organisation_id(page: Page, base_url: str, name: str) -> int:
    """Look an organisation's id up in the API directory, with a bearer token of the signed-in admin."""
    token = page.request.post(
        f"{base_url}/api/v1/auth/token", form={"username": demo_email("admin.jp"), "password": DEMO_PASSWORD}
    )
    assert token.status == 200, token.text()
    bearer = {"Authorization": f"Bearer {token.json()['access_token']}"}
    found = page.request.get(f"{base_url}/api/v1/organisations", params={"q": name}, headers=bearer)
    assert found.status == 200, found.text()
    ids = [item["id"] for item in found.json()["items"] if item["name"] == name]
    assert len(ids) == 1, found.json()
    return int(ids[0])


def test_admin_is_refused_another_clinics_members_page(page: Page, live_server: str) -> None:
    login(page, live_server, demo_email("admin.jp"), DEMO_PASSWORD)
    expect(page).to_have_url(f"{live_server}/dashboard")
    korean_id = _organisation_id(page, live_server, HANGANG)
    korean_emails = [demo_email(local_part) for local_part, _, org_key, _ in PEOPLE if org_key == "kr"]
    assert korean_emails

    response = page.goto(f"{live_server}/organisations/{korean_id}/members")

    assert response is not None
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("404 · Not Found")
    content = page.content()
    for email in korean_emails:
        assert email not in content
    assert HANGANG not in content


def test_admin_adds_a_member_then_signs_out(page: Page, live_server: str) -> None:
    email = f"new.therapist.{secrets.token_hex(3)}@example.org"
    full_name = "Hinata Kobayashi"
    login(page, live_server, demo_email("admin.jp"), DEMO_PASSWORD)
    page.get_by_role("link", name=f"Manage the people of {SAKURA}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(SAKURA)
    form = page.get_by_role("region", name="Give someone a role")

    form.get_by_label("Email").fill(email)
    form.get_by_label("Role").select_option("therapist")
    form.get_by_label("Full name").fill(full_name)
    form.get_by_label("Initial password").fill("welcome-to-sakura")
    with page.expect_response(lambda r: r.request.method == "POST" and "/members" in r.url) as posted:
        form.get_by_role("button", name="Add").click()
    page.wait_for_load_state()

    assert posted.value.status == 303
    expect(page).to_have_url(f"{live_server}{posted.value.headers['location']}")
    row = page.get_by_role("row").filter(has_text=email)
    expect(row).to_have_count(1)
    expect(row.get_by_role("cell")).to_have_text([full_name, email, "therapist", "active", "Remove"])

    page.get_by_role("button", name="Sign out").click()

    expect(page).to_have_url(f"{live_server}/login")
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    page.goto(f"{live_server}/dashboard")
    expect(page).to_have_url(login_redirect(live_server, "/dashboard"))
