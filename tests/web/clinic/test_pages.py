"""Clinic pages as a therapist uses them: a patient, a session with its recording, an outcome, progress, the PDF."""

import re
from pathlib import Path

import pypdfium2
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from exohub.web.accounts.models import AuthSession, Organisation
from exohub.web.clinic.models import Patient, TherapySession
from exohub.web.config import Settings
from exohub.web.database import utcnow
from exohub.web.tenancy import Role
from tests.web import factories


def _therapist(client: TestClient, session: Session) -> tuple[Organisation, str]:
    clinic = factories.make_organisation(session, name="Sakura Page Clinic")
    factories.make_device_unit(session, clinic, serial_number="H2-PAGES")
    user = factories.make_user(session, roles=[(clinic, Role.THERAPIST)])
    session.commit()
    assert factories.sign_in_page(client, user).status_code == 303
    return clinic, factories.csrf_of(client.get("/clinic/patients").text)


def _location_id(response: object, prefix: str) -> int:
    location = response.headers["location"]  # type: ignore[attr-defined]
    match = re.fullmatch(rf"{prefix}/(\d+)(#.*)?", location)
    assert match, location
    return int(match.group(1))


def test_therapist_flow_patient_session_outcome_report(
    client: TestClient, session: Session, walk_csv: Path, settings: Settings
) -> None:
    clinic, csrf = _therapist(client, session)
    form = {
        "csrf_token": csrf,
        "organisation_id": str(clinic.id),
        "full_name": "Sato <b>Hanako</b>",
        "date_of_birth": "1959-05-06",
        "sex": "female",
        "condition_code": "I63.9",
        "affected_side": "left",
        "consent_status": "granted",
    }
    created = client.post("/clinic/patients", data=form, follow_redirects=False)
    assert created.status_code == 303, created.text
    patient_id = _location_id(created, "/clinic/patients")
    page = client.get(f"/clinic/patients/{patient_id}").text
    assert "Sato &lt;b&gt;Hanako&lt;/b&gt;" in page  # escaped, never markup

    edit_form = client.get(f"/clinic/patients/{patient_id}/edit").text
    assert 'value="Sato &lt;b&gt;Hanako&lt;/b&gt;"' in edit_form
    edited = {
        "csrf_token": csrf,
        "full_name": "Sato <b>Hanako</b>",
        "record_number": "",
        "date_of_birth": "1959-05-06",
        "sex": "female",
        "condition_code": "G82.2",
        "condition_label": "",
        "ais_grade": "D",
        "neurological_level": "T10",
        "affected_side": "both",
        "height_cm": "158",
        "weight_kg": "",
        "goals": "",
        "consent_status": "withdrawn",
    }
    assert client.post(f"/clinic/patients/{patient_id}/edit", data=edited, follow_redirects=False).status_code == 303
    changed = session.get_one(Patient, patient_id)
    session.refresh(changed)
    assert (changed.condition_code, changed.ais_grade, changed.consent_status.value) == ("G82.2", "D", "withdrawn")
    assert "paraplegia" in changed.condition_label.lower()
    refused = client.post(f"/clinic/patients/{patient_id}/edit", data={**edited, "ais_grade": "F"})
    assert refused.status_code == 422 and "Nothing was changed" in refused.text

    new_session = client.get(f"/clinic/patients/{patient_id}/sessions/new").text
    device_value = re.search(r'<option value="(\d+)" >StrideWorks', new_session)
    assert device_value, new_session
    fields = {
        "csrf_token": csrf,
        "session_date": "2026-10-05",
        "device_unit_id": device_value.group(1),
        "assist_mode": "assist_as_needed",
        "assistance_level_pct": "50",
    }
    posted = client.post(
        f"/clinic/patients/{patient_id}/sessions",
        data=fields,
        files={"file": ("walk.csv", walk_csv.read_bytes(), "text/csv")},
        follow_redirects=False,
    )
    assert posted.status_code == 303, posted.text
    session_id = _location_id(posted, "/clinic/sessions")
    session_page = client.get(f"/clinic/sessions/{session_id}").text
    assert "What the recording shows" in session_page
    assert session_page.count("<svg") >= 1 and "Hip: joint angles over the gait cycle" in session_page

    for on, speed in (("2026-08-01", "0.40"), ("2026-10-05", "0.58")):
        saved = client.post(
            f"/clinic/patients/{patient_id}/outcomes",
            data={"csrf_token": csrf, "measure": "10mwt_comfortable", "value": speed, "measured_on": on},
            follow_redirects=False,
        )
        assert saved.status_code == 303, saved.text
    refused = client.post(
        f"/clinic/patients/{patient_id}/outcomes",
        data={"csrf_token": csrf, "measure": "tug", "value": "-3", "measured_on": "2026-10-05"},
    )
    assert refused.status_code == 422
    assert "Timed Up and Go" in refused.text and "-3" in refused.text

    progress = client.get(f"/clinic/patients/{patient_id}").text
    assert "meaningful improvement" in progress
    assert progress.count("<svg") >= 2

    report = client.get(f"/clinic/patients/{patient_id}/report.pdf")
    assert report.status_code == 200
    assert report.headers["content-type"] == "application/pdf"
    assert "Hanako" not in report.headers["content-disposition"]  # file names travel; names stay inside
    pdf = pypdfium2.PdfDocument(report.content)
    text = pdf[0].get_textpage().get_text_range()
    assert "Sato <b>Hanako</b>" in text
    assert "10-metre walk" in text or "10 m" in text or "10MWT" in text


