"""The registry's rules without HTTP: who sees drafts and shared versions, the life of a version, input checks."""

import functools
import hashlib
import math
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from exohub.web.accounts.models import Organisation
from exohub.web.audit.models import AuditEvent
from exohub.web.audit.service import AuditContext
from exohub.web.errors import ConflictError, InvalidInputError, InvalidStateError, NotFoundError, PermissionDeniedError
from exohub.web.models import service
from exohub.web.models.files import model_file_path
from exohub.web.models.models import ModelStatus
from exohub.web.models.schemas import ModelVersionCreate
from exohub.web.pagination import PageParams
from exohub.web.tenancy import Permission, Principal, Role
from exohub.web.uploads import StoredFile
from tests.web import factories

CONTEXT = AuditContext(actor_user_id=None, address="test")
ALL = PageParams(limit=200)


def _principal(organisation: Organisation, role: Role) -> Principal:
    return Principal(
        user_id=1, email="x@example.org", full_name="X", is_superuser=False, roles=frozenset({(organisation.id, role)})
    )


def draft_input(organisation: Organisation, **changes: Any) -> dict[str, Any]:
    data = {
        "organisation_id": organisation.id,
        "name": "hip-phase-tcn",
        "version": "1.2.0",
        "code_version": "exohub 0.4.0 (g1a2b3c)",
        "training_config": {"window_s": 1.0, "layers": [32, 32], "optimiser": {"lr": 0.001}},
        "training_sites": [{"site": "Osaka University", "subjects": 6}],
        "metrics": {"Osaka University": {"phase_rmse_pct": 3.1, "mode_accuracy": 0.98, "delay_ms": 120}},
        "intended_use": "Gait phase of adults walking with a hip exoskeleton.",
        "limitations": "Not validated on stairs.",
    }
    return {**data, **changes}


@pytest.fixture
def two_orgs(session: Session) -> tuple[Organisation, Organisation]:
    return factories.make_organisation(session), factories.make_organisation(session)


def test_create_registers_a_draft_with_provenance_and_an_audit_event(
    session: Session, two_orgs: tuple[Organisation, Organisation]
) -> None:
    owner, _ = two_orgs
    scope = _principal(owner, Role.RESEARCHER).scope(Permission.MODEL_PUBLISH)
    version = service.create(
        session=session, scope=scope, context=CONTEXT, data=ModelVersionCreate(**draft_input(owner))
    )
    assert version.status == ModelStatus.DRAFT
    assert version.training_sites == [{"site": "Osaka University", "subjects": 6}]
    assert version.metrics["Osaka University"]["phase_rmse_pct"] == 3.1
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "model_version.create")).one()
    assert (event.organisation_id, event.object_id) == (owner.id, str(version.id))


def test_a_version_number_is_unique_per_model_in_an_organisation(
    session: Session, two_orgs: tuple[Organisation, Organisation]
) -> None:
    owner, other = two_orgs
    mine = _principal(owner, Role.RESEARCHER).scope(Permission.MODEL_PUBLISH)
    service.create(session=session, scope=mine, context=CONTEXT, data=ModelVersionCreate(**draft_input(owner)))
    with pytest.raises(ConflictError, match=r"hip-phase-tcn 1\.2\.0 already exists in your organisation"):
        service.create(session=session, scope=mine, context=CONTEXT, data=ModelVersionCreate(**draft_input(owner)))
    # Another organisation's names are its own: reusing one neither fails nor reveals their draft.
    theirs = _principal(other, Role.RESEARCHER).scope(Permission.MODEL_PUBLISH)
    service.create(session=session, scope=theirs, context=CONTEXT, data=ModelVersionCreate(**draft_input(other)))


def test_creating_in_another_organisation_is_not_found(
    session: Session, two_orgs: tuple[Organisation, Organisation]
) -> None:
    owner, other = two_orgs
    scope = _principal(owner, Role.RESEARCHER).scope(Permission.MODEL_PUBLISH)
    with pytest.raises(NotFoundError, match="Organisation not found"):
        service.create(session=session, scope=scope, context=CONTEXT, data=ModelVersionCreate(**draft_input(other)))


