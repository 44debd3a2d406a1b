"""Model registry pages: the versions with metrics per site, a model card shown escaped, the download link."""

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from exohub.web.accounts.models import Organisation, User
from exohub.web.config import Settings
from exohub.web.models import files
from exohub.web.models.models import ModelStatus
from exohub.web.models.pages import card_html
from exohub.web.tenancy import Role
from tests.web import factories
from tests.web.models.onnx_bytes import tiny_onnx


def _sign_in(client: TestClient, session: Session, organisation: Organisation, role: Role) -> User:
    user = factories.make_user(session, roles=[(organisation, role)])
    session.commit()
    assert factories.sign_in_page(client, user).status_code == 303
    return user


def test_card_text_is_escaped_with_paragraphs_and_lists() -> None:
    html = card_html("Adults <b>only</b>.\nWalking & standing.\n\n- level ground\n- ramps\n\n\n")
    assert str(html) == (
        "<p>Adults &lt;b&gt;only&lt;/b&gt;.<br>Walking &amp; standing.</p><ul><li>level ground</li><li>ramps</li></ul>"
    )
    assert card_html("") == ""


def test_list_shows_shared_versions_with_metrics_per_site_not_others_drafts(
    client: TestClient, session: Session
) -> None:
    lab = factories.make_organisation(session, name="Osaka Gait Lab")
    clinic = factories.make_organisation(session, name="Seoul Rehab Clinic")
    factories.make_model_version(session, lab, name="hip-phase", status=ModelStatus.PUBLISHED, site="Osaka site")
    factories.make_model_version(session, lab, name="secret-draft")
    factories.make_model_version(session, clinic, name="knee-mode", site="Seoul site")
    _sign_in(client, session, clinic, Role.CLINICIAN)

    page = client.get("/models")
    assert page.status_code == 200
    assert "hip-phase" in page.text and "knee-mode" in page.text
    assert "secret-draft" not in page.text
    assert '<th scope="col">Osaka site</th>' in page.text and '<th scope="col">Seoul site</th>' in page.text
    assert "phase_rmse_pct 3.2" in page.text
    filtered = client.get("/models", params={"name": "knee-mode"})
    assert "knee-mode" in filtered.text and "hip-phase" not in filtered.text
    assert '<a href="/models">Models</a>' in page.text  # the navigation


def test_detail_shows_the_card_escaped_and_the_download(
    client: TestClient, session: Session, settings: Settings
) -> None:
    lab = factories.make_organisation(session)
    version = factories.make_model_version(session, lab, status=ModelStatus.PUBLISHED, file_sha256="ab" * 32)
    version.limitations = "<script>alert(1)</script>\n\n- not on stairs"
    path = files.model_file_path(settings.DATA_DIR, version.id)
    path.parent.mkdir(parents=True)
    path.write_bytes(tiny_onnx())
    _sign_in(client, session, factories.make_organisation(session), Role.THERAPIST)

    page = client.get(f"/models/{version.id}")
    assert page.status_code == 200
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text and "<script>" not in page.text
    assert "<li>not on stairs</li>" in page.text
    assert "Clinic site 1" in page.text and "exohub 0.1.0" in page.text  # provenance
    assert f'href="/models/{version.id}/file"' in page.text
    download = client.get(f"/models/{version.id}/file")
    assert download.status_code == 200
    assert download.content == tiny_onnx()


def test_admin_sees_the_card_but_no_download(client: TestClient, session: Session) -> None:
    lab = factories.make_organisation(session)
    version = factories.make_model_version(session, lab, status=ModelStatus.PUBLISHED, file_sha256="ab" * 32)
    _sign_in(client, session, lab, Role.ADMIN)
    page = client.get(f"/models/{version.id}")
    assert page.status_code == 200
    assert "/file" not in page.text
    refused = client.get(f"/models/{version.id}/file", headers={"accept": "text/html"})
    assert refused.status_code == 403


def test_another_clinics_draft_is_the_not_found_page(client: TestClient, session: Session) -> None:
    draft = factories.make_model_version(session, factories.make_organisation(session), name="their-draft")
    _sign_in(client, session, factories.make_organisation(session), Role.RESEARCHER)
    page = client.get(f"/models/{draft.id}", headers={"accept": "text/html"})
    assert page.status_code == 404
    assert "their-draft" not in page.text