def test_a_refused_recording_creates_no_session(
    client: TestClient, session: Session, settings: Settings, walk_csv: Path
) -> None:
    clinic, csrf = _therapist(client, session)
    patient = factories.make_patient(session, clinic)
    session.commit()
    response = client.post(
        f"/clinic/patients/{patient.id}/sessions",
        data={"csrf_token": csrf, "session_date": "2026-10-05"},
        files={"file": ("walk.csv", walk_csv.read_bytes()[:3000] + b"1.0,broken\n", "text/csv")},
        follow_redirects=False,
    )
    assert response.status_code == 422
    assert "Nothing was saved" in response.text and "walk.csv" in response.text
    session.expire_all()
    assert session.scalars(select(TherapySession).where(TherapySession.patient_id == patient.id)).all() == []
    assert not (settings.DATA_DIR / "recordings").exists() or not any(
        (settings.DATA_DIR / "recordings").rglob("*.parquet")
    )
    assert session.get(Patient, patient.id) is not None


def test_a_duplicate_record_number_or_serial_shows_the_form_again(client: TestClient, session: Session) -> None:
    """The clash is undone alone (a savepoint), so the page can go on using the transaction: 422, not 500."""
    clinic = factories.make_organisation(session)
    first, second = factories.make_patient(session, clinic), factories.make_patient(session, clinic)
    first.record_number = "MRN-1"
    factories.make_device_unit(session, clinic, serial_number="H2-0001")
    user = factories.make_user(session, roles=[(clinic, Role.THERAPIST), (clinic, Role.FLEET_MANAGER)])
    session.commit()
    assert factories.sign_in_page(client, user).status_code == 303
    csrf = factories.csrf_of(client.get("/clinic/patients").text)
    edited = {
        "csrf_token": csrf,
        "full_name": "Renamed",
        "date_of_birth": "1958-04-12",
        "sex": "female",
        "condition_code": "I63.9",
        "affected_side": "left",
        "consent_status": "granted",
        "record_number": "MRN-1",
        "goals": "",
    }
    response = client.post(f"/clinic/patients/{second.id}/edit", data=edited, follow_redirects=False)
    assert response.status_code == 422 and "already has record number &#39;MRN-1&#39;" in response.text
    created = {key: value for key, value in edited.items() if key != "goals"} | {"organisation_id": str(clinic.id)}
    response = client.post("/clinic/patients", data=created, follow_redirects=False)
    assert response.status_code == 422 and "already has record number" in response.text
    device = {
        "csrf_token": csrf,
        "organisation_id": str(clinic.id),
        "manufacturer": "StrideWorks",
        "model_name": "H2 hip exoskeleton",
        "serial_number": "H2-0001",
    }
    response = client.post("/clinic/devices", data=device, follow_redirects=False)
    assert response.status_code == 422 and "is already registered" in response.text
    session.expire_all()
    assert session.get(Patient, second.id).full_name != "Renamed"  # nothing of the refused change was kept
    names = session.scalars(select(Patient.full_name).where(Patient.organisation_id == clinic.id)).all()
    assert sorted(names) == sorted([first.full_name, second.full_name])


