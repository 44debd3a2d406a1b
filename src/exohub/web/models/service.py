"""The model registry: drafts, their ONNX files, publication and withdrawal, and who may see what.

A draft is its organisation's own: other organisations' callers get *not found*, in the same words as
for a missing version. A published (or withdrawn) version is a shared artefact of the consortium:
every caller who holds ``model:read`` in some organisation may read it, and ``model:download`` in some
organisation may download it, but only the owner organisation's researchers (``model:publish``) change it.
"""

import os
from pathlib import Path

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from exohub.web.audit import service as audit
from exohub.web.audit.service import AuditContext
from exohub.web.database import utcnow
from exohub.web.errors import (
    ConflictError,
    InvalidInputError,
    InvalidStateError,
    NotFoundError,
    PermissionDeniedError,
)
from exohub.web.models.files import model_file_path
from exohub.web.models.models import ModelStatus, ModelVersion
from exohub.web.models.schemas import ModelVersionCreate, ModelVersionRead
from exohub.web.pagination import Page, PageParams, paginate
from exohub.web.tenancy import Permission, Principal, TenantScope
from exohub.web.uploads import StoredFile, file_sha256

_WHAT = "Model version"


def _shared_with(scope: TenantScope) -> bool:
    """Whether the caller holds the scope's permission anywhere, so consortium-shared versions reach them."""
    return scope.everywhere or bool(scope.organisation_ids)


def _allows(scope: TenantScope, version: ModelVersion) -> bool:
    return scope.allows(version.organisation_id) or (version.status != ModelStatus.DRAFT and _shared_with(scope))


def _visible(scope: TenantScope) -> ColumnElement[bool]:
    own = scope.where(ModelVersion.organisation_id)
    return or_(own, ModelVersion.status != ModelStatus.DRAFT) if _shared_with(scope) else own


def get(*, session: Session, scope: TenantScope, model_id: int, lock: bool = False) -> ModelVersion:
    """Return a version the caller may read: their organisations' drafts, and every shared version.

    ``lock`` reads it afresh and locks its row for the rest of the transaction (PostgreSQL), so that a publication
    and a file upload of one draft happen one after the other.
    """
    lock_row = {"of": ModelVersion} if lock else None  # the row only: not the eagerly joined organisation
    version = session.get(ModelVersion, model_id, with_for_update=lock_row, populate_existing=lock)
    if version is None or not _allows(scope, version):
        # 403 for a draft of the caller's own organisation that their role may not read, else 404.
        scope.check(None if version is None else version.organisation_id, what=_WHAT)
        raise NotFoundError(f"{_WHAT} not found.")
    return version


def get_all(
    *,
    session: Session,
    scope: TenantScope,
    params: PageParams,
    name: str | None = None,
    status: ModelStatus | None = None,
) -> Page[ModelVersionRead]:
    """List the versions the caller may read, optionally of one model name or in one status."""
    statement = select(ModelVersion).where(_visible(scope))
    if name:
        statement = statement.where(ModelVersion.name == name)
    if status:
        statement = statement.where(ModelVersion.status == status)
    return paginate(
        session,
        statement,
        params,
        sortable={
            "name": ModelVersion.name,
            "created_at": ModelVersion.created_at,
            "published_at": ModelVersion.published_at,
        },
        default_sort=ModelVersion.id,
        to_item=ModelVersionRead.model_validate,
    )


def create(*, session: Session, scope: TenantScope, context: AuditContext, data: ModelVersionCreate) -> ModelVersion:
    """Register a draft version in an organisation where the caller publishes models."""
    scope.check(data.organisation_id, what="Organisation")
    duplicate = select(ModelVersion.id).where(
        ModelVersion.organisation_id == data.organisation_id,
        ModelVersion.name == data.name,
        ModelVersion.version == data.version,
    )
    if session.scalar(duplicate) is not None:
        raise ConflictError(
            f"{data.name} {data.version} already exists in your organisation; versions never change, "
            "so give the new one a higher version number."
        )
    version = ModelVersion(**data.model_dump(mode="json"), status=ModelStatus.DRAFT)
    session.add(version)
    session.flush()
    _record(session, context, version, "create", {"code_version": version.code_version})
    return version


def get_for_change(*, session: Session, scope: TenantScope, model_id: int, lock: bool = False) -> ModelVersion:
    """Return a version the caller may read and whose organisation they publish for (``scope``: model:publish)."""
    version = get(session=session, scope=scope.principal.scope(Permission.MODEL_READ), model_id=model_id, lock=lock)
    if not scope.allows(version.organisation_id):
        raise PermissionDeniedError(
            f"Only researchers of {version.organisation.name} may change {version.name} {version.version}."
        )
    return version


def get_draft_for_upload(*, session: Session, scope: TenantScope, model_id: int, lock: bool = False) -> ModelVersion:
    """Return a draft whose file the caller may (re)place (``lock``: see :func:`get`)."""
    version = get_for_change(session=session, scope=scope, model_id=model_id, lock=lock)
    if version.status != ModelStatus.DRAFT:
        raise InvalidStateError(
            f"{version.name} {version.version} is {version.status.value}; its file never changes. "
            "Create a new version to ship another file."
        )
    return version


