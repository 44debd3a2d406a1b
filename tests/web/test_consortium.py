"""Alliances and goals: who may change them, and what the goals measure."""

from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from exohub.web.audit.service import AuditContext
from exohub.web.config import Settings
from exohub.web.consortium import metrics
from exohub.web.consortium import service as consortium
from exohub.web.tenancy import OrganisationKind, Role
from tests.web import factories

SYSTEM = AuditContext(actor_user_id=None, address="test")


def test_goal_measured_by_the_consortium_shows_progress(session: Session) -> None:
    members = [factories.make_organisation(session, country_code=code) for code in ("JP", "KR", "KR")]
    alliance = factories.make_alliance(session, members=members)
    goal = factories.make_goal(session, alliance, metric="member_countries", target=4)
    read = consortium.goal_read(session=session, goal=goal, today=date(2027, 12, 1))
    assert read.measured_value == 2
    assert read.progress == 0.5
    assert read.days_left == 30


def test_goal_without_a_measuring_domain_is_not_invented(session: Session) -> None:
    alliance = factories.make_alliance(session, members=[factories.make_organisation(session)])
    goal = factories.make_goal(session, alliance, metric="therapists_trained", target=5000)
    read = consortium.goal_read(session=session, goal=goal, today=date(2026, 1, 1))
    assert read.measured_value is None
    assert read.progress is None


def test_a_domain_registers_its_measure(session: Session) -> None:
    alliance = factories.make_alliance(session, members=[factories.make_organisation(session)])
    goal = factories.make_goal(session, alliance, metric="patients_treated", target=100)
    metrics.register_measure("patients_treated", lambda _session, _alliance: 150)
    try:
        read = consortium.goal_read(session=session, goal=goal, today=date(2026, 1, 1))
    finally:
        metrics._MEASURES.pop("patients_treated")
    assert read.progress == 1.0


def test_programme_manager_of_a_member_sets_goals(client: TestClient, session: Session, settings: Settings) -> None:
    secretariat = factories.make_organisation(session, kind=OrganisationKind.NGO)
    outsider_org = factories.make_organisation(session)
    alliance = factories.make_alliance(session, members=[secretariat])
    manager = factories.make_user(session, roles=[(secretariat, Role.PROGRAMME_MANAGER)])
    outsider = factories.make_user(session, roles=[(outsider_org, Role.PROGRAMME_MANAGER)])
    therapist = factories.make_user(session, roles=[(secretariat, Role.THERAPIST)])
    goal = {
        "title": "Train 5,000 therapists",
        "metric": "therapists_trained",
        "target_value": 5000,
        "deadline_date": "2026-12-31",
    }
    path = f"/api/v1/alliances/{alliance.id}/goals"
    assert client.post(path, json=goal, headers=factories.bearer(session, settings, outsider)).status_code == 403
    assert client.post(path, json=goal, headers=factories.bearer(session, settings, therapist)).status_code == 403
    created = client.post(path, json=goal, headers=factories.bearer(session, settings, manager))
    assert created.status_code == 201
    assert created.json()["measured_value"] is None
    detail = client.get(f"/api/v1/alliances/{alliance.id}", headers=factories.bearer(session, settings, outsider))
    assert [g["title"] for g in detail.json()["goals"]] == ["Train 5,000 therapists"]


def test_unknown_metric_is_refused_with_the_known_ones(
    client: TestClient, session: Session, settings: Settings
) -> None:
    alliance = factories.make_alliance(session)
    operator = factories.make_user(session, is_superuser=True)
    response = client.post(
        f"/api/v1/alliances/{alliance.id}/goals",
        headers=factories.bearer(session, settings, operator),
        json={"title": "x", "metric": "happiness", "target_value": 1, "deadline_date": "2027-01-01"},
    )
    assert response.status_code == 422
    assert "therapists_trained" in response.json()["errors"][0]["message"]


def test_only_the_operator_forms_alliances(client: TestClient, session: Session, settings: Settings) -> None:
    admin = factories.make_user(session, roles=[(factories.make_organisation(session), Role.ADMIN)])
    operator = factories.make_user(session, is_superuser=True)
    body = {"name": "Nordic Alliance", "region": "Nordics"}
    assert (
        client.post("/api/v1/alliances", json=body, headers=factories.bearer(session, settings, admin)).status_code
        == 403
    )
    created = client.post("/api/v1/alliances", json=body, headers=factories.bearer(session, settings, operator))
    assert created.status_code == 201
    duplicate = client.post("/api/v1/alliances", json=body, headers=factories.bearer(session, settings, operator))
    assert duplicate.status_code == 409
