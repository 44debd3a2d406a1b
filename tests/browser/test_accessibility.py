"""Every page passes axe-core's WCAG 2.1 A/AA rules (labels, contrast, landmarks, names), at tablet size."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

from exohub.web.demo import DEMO_PASSWORD
from tests.browser.conftest import demo_email, login

WCAG_AA = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    "resultTypes": ["violations"],
}

PAGES = {
    "admin.jp": [
        "/dashboard",
        "/organisations",
        "/users",
        "/alliances",
        "/alliances/1",
        "/audit",
        "/account/password",
        "/organisations/1/members",
        "/organisations/2/members",
    ],
    "programme": ["/dashboard", "/alliances/1"],
    "therapist.jp": [
        "/clinic/patients",
        "/clinic/patients/new",
        "/clinic/devices",
        "/clinic/patients/1",
        "/clinic/patients/1/sessions/new",
        "/clinic/sessions/1",
    ],
}


def _violations(page: Page) -> list[str]:
    results = Axe().run(page, options=WCAG_AA).response
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} at "
        + ", ".join(node["target"][0] for node in violation["nodes"][:3])
        for violation in results["violations"]
    ]


def test_login_page_is_accessible(page: Page, live_server: str) -> None:
    page.goto(f"{live_server}/login")
    assert _violations(page) == []


@pytest.mark.parametrize("local_part", sorted(PAGES))
def test_signed_in_pages_are_accessible(page: Page, live_server: str, local_part: str) -> None:
    login(page, live_server, demo_email(local_part), DEMO_PASSWORD)
    found = {}
    for path in PAGES[local_part]:
        page.goto(f"{live_server}{path}")
        if violations := _violations(page):
            found[path] = violations
    assert found == {}


def test_the_checker_finds_a_broken_page(page: Page, live_server: str) -> None:
    page.goto(f"{live_server}/login")
    page.evaluate(
        "document.querySelector('label[for=email]').remove();document.querySelector('h1').style.color = '#ddd'"
    )
    found = " ".join(_violations(page))
    assert "label" in found
    assert "color-contrast" in found
