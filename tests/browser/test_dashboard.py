"""The dashboard as a tablet shows it."""

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.conftest import DEMO_PASSWORD, demo_email, login

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_therapist_dashboard_screenshot(page: Page, live_server: str, tmp_path: Path) -> None:
    login(page, live_server, demo_email("therapist.jp"), DEMO_PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Kenji Tanaka")
    shot = tmp_path / "dashboard.png"

    page.screenshot(path=shot, full_page=True)

    data = shot.read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    assert len(data) > 10_000