def test_drafts_stay_home_and_published_versions_are_shared(
    session: Session, two_orgs: tuple[Organisation, Organisation]
) -> None:
    owner, other = two_orgs
    draft = factories.make_model_version(session, owner, name="draft-model")
    shared = factories.make_model_version(session, owner, name="shared-model", status=ModelStatus.PUBLISHED)
    outsider = _principal(other, Role.THERAPIST).scope(Permission.MODEL_READ)
    insider = _principal(owner, Role.ADMIN).scope(Permission.MODEL_READ)

    assert service.get(session=session, scope=outsider, model_id=shared.id) is shared
    with pytest.raises(NotFoundError) as other_draft:
        service.get(session=session, scope=outsider, model_id=draft.id)
    with pytest.raises(NotFoundError) as missing:
        service.get(session=session, scope=outsider, model_id=draft.id + 1000)
    assert str(other_draft.value) == str(missing.value) == "Model version not found."
    assert service.get(session=session, scope=insider, model_id=draft.id) is draft

    assert {v.name for v in service.get_all(session=session, scope=outsider, params=ALL).items} == {"shared-model"}
    assert {v.name for v in service.get_all(session=session, scope=insider, params=ALL).items} == {
        "draft-model",
        "shared-model",
    }


def test_roles_without_model_read_see_nothing(session: Session, two_orgs: tuple[Organisation, Organisation]) -> None:
    owner, other = two_orgs
    shared = factories.make_model_version(session, owner, status=ModelStatus.PUBLISHED)
    draft = factories.make_model_version(session, owner)
    instructor = _principal(other, Role.INSTRUCTOR).scope(Permission.MODEL_READ)
    own_instructor = _principal(owner, Role.INSTRUCTOR).scope(Permission.MODEL_READ)
    assert service.get_all(session=session, scope=instructor, params=ALL).total == 0
    with pytest.raises(NotFoundError):
        service.get(session=session, scope=instructor, model_id=shared.id)
    with pytest.raises(PermissionDeniedError, match="model:read"):
        service.get(session=session, scope=own_instructor, model_id=draft.id)


def test_list_filters_by_name_and_status(session: Session, two_orgs: tuple[Organisation, Organisation]) -> None:
    owner, _ = two_orgs
    for number, status in (("1.0.0", ModelStatus.PUBLISHED), ("1.1.0", ModelStatus.DRAFT)):
        factories.make_model_version(session, owner, name="hip-phase", version=number, status=status)
    factories.make_model_version(session, owner, name="knee-mode")
    scope = _principal(owner, Role.RESEARCHER).scope(Permission.MODEL_READ)
    by_name = service.get_all(session=session, scope=scope, params=ALL, name="hip-phase")
    assert sorted(v.version for v in by_name.items) == ["1.0.0", "1.1.0"]
    published = service.get_all(session=session, scope=scope, params=ALL, status=ModelStatus.PUBLISHED)
    assert [v.version for v in published.items] == ["1.0.0"]


def _received(tmp_path: Path, content: bytes) -> tuple[Path, StoredFile]:
    incoming = tmp_path / "incoming.onnx"
    incoming.write_bytes(content)
    return incoming, StoredFile(hashlib.sha256(content).hexdigest(), len(content))


def test_publish_needs_the_file_then_shares_and_audits(
    session: Session, two_orgs: tuple[Organisation, Organisation], tmp_path: Path
) -> None:
    owner, _ = two_orgs
    draft = factories.make_model_version(session, owner)
    scope = _principal(owner, Role.RESEARCHER).scope(Permission.MODEL_PUBLISH)
    publish = functools.partial(service.publish, session=session, scope=scope, context=CONTEXT, data_dir=tmp_path)
    with pytest.raises(InvalidStateError, match="Upload the ONNX file"):
        publish(model_id=draft.id)
    incoming, stored = _received(tmp_path, b"model bytes")
    service.attach_file(
        session=session, context=CONTEXT, version=draft, stored=stored, incoming=incoming, data_dir=tmp_path
    )
    assert not incoming.exists() and model_file_path(tmp_path, draft.id).read_bytes() == b"model bytes"
    published = publish(model_id=draft.id)
    assert published.status == ModelStatus.PUBLISHED
    assert published.published_at is not None
    with pytest.raises(InvalidStateError, match="already published"):
        publish(model_id=draft.id)
    with pytest.raises(InvalidStateError, match="its file never changes"):
        service.get_draft_for_upload(session=session, scope=scope, model_id=draft.id)
    actions = session.scalars(select(AuditEvent.action).where(AuditEvent.organisation_id == owner.id)).all()
    assert {"model_version.upload", "model_version.publish"} <= set(actions)


