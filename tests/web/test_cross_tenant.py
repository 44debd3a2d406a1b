"""Two clinics, every registered endpoint, every role: clinic A never reads or writes clinic B's objects.

Another clinic's object must answer 404 (not 403, not data). Later domains register their endpoints
in ``tenancy_registry.py``; this file does not change.
"""

from collections.abc import Callable, Mapping
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from exohub.web.config import Settings
from exohub.web.main import API_PREFIX, API_ROUTERS, PAGE_ROUTERS
from exohub.web.pagination import Page
from exohub.web.tenancy import Role
from tests.web import factories
from tests.web.tenancy_registry import (
    CONSORTIUM_WIDE,
    TENANT_ENDPOINTS,
    TENANT_LISTS,
    TENANT_REFERENCES,
    WORLD_BUILDERS,
    Clinic,
    TenantEndpoint,
)


def _make_clinic(session: Session, name: str) -> Clinic:
    organisation = factories.make_organisation(session, name=name)
    users = {
        role: factories.make_user(
            session, email=f"{role.value}@{name.lower().replace(' ', '-')}.example.org", roles=[(organisation, role)]
        )
        for role in Role
    }
    clinic = Clinic(organisation=organisation, users=users)
    for build in WORLD_BUILDERS:
        build(session, clinic)
    session.flush()
    return clinic


@pytest.fixture
def world(session: Session) -> tuple[Clinic, Clinic]:
    return _make_clinic(session, "Clinic A"), _make_clinic(session, "Clinic B")


class Caller:
    """One user of clinic A, signed in both ways: a bearer token for the API, a page session for pages."""

    def __init__(self, client: TestClient, session: Session, settings: Settings, clinic: Clinic, role: Role) -> None:
        self.client = client
        user = clinic.users[role]
        self.headers = factories.bearer(session, settings, user)
        session.commit()
        response = factories.sign_in_page(client, user)
        assert response.status_code == 303, response.text
        self.csrf = factories.csrf_of(client.get("/dashboard").text)

    def call(
        self, endpoint: TenantEndpoint, ids: dict[str, int], *, body_ids: dict[str, int] | None = None
    ) -> tuple[int, str]:
        """Call ``endpoint`` with ``ids`` in its path and, unless ``body_ids`` is given, in its body too."""
        path = endpoint.path.format(**ids)
        body = _fill(endpoint.body, ids if body_ids is None else body_ids)
        if endpoint.kind == "api":
            response = self.client.request(endpoint.method, path, headers=self.headers, json=body)
        elif endpoint.method == "GET":
            response = self.client.get(path, headers={"accept": "text/html"})
        else:
            form = {**{name: str(value) for name, value in (body or {}).items()}, "csrf_token": self.csrf}
            response = self.client.post(path, data=form, headers={"accept": "text/html"}, follow_redirects=False)
        return response.status_code, response.text


def _fill(body: Mapping[str, Any] | None, ids: dict[str, int]) -> dict[str, Any] | None:
    """The body with each ``"{name}"`` value replaced by that id (the organisation a new object would go to)."""
    if body is None:
        return None
    return {
        name: ids[value[1:-1]] if isinstance(value, str) and value.startswith("{") and value.endswith("}") else value
        for name, value in body.items()
    }


@pytest.fixture
def caller_for(client: TestClient, session: Session, settings: Settings) -> Callable[[Clinic, Role], Caller]:
    def make(clinic: Clinic, role: Role) -> Caller:
        return Caller(client, session, settings, clinic, role)

    return make


def _refused_wrongly(
    caller: Caller, endpoints: list[TenantEndpoint], ids: dict[str, int], other: Clinic, *, refusals: set[int]
) -> list[str]:
    """Call each endpoint with ``ids`` in its path and ``other``'s in its body; list those whose answer is not in
    ``refusals`` or shows any of ``other``'s markers."""
    wrong = []
    for endpoint in endpoints:
        status, body = caller.call(endpoint, ids, body_ids=other.ids)
        leaked = [marker for marker in other.markers if marker in body]
        if status not in refusals or leaked:
            wrong.append(f"{endpoint.key}: {status}, leaked {leaked}")
    return wrong


def _own_objects_missed(
    caller: Caller, endpoints: list[TenantEndpoint], ids: dict[str, int], connection: Connection, ok: set[int]
) -> list[str]:
    """Call each endpoint on the caller's own clinic's objects; list those whose answer is not in ``ok``."""
    wrong = []
    for endpoint in endpoints:
        probe = connection.begin_nested()  # each probe sees the world as built, not as the last probe left it
        status, body = caller.call(endpoint, ids)
        probe.rollback()
        if status not in ok:
            wrong.append(f"{endpoint.key}: {status} {body[:200]}")
    return wrong


@pytest.mark.parametrize("role", list(Role))
def test_other_clinic_objects_answer_404(
    world: tuple[Clinic, Clinic], caller_for: Callable[[Clinic, Role], Caller], role: Role
) -> None:
    clinic_a, clinic_b = world
    wrong = _refused_wrongly(caller_for(clinic_a, role), TENANT_ENDPOINTS, clinic_b.ids, clinic_b, refusals={404})
    assert not wrong, f"as {role.value} of clinic A on clinic B:\n" + "\n".join(wrong)


