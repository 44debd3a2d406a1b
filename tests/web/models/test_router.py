"""The registry's API: the life of a version end to end, the ONNX file round trip, and clear problems."""

import base64
import hashlib
import json
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from exohub.web.accounts.models import Organisation
from exohub.web.audit.models import AuditEvent
from exohub.web.config import Settings
from exohub.web.main import API_PREFIX, LARGE_BODY_PATHS
from exohub.web.models import files
from exohub.web.models import router as models_router
from exohub.web.models.models import ModelStatus, ModelVersion
from exohub.web.tenancy import Role
from tests.web import factories
from tests.web.models.onnx_bytes import tiny_onnx
from tests.web.models.test_service import draft_input

PROBLEM = "application/problem+json"


@dataclass
class Consortium:
    owner: Organisation
    researcher: dict[str, str]
    admin: dict[str, str]
    other_researcher: dict[str, str]
    other_therapist: dict[str, str]


@pytest.fixture
def consortium(session: Session, settings: Settings) -> Consortium:
    owner = factories.make_organisation(session, name="Osaka Gait Lab")
    other = factories.make_organisation(session, name="Seoul Rehab Clinic")

    def headers(organisation: Organisation, role: Role) -> dict[str, str]:
        user = factories.make_user(session, roles=[(organisation, role)])
        return factories.bearer(session, settings, user)

    return Consortium(
        owner=owner,
        researcher=headers(owner, Role.RESEARCHER),
        admin=headers(owner, Role.ADMIN),
        other_researcher=headers(other, Role.RESEARCHER),
        other_therapist=headers(other, Role.THERAPIST),
    )


def _upload(client: TestClient, model_id: int, headers: dict[str, str], content: bytes) -> Any:
    return client.put(
        f"/api/v1/models/{model_id}/file",
        headers=headers,
        files={"file": ("model.onnx", content, "application/octet-stream")},
    )