@pytest.mark.parametrize("visitor", ["anonymous", "revoked"])
def test_files_are_parsed_only_for_signed_in_visitors(client: TestClient, session: Session, visitor: str) -> None:
    """Anyone gets a CSRF token with the login form; a revoked session (signed out in another tab) is no better."""
    if visitor == "anonymous":
        clinic = factories.make_organisation(session)
        csrf = factories.csrf_of(client.get("/login").text)
    else:
        clinic, csrf = _therapist(client, session)
        session.execute(update(AuthSession).values(revoked_at=utcnow()))
    patient = factories.make_patient(session, clinic)
    session.commit()
    response = client.post(
        f"/clinic/patients/{patient.id}/sessions",
        data={"csrf_token": csrf, "session_date": "2026-10-05"},
        files={"file": ("walk.csv", b"x" * 100_000, "text/csv")},
        headers={"accept": "application/json"},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert "Sign in before sending files" in response.json()["detail"]


def test_only_a_multipart_upload_may_exceed_the_body_limit(client: TestClient, settings: Settings) -> None:
    """A urlencoded body to an upload path would be read whole into memory: it keeps the ordinary limit."""
    big = {"field": "x" * (settings.MAX_BODY_BYTES + 1)}
    for path in ("/clinic/patients/1/sessions", "/api/v1/clinic/sessions/1/recording", "/api/v1/models/1/file"):
        response = client.post(path, data=big, headers={"accept": "application/json"})
        assert response.status_code == 413, path
        assert "larger than the" in response.json()["detail"]


def test_the_upload_reports_its_stages_to_its_sender_only(client: TestClient, session: Session, walk_csv: Path) -> None:
    clinic, csrf = _therapist(client, session)
    patient = factories.make_patient(session, clinic)
    session.commit()
    token = "0123456789abcdef0123456789abcdef"
    assert client.get("/clinic/upload-progress", params={"token": token}).json()["stage"] is None
    posted = client.post(
        f"/clinic/patients/{patient.id}/sessions?progress={token}",
        data={"csrf_token": csrf, "session_date": "2026-10-05"},
        files={"file": ("walk.csv", walk_csv.read_bytes(), "text/csv")},
        follow_redirects=False,
    )
    assert posted.status_code == 303
    answer = client.get("/clinic/upload-progress", params={"token": token}).json()
    assert answer == {"step": 3, "steps": 4, "stage": "Saving the session"}
    other = factories.make_user(session, roles=[(clinic, Role.THERAPIST)])
    session.commit()
    client.cookies.clear()
    assert factories.sign_in_page(client, other).status_code == 303
    assert client.get("/clinic/upload-progress", params={"token": token}).json()["stage"] is None
    assert client.get("/clinic/upload-progress", params={"token": "not-a-token"}).status_code == 422


GAITALYTICS = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "gaitalytics_c3d_emg"


@pytest.mark.skipif(not GAITALYTICS.is_dir(), reason="../shared/data/gaitalytics_c3d_emg is absent")
def test_a_motion_lab_session_page_shows_joint_and_muscle_curves(client: TestClient, session: Session) -> None:
    clinic, csrf = _therapist(client, session)
    patient = factories.make_patient(session, clinic)
    session.commit()
    posted = client.post(
        f"/clinic/patients/{patient.id}/sessions",
        data={"csrf_token": csrf, "session_date": "2026-10-05"},
        files={"file": ("overground.c3d", (GAITALYTICS / "test_small.c3d").read_bytes(), "application/octet-stream")},
        follow_redirects=False,
    )
    assert posted.status_code == 303, posted.text
    page = client.get(posted.headers["location"])
    assert page.status_code == 200
    for title in ("Hip: joint angles", "Knee: joint angles", "Left: muscle activity", "Right: muscle activity"):
        assert title in page.text, title
    assert "C3D labels have no channel" in page.text  # the reader's note reaches the therapist


def test_berg_items_on_the_form_are_all_or_none_and_named(client: TestClient, session: Session) -> None:
    clinic, csrf = _therapist(client, session)
    patient = factories.make_patient(session, clinic)
    session.commit()
    url = f"/clinic/patients/{patient.id}/outcomes"
    base = {"csrf_token": csrf, "measure": "berg", "measured_on": "2026-10-05"}
    partial = client.post(url, data={**base, "item_1": "4", "item_2": "3", "item_9": "5"})
    assert partial.status_code == 422
    assert "items 3-8, 10-14 are empty" in partial.text
    full = {f"item_{number}": "3" for number in range(1, 15)}
    wrong = client.post(url, data={**base, **full, "item_9": "5"})
    assert wrong.status_code == 422 and "Berg item 9" in wrong.text
    superscript = client.post(url, data={**base, **full, "item_3": "²"})  # a digit to Python, no int
    assert superscript.status_code == 422 and "items 3 are not" in superscript.text
    not_berg = client.post(url, data={**base, "measure": "tug", "value": "12", "item_1": "4"})
    assert not_berg.status_code == 422 and "belong to the Berg Balance Scale only" in not_berg.text
    saved = client.post(url, data={**base, **full}, follow_redirects=False)
    assert saved.status_code == 303