def test_a_file_that_does_not_match_its_checksum_is_not_published(
    session: Session, two_orgs: tuple[Organisation, Organisation], tmp_path: Path
) -> None:
    """The file was replaced but the transaction that recorded its checksum did not commit (or the disk lost it)."""
    owner, _ = two_orgs
    draft = factories.make_model_version(session, owner, file_sha256=hashlib.sha256(b"the old file").hexdigest())
    scope = _principal(owner, Role.RESEARCHER).scope(Permission.MODEL_PUBLISH)
    with pytest.raises(InvalidStateError, match="does not match its recorded checksum"):
        service.publish(session=session, scope=scope, context=CONTEXT, model_id=draft.id, data_dir=tmp_path)
    path = model_file_path(tmp_path, draft.id)
    path.parent.mkdir()
    path.write_bytes(b"a newer upload")
    with pytest.raises(InvalidStateError, match="upload it again"):
        service.publish(session=session, scope=scope, context=CONTEXT, model_id=draft.id, data_dir=tmp_path)
    assert draft.status == ModelStatus.DRAFT


def test_only_the_owner_withdraws_and_says_why(session: Session, two_orgs: tuple[Organisation, Organisation]) -> None:
    owner, other = two_orgs
    shared = factories.make_model_version(session, owner, status=ModelStatus.PUBLISHED, file_sha256="cd" * 32)
    theirs = _principal(other, Role.RESEARCHER).scope(Permission.MODEL_PUBLISH)
    therapist = _principal(owner, Role.THERAPIST).scope(Permission.MODEL_PUBLISH)
    mine = _principal(owner, Role.RESEARCHER).scope(Permission.MODEL_PUBLISH)
    with pytest.raises(PermissionDeniedError, match=f"Only researchers of {owner.name}"):
        service.withdraw(session=session, scope=theirs, context=CONTEXT, model_id=shared.id, reason="bad")
    with pytest.raises(PermissionDeniedError, match=f"Only researchers of {owner.name}"):
        service.withdraw(session=session, scope=therapist, context=CONTEXT, model_id=shared.id, reason="bad")
    with pytest.raises(InvalidInputError, match="Say why") as caught:
        service.withdraw(session=session, scope=mine, context=CONTEXT, model_id=shared.id, reason="  ")
    assert caught.value.field == "query.reason"
    withdrawn = service.withdraw(
        session=session, scope=mine, context=CONTEXT, model_id=shared.id, reason="phase offset at heel strike"
    )
    assert (withdrawn.status, withdrawn.withdrawal_reason) == (ModelStatus.WITHDRAWN, "phase offset at heel strike")
    with pytest.raises(InvalidStateError, match="only a published version is withdrawn"):
        service.withdraw(session=session, scope=mine, context=CONTEXT, model_id=shared.id, reason="again")


@pytest.mark.parametrize("version", ["1.0.0", "0.1.0-rc.1", "2.10.3+build.7", "1.0.0-alpha-2.x"])
def test_semantic_versions_are_accepted(version: str) -> None:
    organisation = Organisation(id=1, name="X", kind="clinic", country_code="JP")
    assert ModelVersionCreate(**draft_input(organisation, version=version)).version == version


@pytest.mark.parametrize("version", ["1.0", "v1.0.0", "01.0.0", "1.0.0-", "1.0.0+", "1.0.0-01", "\uff11.0.0", "latest"])
def test_invalid_versions_are_refused(version: str) -> None:
    organisation = Organisation(id=1, name="X", kind="clinic", country_code="JP")
    with pytest.raises(ValidationError, match="version"):
        ModelVersionCreate(**draft_input(organisation, version=version))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"metrics": {"Osaka": {"phase_rmse_pct": math.nan}}}, "finite number"),
        ({"metrics": {"Osaka": {"phase_rmse_pct": math.inf}}}, "finite number"),
        (
            {"metrics": {"Osaka": {"phase_rmse_pct": 140.0}}},
            r"phase_rmse_pct of site 'Osaka' is 140.0; .*100",
        ),
        ({"metrics": {"Osaka": {"mode_accuracy": 97.0}}}, r"mode_accuracy .* \[0.0, 1.0\]"),
        ({"metrics": {"Osaka": {"Phase RMSE": 3.0}}}, "string_pattern_mismatch|should match pattern"),
        ({"training_config": {"lr": math.nan}}, r"training_config.lr is nan"),
        ({"training_sites": []}, "at least 1 item"),
        ({"training_sites": [{"site": "Osaka", "subjects": -1}]}, "greater than or equal to 0"),
        ({"training_sites": [{"site": "Osaka", "subjects": 3, "patient": "Taro"}]}, "Extra inputs"),
        ({"intended_use": ""}, "at least 1 character"),
    ],
)
def test_bad_provenance_and_metrics_are_refused(changes: dict[str, Any], message: str) -> None:
    organisation = Organisation(id=1, name="X", kind="clinic", country_code="JP")
    with pytest.raises(ValidationError, match=message):
        ModelVersionCreate(**draft_input(organisation, **changes))
