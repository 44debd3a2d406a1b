"""Every state-changing page refuses a form without the session's CSRF token."""

from collections import defaultdict

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from exohub.web.main import PAGE_ROUTERS
from exohub.web.tenancy import Role
from tests.web import factories

PAGE_POSTS = sorted(
    route.path
    for router in PAGE_ROUTERS
    for route in router.routes
    if isinstance(route, APIRoute) and "POST" in route.methods
)


@pytest.mark.parametrize("path", PAGE_POSTS)
@pytest.mark.parametrize("token", [None, "forged-token"])
def test_page_post_without_csrf_token_is_refused(
    client: TestClient, session: Session, path: str, token: str | None
) -> None:
    organisation = factories.make_organisation(session)
    user = factories.make_user(session, roles=[(organisation, Role.ADMIN)], is_superuser=True)
    session.commit()
    factories.sign_in_page(client, user)
    form = {"email": user.email, "password": factories.PASSWORD}
    if token:
        form["csrf_token"] = token
    concrete = path.format_map(defaultdict(lambda: 1, organisation_id=organisation.id))
    response = client.post(concrete, data=form, headers={"accept": "text/html"}, follow_redirects=False)
    assert response.status_code == 403
    assert "did not come from exohub" in response.text


def test_there_are_page_forms_to_protect() -> None:
    assert {"/login", "/logout", "/organisations/{organisation_id}/members"} <= set(PAGE_POSTS)