def attach_file(
    *,
    session: Session,
    context: AuditContext,
    version: ModelVersion,
    stored: StoredFile,
    incoming: Path,
    data_dir: Path,
) -> ModelVersion:
    """Make the received file at ``incoming`` the draft's ONNX file, and record its checksum and size.

    ``version`` must come from :func:`get_draft_for_upload` with ``lock=True`` in this transaction. The row is
    written first (on SQLite that takes the database's write lock), then the file is renamed into place; should
    the commit still fail, :func:`publish` finds the file and its recorded checksum apart and refuses.
    """
    version.file_sha256 = stored.sha256
    version.file_size_bytes = stored.size_bytes
    session.flush()
    _record(session, context, version, "upload", {"sha256": stored.sha256, "size_bytes": stored.size_bytes})
    destination = model_file_path(data_dir, version.id)
    destination.parent.mkdir(parents=True, exist_ok=True)
    os.replace(incoming, destination)
    return version


def publish(
    *, session: Session, scope: TenantScope, context: AuditContext, model_id: int, data_dir: Path
) -> ModelVersion:
    """Share a draft that has its ONNX file with the whole consortium, once its file matches its recorded checksum."""
    version = get_for_change(session=session, scope=scope, model_id=model_id, lock=True)
    if version.status != ModelStatus.DRAFT:
        raise InvalidStateError(f"{version.name} {version.version} is already {version.status.value}.")
    if version.file_sha256 is None:
        raise InvalidStateError(
            f"Upload the ONNX file of {version.name} {version.version} (PUT /api/v1/models/{version.id}/file) "
            "before publishing it."
        )
    path = model_file_path(data_dir, version.id)
    if not path.is_file() or file_sha256(path) != version.file_sha256:
        raise InvalidStateError(
            f"The stored ONNX file of {version.name} {version.version} does not match its recorded checksum (an "
            f"upload was interrupted); upload it again (PUT /api/v1/models/{version.id}/file), then publish."
        )
    version.status = ModelStatus.PUBLISHED
    version.published_at = utcnow()
    session.flush()
    _record(session, context, version, "publish", {"sha256": version.file_sha256})
    return version


def withdraw(
    *, session: Session, scope: TenantScope, context: AuditContext, model_id: int, reason: str | None
) -> ModelVersion:
    """Withdraw a published version: it stays listed with the reason, and can no longer be downloaded.

    The reason is checked after the caller's right to the version, so a probe learns nothing from it.
    """
    version = get_for_change(session=session, scope=scope, model_id=model_id)
    if not reason or not reason.strip():
        raise InvalidInputError(
            "Say why the version is withdrawn (query parameter reason); users of the model will read it.",
            field="query.reason",
        )
    if version.status != ModelStatus.PUBLISHED:
        raise InvalidStateError(
            f"{version.name} {version.version} is {version.status.value}; only a published version is withdrawn."
        )
    version.status = ModelStatus.WITHDRAWN
    version.withdrawn_at = utcnow()
    version.withdrawal_reason = reason.strip()
    session.flush()
    _record(session, context, version, "withdraw", {"reason": reason})
    return version


def open_download(
    *, session: Session, scope: TenantScope, context: AuditContext, data_dir: Path, model_id: int
) -> tuple[ModelVersion, Path]:
    """Return a version and its ONNX file for a caller with ``model:download``; the download is audited."""
    version = get(session=session, scope=scope.principal.scope(Permission.MODEL_READ), model_id=model_id)
    if not _allows(scope, version):
        raise PermissionDeniedError(
            "Your roles do not allow downloading model files; therapists, clinicians, researchers and fleet "
            "managers may."
        )
    if version.status == ModelStatus.WITHDRAWN:
        raise InvalidStateError(
            f"{version.name} {version.version} was withdrawn ({version.withdrawal_reason}); use a newer version."
        )
    if version.file_sha256 is None:
        raise InvalidStateError(f"{version.name} {version.version} has no ONNX file yet.")
    path = model_file_path(data_dir, version.id)
    if not path.is_file():
        raise FileNotFoundError(f"the ONNX file of model version {version.id} is missing from {path}")
    _record(session, context, version, "download", {"sha256": version.file_sha256})
    return version, path


def can_change(principal: Principal, version: ModelVersion) -> bool:
    """Whether ``principal`` may publish or withdraw ``version`` (for the pages)."""
    return principal.can(Permission.MODEL_PUBLISH, version.organisation_id)


def can_download(principal: Principal, version: ModelVersion) -> bool:
    """Whether ``principal`` may download the file of ``version`` now (for the pages)."""
    scope = principal.scope(Permission.MODEL_DOWNLOAD)
    return _allows(scope, version) and version.status != ModelStatus.WITHDRAWN and version.file_sha256 is not None


def _record(
    session: Session, context: AuditContext, version: ModelVersion, verb: str, detail: dict[str, object]
) -> None:
    audit.record(
        session=session,
        context=context,
        action=f"model_version.{verb}",
        object_type="model_version",
        object_id=version.id,
        organisation_id=version.organisation_id,
        detail={"name": version.name, "version": version.version, **detail},
    )
