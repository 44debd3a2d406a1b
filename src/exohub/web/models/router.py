"""JSON API of the model registry: versions, their ONNX files, publication and withdrawal."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import FileResponse

from exohub.web.deps import ApiAudit, SessionDep, SettingsDep, api_scope
from exohub.web.fields import IdPath
from exohub.web.models import files, service
from exohub.web.models.models import ModelStatus
from exohub.web.models.schemas import ModelName, ModelVersionCreate, ModelVersionRead
from exohub.web.pagination import Page, PageParamsDep
from exohub.web.tenancy import Permission, TenantScope
from exohub.web.uploads import incoming_file, upload_body

router = APIRouter(tags=["models"])

ReadScope = Annotated[TenantScope, api_scope(Permission.MODEL_READ)]
DownloadScope = Annotated[TenantScope, api_scope(Permission.MODEL_DOWNLOAD)]
PublishScope = Annotated[TenantScope, api_scope(Permission.MODEL_PUBLISH)]
WithdrawalReason = Annotated[
    str | None,
    Query(max_length=500, pattern=r"^[^\x00-\x1f\x7f]*$", description="Why it is withdrawn (required)."),
]

_UPLOAD_BODY = upload_body("The ONNX model.")


@router.get("/models")
def get_model_versions(
    scope: ReadScope,
    session: SessionDep,
    params: PageParamsDep,
    name: Annotated[ModelName | None, Query()] = None,
    status: ModelStatus | None = None,
) -> Page[ModelVersionRead]:
    """List the model versions you may read: your organisations' drafts and every shared version."""
    return service.get_all(session=session, scope=scope, params=params, name=name, status=status)


@router.post("/models", status_code=status.HTTP_201_CREATED)
def create_model_version(
    data: ModelVersionCreate, scope: PublishScope, session: SessionDep, context: ApiAudit
) -> ModelVersionRead:
    """Register a draft model version with its provenance, metrics and model card (researchers)."""
    return ModelVersionRead.model_validate(service.create(session=session, scope=scope, context=context, data=data))


@router.get("/models/{model_id}")
def get_model_version(model_id: IdPath, scope: ReadScope, session: SessionDep) -> ModelVersionRead:
    """Return one model version with its provenance, metrics per site and model card."""
    return ModelVersionRead.model_validate(service.get(session=session, scope=scope, model_id=model_id))


@router.put("/models/{model_id}/file", openapi_extra=_UPLOAD_BODY)
async def upload_model_file(
    model_id: IdPath,
    request: Request,
    scope: PublishScope,
    session: SessionDep,
    settings: SettingsDep,
    context: ApiAudit,
) -> ModelVersionRead:
    """Upload (or replace) the ONNX file of a draft, as the multipart field `file` (researchers)."""
    service.get_draft_for_upload(session=session, scope=scope, model_id=model_id)
    session.commit()  # receiving takes seconds: hold no transaction (and no SQLite lock) meanwhile
    with incoming_file(settings.DATA_DIR) as incoming:
        stored = await files.receive_onnx(request, incoming)
        version = service.get_draft_for_upload(session=session, scope=scope, model_id=model_id, lock=True)
        version = service.attach_file(
            session=session,
            context=context,
            version=version,
            stored=stored,
            incoming=incoming,
            data_dir=settings.DATA_DIR,
        )
        session.commit()
    return ModelVersionRead.model_validate(version)


@router.get(
    "/models/{model_id}/file",
    response_class=FileResponse,
    responses={200: {"content": {files.ONNX_MEDIA_TYPE: {}}, "description": "The ONNX file."}},
)
def download_model_file(
    model_id: IdPath, scope: DownloadScope, session: SessionDep, settings: SettingsDep, context: ApiAudit
) -> FileResponse:
    """Download the ONNX file; its SHA-256 is in the `Repr-Digest` and `ETag` headers."""
    version, path = service.open_download(
        session=session, scope=scope, context=context, data_dir=settings.DATA_DIR, model_id=model_id
    )
    return files.onnx_response(version, path)


@router.post("/models/{model_id}/publish")
def publish_model_version(
    model_id: IdPath, scope: PublishScope, session: SessionDep, settings: SettingsDep, context: ApiAudit
) -> ModelVersionRead:
    """Share a draft that has its ONNX file with the whole consortium (researchers of its organisation)."""
    return ModelVersionRead.model_validate(
        service.publish(session=session, scope=scope, context=context, model_id=model_id, data_dir=settings.DATA_DIR)
    )


@router.post("/models/{model_id}/withdraw")
def withdraw_model_version(
    model_id: IdPath, scope: PublishScope, session: SessionDep, context: ApiAudit, reason: WithdrawalReason = None
) -> ModelVersionRead:
    """Withdraw a published version; it stays listed with the reason but is no longer downloadable."""
    version = service.withdraw(session=session, scope=scope, context=context, model_id=model_id, reason=reason)
    return ModelVersionRead.model_validate(version)