def test_a_draft_published_while_a_new_file_arrives_keeps_its_published_file(
    client: TestClient, consortium: Consortium, settings: Settings, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No transaction is held while the file arrives; the draft is locked and checked again before the file moves."""
    model_id = client.post("/api/v1/models", json=draft_input(consortium.owner), headers=consortium.researcher)
    model_id = model_id.json()["id"]
    first, second = tiny_onnx(length=4), tiny_onnx(length=8)
    assert _upload(client, model_id, consortium.researcher, first).status_code == 200
    receive = files.receive_onnx

    async def publish_meanwhile(request, destination, **options):
        stored = await receive(request, destination, **options)
        session.execute(update(ModelVersion).where(ModelVersion.id == model_id).values(status=ModelStatus.PUBLISHED))
        session.commit()  # another request published the draft (this would wait for the upload's lock before)
        return stored

    monkeypatch.setattr(files, "receive_onnx", publish_meanwhile)
    refused = _upload(client, model_id, consortium.researcher, second)
    assert refused.status_code == 409 and "its file never changes" in refused.json()["detail"]
    stored = files.model_file_path(settings.DATA_DIR, model_id)
    assert stored.read_bytes() == first
    assert sorted(p.name for p in stored.parent.iterdir()) == [stored.name]  # the refused upload is gone


def test_a_version_from_draft_to_shared_download_to_withdrawal(
    client: TestClient, consortium: Consortium, settings: Settings, session: Session
) -> None:
    created = client.post("/api/v1/models", json=draft_input(consortium.owner), headers=consortium.researcher)
    assert created.status_code == 201, created.text
    model_id = created.json()["id"]
    assert created.json()["status"] == "draft"
    assert created.json()["organisation_name"] == "Osaka Gait Lab"
    assert client.get(f"/api/v1/models/{model_id}", headers=consortium.other_therapist).status_code == 404

    content = tiny_onnx()
    uploaded = _upload(client, model_id, consortium.researcher, content)
    assert uploaded.status_code == 200, uploaded.text
    sha256 = hashlib.sha256(content).hexdigest()
    assert (uploaded.json()["file_sha256"], uploaded.json()["file_size_bytes"]) == (sha256, len(content))
    stored = files.model_file_path(settings.DATA_DIR, model_id)
    assert stored.read_bytes() == content
    assert sorted(p.name for p in stored.parent.iterdir()) == [stored.name]  # no partial file left behind

    published = client.post(f"/api/v1/models/{model_id}/publish", headers=consortium.researcher)
    assert published.json()["status"] == "published"

    # Shared now: another organisation's therapist lists, reads and downloads it, but cannot withdraw it.
    listed = client.get("/api/v1/models", params={"name": "hip-phase-tcn"}, headers=consortium.other_therapist)
    assert [v["id"] for v in listed.json()["items"]] == [model_id]
    download = client.get(f"/api/v1/models/{model_id}/file", headers=consortium.other_therapist)
    assert download.status_code == 200
    assert download.content == content
    assert download.headers["content-type"] == "application/octet-stream"
    assert download.headers["repr-digest"] == f"sha-256=:{base64.b64encode(hashlib.sha256(content).digest()).decode()}:"
    assert download.headers["etag"] == f'"{sha256}"'
    assert 'filename="hip-phase-tcn-1.2.0.onnx"' in download.headers["content-disposition"]
    refused = client.post(f"/api/v1/models/{model_id}/withdraw?reason=x", headers=consortium.other_researcher)
    assert refused.status_code == 403
    assert "Only researchers of Osaka Gait Lab" in refused.json()["detail"]

    withdrawn = client.post(
        f"/api/v1/models/{model_id}/withdraw",
        params={"reason": "phase lags at heel strike"},
        headers=consortium.researcher,
    )
    assert withdrawn.json()["status"] == "withdrawn"
    gone = client.get(f"/api/v1/models/{model_id}/file", headers=consortium.other_therapist)
    assert gone.status_code == 409
    assert "phase lags at heel strike" in gone.json()["detail"]

    events = session.scalars(select(AuditEvent).where(AuditEvent.object_id == str(model_id))).all()
    assert [e.action for e in events] == [
        "model_version.create",
        "model_version.upload",
        "model_version.publish",
        "model_version.download",
        "model_version.withdraw",
    ]
    assert {e.organisation_id for e in events} == {consortium.owner.id}


def test_admins_read_but_neither_download_nor_publish(
    client: TestClient, consortium: Consortium, session: Session
) -> None:
    version = factories.make_model_version(session, consortium.owner)
    assert client.get(f"/api/v1/models/{version.id}", headers=consortium.admin).status_code == 200
    download = client.get(f"/api/v1/models/{version.id}/file", headers=consortium.admin)
    assert download.status_code == 403
    assert "fleet managers" in download.json()["detail"]
    assert (
        client.post("/api/v1/models", json=draft_input(consortium.owner), headers=consortium.admin).status_code == 403
    )


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"version": "1.2"}, "body.version", "not a semantic version"),
        ({"name": "hip phase/../x"}, "body.name", "pattern"),
        (
            {"training_sites": [{"site": "Osaka", "subjects": 2, "patient_id": "P01"}]},
            "body.training_sites.0.patient_id",
            "Extra",
        ),
    ],
)
def test_bad_drafts_are_problems_naming_the_field(
    client: TestClient, consortium: Consortium, changes: dict[str, Any], field: str, words: str
) -> None:
    response = client.post(
        "/api/v1/models", json=draft_input(consortium.owner, **changes), headers=consortium.researcher
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["status"] == 422
    assert any(e["field"] == field and words in e["message"] for e in problem["errors"]), problem


def test_metrics_with_nan_are_a_problem(client: TestClient, consortium: Consortium) -> None:
    body = json.dumps(draft_input(consortium.owner, metrics={"Osaka": {"phase_rmse_pct": float("nan")}}))
    assert "NaN" in body  # what a careless client sends
    response = client.post(
        "/api/v1/models", content=body, headers={**consortium.researcher, "content-type": "application/json"}
    )
    assert response.status_code == 422
    (error,) = response.json()["errors"]
    assert error["field"] == "body.metrics.Osaka.phase_rmse_pct"
    assert "finite number" in error["message"]


def test_duplicate_version_is_a_conflict(client: TestClient, consortium: Consortium) -> None:
    assert (
        client.post("/api/v1/models", json=draft_input(consortium.owner), headers=consortium.researcher).status_code
        == 201
    )
    again = client.post("/api/v1/models", json=draft_input(consortium.owner), headers=consortium.researcher)
    assert again.status_code == 409
    assert again.headers["content-type"] == PROBLEM
    assert "hip-phase-tcn 1.2.0 already exists" in again.json()["detail"]


def test_another_organisations_draft_answers_like_a_missing_one(
    client: TestClient, consortium: Consortium, session: Session
) -> None:
    draft = factories.make_model_version(session, consortium.owner)
    theirs = client.get(f"/api/v1/models/{draft.id}", headers=consortium.other_researcher)
    missing = client.get(f"/api/v1/models/{draft.id + 1000}", headers=consortium.other_researcher)
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json()["detail"] == missing.json()["detail"] == "Model version not found."


def test_non_onnx_upload_is_refused_and_nothing_is_stored(
    client: TestClient, consortium: Consortium, session: Session, settings: Settings
) -> None:
    draft = factories.make_model_version(session, consortium.owner)
    response = _upload(client, draft.id, consortium.researcher, b"\x89PNG\r\n\x1a\n not a model at all")
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["errors"][0]["field"] == "body.file"
    assert "not an ONNX model" in response.json()["detail"]
    assert not files.model_file_path(settings.DATA_DIR, draft.id).parent.exists() or not any(
        files.model_file_path(settings.DATA_DIR, draft.id).parent.iterdir()
    )
    session.refresh(draft)
    assert draft.file_sha256 is None


@pytest.mark.parametrize(
    ("request_kwargs", "words"),
    [
        ({"content": tiny_onnx(), "headers": {"content-type": "application/octet-stream"}}, "multipart/form-data"),
        ({"files": {"model": ("m.onnx", tiny_onnx())}}, "exactly one file in a field named 'file' (0 found)"),
        ({"files": [("file", ("a.onnx", tiny_onnx())), ("file", ("b.onnx", tiny_onnx()))]}, "(2 found)"),
    ],
)
def test_upload_must_be_one_multipart_file_field(
    client: TestClient, consortium: Consortium, session: Session, request_kwargs: dict[str, Any], words: str
) -> None:
    draft = factories.make_model_version(session, consortium.owner)
    headers = {**consortium.researcher, **request_kwargs.pop("headers", {})}
    response = client.put(f"/api/v1/models/{draft.id}/file", headers=headers, **request_kwargs)
    assert response.status_code == 422
    assert words in response.json()["detail"]


def test_upload_over_the_limit_is_refused_while_streaming(
    client: TestClient, consortium: Consortium, session: Session, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(files, "MAX_MODEL_BYTES", 100)
    draft = factories.make_model_version(session, consortium.owner)
    response = _upload(client, draft.id, consortium.researcher, tiny_onnx() + b"\x00" * 200)
    assert response.status_code == 413
    assert "larger than the 100 bytes" in response.json()["detail"]
    assert not files.model_file_path(settings.DATA_DIR, draft.id).exists()


def test_a_published_file_never_changes(client: TestClient, consortium: Consortium, session: Session) -> None:
    shared = factories.make_model_version(
        session, consortium.owner, status=ModelStatus.PUBLISHED, file_sha256="ab" * 32
    )
    response = _upload(client, shared.id, consortium.researcher, tiny_onnx())
    assert response.status_code == 409
    assert "its file never changes" in response.json()["detail"]


def test_only_the_file_route_takes_large_bodies() -> None:
    """BodySizeLimit lets the model file's path through; every other models route keeps the small limit."""
    exempt = {
        route.name
        for route in models_router.router.routes
        if isinstance(route, APIRoute)
        and LARGE_BODY_PATHS.fullmatch((API_PREFIX + route.path).replace("{model_id}", "7"))
    }
    assert exempt == {"upload_model_file", "download_model_file"}
