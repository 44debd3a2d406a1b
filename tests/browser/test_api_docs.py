"""The interactive API documentation works with no network: Swagger UI is served by exohub itself."""

from playwright.sync_api import Page, expect


def test_swagger_ui_renders_the_api_offline(page: Page, live_server: str) -> None:
    outside = []
    page.on("request", lambda request: outside.append(request.url) if not request.url.startswith(live_server) else None)
    page.goto(f"{live_server}/docs")
    expect(page.get_by_text("/api/v1/organisations/{organisation_id}/members").first).to_be_visible()
    assert outside == []