@pytest.mark.parametrize("role", list(Role))
def test_other_clinic_objects_named_in_a_body_answer_404(
    world: tuple[Clinic, Clinic], caller_for: Callable[[Clinic, Role], Caller], role: Role
) -> None:
    clinic_a, clinic_b = world
    caller = caller_for(clinic_a, role)
    # 403 where the role may not make the write at all in its own clinic; never anything that shows clinic B's
    wrong = _refused_wrongly(caller, TENANT_REFERENCES, clinic_a.ids, clinic_b, refusals={403, 404})
    assert not wrong, f"as {role.value} of clinic A naming clinic B's objects:\n" + "\n".join(wrong)


def test_reference_probes_reach_own_clinic_objects(
    world: tuple[Clinic, Clinic], caller_for: Callable[[Clinic, Role], Caller], connection: Connection
) -> None:
    """The same writes naming clinic A's own objects succeed for its therapist: the probes name real objects."""
    clinic_a, _ = world
    caller = caller_for(clinic_a, Role.THERAPIST)
    wrong = _own_objects_missed(caller, TENANT_REFERENCES, clinic_a.ids, connection, ok={201, 303})
    assert not wrong, "as therapist of clinic A naming its own objects:\n" + "\n".join(wrong)


@pytest.mark.parametrize("role", list(Role))
def test_lists_never_show_other_clinic(
    world: tuple[Clinic, Clinic], caller_for: Callable[[Clinic, Role], Caller], role: Role
) -> None:
    clinic_a, clinic_b = world
    caller = caller_for(clinic_a, role)
    wrong = []
    for endpoint in TENANT_LISTS:
        status, body = caller.call(endpoint, clinic_a.ids)
        leaked = [marker for marker in clinic_b.markers if marker in body]
        if leaked or status >= 500:
            wrong.append(f"{endpoint.key} as {role.value} of clinic A: {status}, shows clinic B's {leaked}")
    assert not wrong, "\n".join(wrong)


def test_probes_reach_own_clinic_objects(
    world: tuple[Clinic, Clinic], caller_for: Callable[[Clinic, Role], Caller], connection: Connection
) -> None:
    """The same calls on clinic A's own objects are not 404 for its admin: the probes name real objects."""
    clinic_a, _ = world
    caller = caller_for(clinic_a, Role.ADMIN)
    wrong = _own_objects_missed(caller, TENANT_ENDPOINTS, clinic_a.ids, connection, ok={200, 201, 204, 303, 403})
    assert not wrong, "as admin of clinic A on its own objects:\n" + "\n".join(wrong)


def _routes(*, with_path_parameters: bool) -> list[str]:
    """Every API and page route (only those naming an object in their path), as "METHOD /path"."""
    mounted = [(API_PREFIX, router) for router in API_ROUTERS] + [("", router) for router in PAGE_ROUTERS]
    return [
        f"{method} {prefix}{route.path}"
        for prefix, router in mounted
        for route in router.routes
        if isinstance(route, APIRoute) and ("{" in route.path or not with_path_parameters)
        for method in sorted(route.methods)
    ]


def _api_routes_whose_body_names_an_organisation() -> list[str]:
    """Every API route whose JSON body has an ``organisation_id`` (where a new object goes), as "METHOD /path"."""
    found = []
    for router in API_ROUTERS:
        for route in router.routes:
            if not isinstance(route, APIRoute) or route.body_field is None:
                continue
            model = route.body_field.field_info.annotation
            if "organisation_id" in getattr(model, "model_fields", {}):
                found += [f"{method} {API_PREFIX}{route.path}" for method in sorted(route.methods)]
    return found


def test_every_api_list_is_registered() -> None:
    """A new list endpoint (a Page of items) must be checked for leaks (TENANT_LISTS) or be shared on purpose."""
    lists = [
        f"GET {API_PREFIX}{route.path}"
        for router in API_ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute)
        and "GET" in route.methods
        and isinstance(route.response_model, type)
        and issubclass(route.response_model, Page)
    ]
    assert len(lists) >= 7, lists  # users, organisations, alliances, audit events, models, patients, devices
    registered = {endpoint.key for endpoint in (*TENANT_LISTS, *TENANT_ENDPOINTS)} | set(CONSORTIUM_WIDE)
    unregistered = sorted(set(lists) - registered)
    assert not unregistered, f"register these in tests/web/tenancy_registry.py: {unregistered}"


def test_every_create_naming_an_organisation_in_its_body_is_registered() -> None:
    """Creates take the organisation from the body; each must be probed with clinic B's organisation."""
    routes = _api_routes_whose_body_names_an_organisation()
    assert len(routes) >= 3, routes  # patients, devices, model versions at least: the walk works
    registered = {endpoint.key for endpoint in TENANT_ENDPOINTS} | set(CONSORTIUM_WIDE)
    unregistered = sorted(set(routes) - registered)
    assert not unregistered, f"register these in tests/web/tenancy_registry.py: {unregistered}"


def test_every_route_is_registered() -> None:
    """A new endpoint with a path parameter must be registered as tenant-private or consortium-wide."""
    routes = _routes(with_path_parameters=True)
    registered = {endpoint.key for endpoint in TENANT_ENDPOINTS} | set(CONSORTIUM_WIDE)
    unregistered = sorted(set(routes) - registered)
    assert not unregistered, f"register these in tests/web/tenancy_registry.py: {unregistered}"
    stale = sorted(registered - set(_routes(with_path_parameters=False)))
    assert not stale, f"registered but no longer routes: {stale}"
