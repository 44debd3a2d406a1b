"""Pages: the model versions with their metrics per site, one version's model card, its ONNX download."""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, HTMLResponse
from markupsafe import Markup

from exohub.web.deps import PageAudit, SessionDep, SettingsDep, page_scope
from exohub.web.fields import IdPath
from exohub.web.models import files, service
from exohub.web.models.schemas import ModelName, ModelVersionRead
from exohub.web.pagination import PageParams
from exohub.web.templating import render
from exohub.web.tenancy import Permission, TenantScope

router = APIRouter()

ReadScope = Annotated[TenantScope, page_scope(Permission.MODEL_READ)]
DownloadScope = Annotated[TenantScope, page_scope(Permission.MODEL_DOWNLOAD)]

CARD_SECTIONS = (
    ("intended_use", "Intended use"),
    ("limitations", "Limitations"),
    ("training_data", "Training data"),
    ("evaluation", "Evaluation"),
)


def card_html(text: str) -> Markup:
    """Model-card text as safe HTML: everything escaped; blank lines end paragraphs, '- ' lines make lists."""
    blocks = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        lines = [line.strip() for line in block.split("\n") if line.strip()]
        if lines and all(line.startswith(("- ", "* ")) for line in lines):
            items = Markup("").join(Markup("<li>{}</li>").format(line[2:].strip()) for line in lines)
            blocks.append(Markup("<ul>{}</ul>").format(items))
        elif lines:
            blocks.append(Markup("<p>{}</p>").format(Markup("<br>").join(lines)))
    return Markup("").join(blocks)


@router.get("/models", response_class=HTMLResponse)
def model_versions_page(
    request: Request, scope: ReadScope, session: SessionDep, name: Annotated[ModelName | None, Query()] = None
) -> HTMLResponse:
    page = service.get_all(session=session, scope=scope, params=PageParams(limit=200, sort="name"), name=name)
    sites = sorted({site for version in page.items for site in version.metrics})
    context = {"principal": scope.principal, "page": page, "sites": sites, "name": name}
    return render(request, "models/versions.html", context)


@router.get("/models/{model_id}", response_class=HTMLResponse)
def model_version_page(request: Request, model_id: IdPath, scope: ReadScope, session: SessionDep) -> HTMLResponse:
    version = service.get(session=session, scope=scope, model_id=model_id)
    context = {
        "principal": scope.principal,
        "version": ModelVersionRead.model_validate(version),
        "card": [(title, card_html(getattr(version, field))) for field, title in CARD_SECTIONS],
        "can_download": service.can_download(scope.principal, version),
    }
    return render(request, "models/version.html", context)


@router.get("/models/{model_id}/file")
def model_file_download_page(
    model_id: IdPath, scope: DownloadScope, session: SessionDep, settings: SettingsDep, context: PageAudit
) -> FileResponse:
    version, path = service.open_download(
        session=session, scope=scope, context=context, data_dir=settings.DATA_DIR, model_id=model_id
    )
    return files.onnx_response(version, path)
