"""The clinic API end to end: patients, sessions whose recording upload and analysis are one unit, outcomes."""

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from exohub.signals.io import read_recording, write_recording
from exohub.web.audit.models import AuditEvent
from exohub.web.clinic.analysis import analyse_session_recording, headline
from exohub.web.clinic.demo import PATIENTS, Incident, session_recording
from exohub.web.clinic.models import TherapySession
from exohub.web.config import Settings
from exohub.web.tenancy import Role
from tests.web import factories
from tests.web.clinic.conftest import ClinicWorld

API = "/api/v1/clinic"
MISSING_ID = 2_000_000_000


def _new_session(client: TestClient, world: ClinicWorld, **fields: object) -> dict[str, object]:
    body = {"session_date": "2026-10-01", "device_unit_id": world.device_id, "assistance_level_pct": 60, **fields}
    response = client.post(f"{API}/patients/{world.patient_id}/sessions", json=body, headers=world.therapist)
    assert response.status_code == 201, response.text
    return response.json()


def _upload(client: TestClient, session_id: object, headers: dict[str, str], name: str, content: bytes):  # type: ignore[no-untyped-def]
    return client.put(f"{API}/sessions/{session_id}/recording", files={"file": (name, content)}, headers=headers)


def _stored_files(settings: Settings) -> list[Path]:
    folder = settings.DATA_DIR / "recordings"
    return [path for path in folder.rglob("*") if path.is_file()] if folder.exists() else []


def test_create_and_read_a_patient_audits_every_read(
    client: TestClient, clinic_world: ClinicWorld, session: Session
) -> None:
    body = {
        "organisation_id": clinic_world.clinic.id,
        "full_name": "Hanako Sato",
        "date_of_birth": "1961-02-03",
        "sex": "female",
        "condition_code": "i63.4",
        "affected_side": "right",
        "record_number": "MRN-001",
    }
    created = client.post(f"{API}/patients", json=body, headers=clinic_world.therapist)
    assert created.status_code == 201, created.text
    patient = created.json()
    assert patient["condition_code"] == "I63.4"
    assert "infarction" in patient["condition_label"].lower()
    before = session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "patient.read"))
    read = client.get(f"{API}/patients/{patient['id']}", headers=clinic_world.therapist)
    assert read.status_code == 200
    after = session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "patient.read"))
    assert after == before + 1
    listed = client.get(f"{API}/patients", params={"q": "Hanako"}, headers=clinic_world.therapist).json()
    assert [item["id"] for item in listed["items"]] == [patient["id"]]


def test_other_clinic_and_admins_do_not_see_patients(client: TestClient, clinic_world: ClinicWorld) -> None:
    url = f"{API}/patients/{clinic_world.patient_id}"
    assert client.get(url, headers=clinic_world.other_therapist).status_code == 404
    assert client.get(url, headers=clinic_world.admin).status_code == 403  # admins manage people, not patients
    assert client.get(f"{API}/patients", headers=clinic_world.other_therapist).json()["total"] == 0


def test_upload_analyses_and_stores_the_recording(
    client: TestClient, clinic_world: ClinicWorld, walk_csv: Path, settings: Settings
) -> None:
    created = _new_session(client, clinic_world)
    response = _upload(client, created["id"], clinic_world.therapist, "walk.csv", walk_csv.read_bytes())
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["recording"]["format"] == ".csv"
    assert result["recording"]["duration_s"] > 119
    assert result["duration_min"] == 2.0
    summary = result["summary"]
    # 120 s at about 1.1 s per stride: about 109 strides per leg, two steps per stride.
    assert 190 <= summary["steps"] <= 230
    assert 100 <= summary["cadence_steps_per_min"] <= 120
    assert summary["walking_time_s"] > 100
    assert summary["up_time_s"] > 110
    analysis = client.get(f"{API}/sessions/{created['id']}/analysis", headers=clinic_world.therapist).json()
    assert len(analysis["angle_profiles_deg"]["left_hip_angle"]) == 101
    download = client.get(f"{API}/sessions/{created['id']}/recording", headers=clinic_world.therapist)
    assert download.status_code == 200
    [stored] = _stored_files(settings)
    assert download.content == stored.read_bytes()
    assert read_recording(stored).channels == [
        "left_hip_angle",
        "left_hip_velocity",
        "right_hip_angle",
        "right_hip_velocity",
    ]


def test_a_parquet_upload_is_stored_as_it_came(
    client: TestClient, clinic_world: ClinicWorld, walk_csv: Path, settings: Settings, tmp_path: Path
) -> None:
    parquet = write_recording(read_recording(walk_csv), tmp_path / "walk.parquet")
    created = _new_session(client, clinic_world)
    response = _upload(client, created["id"], clinic_world.therapist, "walk.parquet", parquet.read_bytes())
    assert response.status_code == 200, response.text
    assert response.json()["summary"]["steps"] > 150
    [stored] = _stored_files(settings)
    assert stored.read_bytes() == parquet.read_bytes()


def test_a_recording_of_another_day_is_refused(
    client: TestClient, clinic_world: ClinicWorld, walk_csv: Path, settings: Settings, tmp_path: Path
) -> None:
    recording = read_recording(walk_csv)
    recording.info["meas_date"] = datetime(2026, 9, 14, 9, 30, tzinfo=UTC)
    parquet = write_recording(recording, tmp_path / "monday.parquet")
    created = _new_session(client, clinic_world, session_date="2026-10-01")
    response = _upload(client, created["id"], clinic_world.therapist, "monday.parquet", parquet.read_bytes())
    assert response.status_code == 422
    assert "made on 2026-09-14 but the session is dated 2026-10-01" in response.json()["detail"]
    assert _stored_files(settings) == []
    same_day = _new_session(client, clinic_world, session_date="2026-09-14")
    assert (
        _upload(client, same_day["id"], clinic_world.therapist, "monday.parquet", parquet.read_bytes()).status_code
        == 200
    )


def test_a_refused_upload_stores_nothing(
    client: TestClient, clinic_world: ClinicWorld, walk_csv: Path, settings: Settings, session: Session
) -> None:
    created = _new_session(client, clinic_world)
    truncated = walk_csv.read_bytes()[:5000] + b"0.1,abc\n"
    cases = [
        ("walk.csv", truncated, "walk.csv"),
        ("walk.txt", walk_csv.read_bytes(), "reads recordings ending in"),
        ("walk.parquet", b"PAR1 not really parquet", "walk.parquet is not a valid recording"),
        ("walk.csv", b"time_s,left_foot_skin_temp\n0,30\n0.1,30.1\n0.2,30.2\n", "No channel to find gait events from"),
    ]
    for name, content, message in cases:
        response = _upload(client, created["id"], clinic_world.therapist, name, content)
        assert response.status_code == 422, (name, response.text)
        problem = response.json()
        assert message in problem["detail"], problem
        assert problem["errors"][0]["field"] == "body.file"
        assert str(settings.DATA_DIR) not in problem["detail"]
    assert _stored_files(settings) == []
    assert not any((settings.DATA_DIR / "incoming").iterdir())
    session.expire_all()
    assert session.get_one(TherapySession, created["id"]).recording_key is None


def test_a_recording_is_never_replaced(client: TestClient, clinic_world: ClinicWorld, walk_csv: Path) -> None:
    created = _new_session(client, clinic_world)
    assert _upload(client, created["id"], clinic_world.therapist, "walk.csv", walk_csv.read_bytes()).status_code == 200
    again = _upload(client, created["id"], clinic_world.therapist, "walk.csv", walk_csv.read_bytes())
    assert again.status_code == 409
    assert "never changes" in again.json()["detail"]


def test_bad_session_input_names_the_field(client: TestClient, clinic_world: ClinicWorld) -> None:
    url = f"{API}/patients/{clinic_world.patient_id}/sessions"
    future = (date.today() + timedelta(days=3)).isoformat()
    cases = [
        ({"session_date": future}, "session_date", "future"),
        ({"session_date": "1900-01-01"}, "session_date", "before the patient's date of birth"),
        ({"session_date": "2026-10-01", "assistance_level_pct": 140}, "body.assistance_level_pct", "100"),
        (
            {"session_date": "2026-10-01", "joint_limits_deg": {"left_hip": {"min_deg": 30, "max_deg": 10}}},
            "body.joint_limits_deg.left_hip",
            "below",
        ),
    ]
    for body, field, message in cases:
        response = client.post(url, json=body, headers=clinic_world.therapist)
        assert response.status_code == 422, (body, response.text)
        errors = response.json()["errors"]
        assert errors[0]["field"] == field, errors
        assert message in errors[0]["message"], errors


def test_outcomes_are_checked_and_interpreted(client: TestClient, clinic_world: ClinicWorld) -> None:
    url = f"{API}/patients/{clinic_world.patient_id}/outcomes"
    headers = clinic_world.therapist
    refused = [
        ({"measure": "tug", "value": -3, "measured_on": "2026-09-01"}, "value"),
        (
            {"measure": "berg", "item_scores": [4, 4, 4, 4, 4, 4, 4, 4, 5, 4, 4, 4, 4, 4], "measured_on": "2026-09-01"},
            "items.8",
        ),
        (
            {
                "measure": "10mwt_comfortable",
                "value": 0.5,
                "measured_on": (date.today() + timedelta(days=2)).isoformat(),
            },
            "measured_on",
        ),
        ({"measure": "10mwt_comfortable", "value": 0.5, "measured_on": "1900-01-01"}, "measured_on"),
    ]
    for body, field in refused:
        response = client.post(url, json=body, headers=headers)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["errors"][0]["field"] == field
    for on, speed in (("2026-06-01", 0.42), ("2026-07-15", 0.51), ("2026-09-01", 0.63)):
        response = client.post(
            url, json={"measure": "10mwt_comfortable", "value": speed, "measured_on": on}, headers=headers
        )
        assert response.status_code == 201, response.text
    berg = client.post(
        url, json={"measure": "berg", "item_scores": [3] * 14, "measured_on": "2026-09-01"}, headers=headers
    )
    assert berg.json()["value"] == 42
    assert client.get(url, headers=headers).json()[0]["coding"]["system"]
    progress = client.get(f"{API}/patients/{clinic_world.patient_id}/progress", headers=headers).json()
    [change] = progress["changes"]
    assert change["change"] == 0.21
    assert change["meaningful"] is True and change["improved"] is True
    assert "Tilson" in change["text"]
    assert [point["value"] for point in progress["outcomes"]["10mwt_comfortable"]] == [0.42, 0.51, 0.63]


def test_headline_of_a_control_session_log() -> None:
    """A session log of the real-time loop: assistance per actuator and its safety events reach the headline."""
    stroke = PATIENTS[0]
    recording = session_recording(
        stroke,
        progress=0.5,
        assistance_level_pct=60.0,
        duration_s=30.0,
        device_name="StrideWorks H2",
        incident=Incident(session_index=0, kind="communication_loss", note="link dropped"),
    )
    numbers = headline(analyse_session_recording(recording))
    assert numbers is not None
    assert set(numbers.assistance) == {"left_hip_torque", "right_hip_torque"}
    assert all((values["positive_work_j"] or 0) > 0 for values in numbers.assistance.values())
    # The affected (left) side gets more assistance.
    assert (
        numbers.assistance["left_hip_torque"]["mean_abs_torque_nm"]
        > numbers.assistance["right_hip_torque"]["mean_abs_torque_nm"]
    )  # type: ignore[operator]
    assert numbers.safety_events >= 1


GAITALYTICS = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "gaitalytics_c3d_emg"


@pytest.mark.skipif(not GAITALYTICS.is_dir(), reason="../shared/data/gaitalytics_c3d_emg is absent")
def test_a_real_c3d_session_with_emg(client: TestClient, clinic_world: ClinicWorld) -> None:
    """Treadmill walking from a motion lab (gaitalytics): force-plate events, joint angles and 12 EMG channels."""
    created = _new_session(client, clinic_world)
    content = (GAITALYTICS / "treadmill_events.c3d").read_bytes()
    response = _upload(client, created["id"], clinic_world.therapist, "treadmill_events.c3d", content)
    assert response.status_code == 200, response.text
    summary = response.json()["summary"]
    assert 90 <= summary["cadence_steps_per_min"] <= 125  # treadmill walking
    analysis = client.get(f"{API}/sessions/{created['id']}/analysis", headers=clinic_world.therapist).json()
    assert len([name for name in analysis["emg_profiles"] if name != "cycle_pct"]) == 12
    assert any("C3D labels have no channel" in note for note in analysis["warnings"])


def test_patient_updates_are_checked(client: TestClient, clinic_world: ClinicWorld) -> None:
    url = f"{API}/patients/{clinic_world.patient_id}"
    headers = clinic_world.therapist
    _new_session(client, clinic_world, session_date="2026-10-01")
    for body, field in (({"goals": None}, "goals"), ({"consent_status": None}, "consent_status")):
        response = client.patch(url, json=body, headers=headers)
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["field"] == field
    late_birth = client.patch(url, json={"date_of_birth": "2026-11-01"}, headers=headers)
    assert late_birth.status_code == 422
    assert "after the patient's first session" in late_birth.json()["detail"]
    assert client.patch(url, json={"consent_status": "granted", "goals": ""}, headers=headers).status_code == 200


def test_a_deleted_sessions_id_is_never_reused(client: TestClient, clinic_world: ClinicWorld) -> None:
    first = _new_session(client, clinic_world)
    assert client.delete(f"{API}/sessions/{first['id']}", headers=clinic_world.therapist).status_code == 204
    second = _new_session(client, clinic_world)
    assert second["id"] > first["id"]  # the audit log's "therapy_session N" always means one session


def test_another_clinics_unit_is_not_found_like_a_missing_one(client: TestClient, clinic_world: ClinicWorld) -> None:
    """An id of another clinic's object in a body answers 404, as in a path, word for word as a missing id."""
    url = f"{API}/patients/{clinic_world.patient_id}/sessions"
    answers = []
    for device_id in (clinic_world.other_device_id, MISSING_ID):
        response = client.post(
            url, json={"session_date": "2026-10-01", "device_unit_id": device_id}, headers=clinic_world.therapist
        )
        assert response.status_code == 404, response.text
        problem = response.json()
        assert problem["errors"][0]["field"] == "device_unit_id"
        assert "Patient " not in problem["detail"]  # factories name patients "Patient N"
        answers.append(problem["detail"].replace(str(device_id), "N"))
    assert answers[0] == answers[1]


def test_a_unit_of_another_of_the_callers_clinics_is_invalid(
    client: TestClient, session: Session, settings: Settings, clinic_world: ClinicWorld
) -> None:
    """A unit the caller may see, but of another clinic than the patient's, is a wrong choice (422), not hidden."""
    both = factories.make_user(
        session, roles=[(clinic_world.clinic, Role.THERAPIST), (clinic_world.other_clinic, Role.THERAPIST)]
    )
    headers = factories.bearer(session, settings, both)
    session.commit()
    response = client.post(
        f"{API}/patients/{clinic_world.patient_id}/sessions",
        json={"session_date": "2026-10-01", "device_unit_id": clinic_world.other_device_id},
        headers=headers,
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "device_unit_id"


def test_an_outcome_cannot_link_another_clinics_session(
    client: TestClient, session: Session, clinic_world: ClinicWorld
) -> None:
    other_patient = factories.make_patient(session, clinic_world.other_clinic)
    other_session = factories.make_therapy_session(session, other_patient, on=date(2026, 10, 1))
    session.commit()
    url = f"{API}/patients/{clinic_world.patient_id}/outcomes"
    for session_id in (other_session.id, MISSING_ID):
        body = {"measure": "tug", "value": 14.2, "measured_on": "2026-10-01", "therapy_session_id": session_id}
        response = client.post(url, json=body, headers=clinic_world.therapist)
        assert response.status_code == 404, response.text
        assert response.json()["errors"][0]["field"] == "therapy_session_id"


def test_implausible_values_are_called_out() -> None:
    from exohub.web.clinic.analysis import implausible_values

    document = {
        "skin_temperature": {"left_thigh_skin_temp": {"max_c": 43.6}, "right_thigh_skin_temp": {"max_c": 36.0}},
        "summary": {"rom_deg": {"left_hip_angle": 2291.8, "right_hip_angle": 41.0}},
    }
    findings = implausible_values(document)
    assert len(findings) == 2
    assert "43.6 °C, at or above the 43 °C limit" in findings[0]
    assert "left hip angle moves through 2292°" in findings[1] and "degrees" in findings[1]


def test_motion_lab_joint_moments_are_not_assistance() -> None:
    bins = {"covered_s": [60.0], "mean_abs_torque_nm": [40.0], "peak_abs_torque_nm": [80.0], "positive_work_j": [5.0]}
    numbers = headline({"summary": {}, "assistance": {"left_hip_torque_x": bins, "left_hip_torque": bins}})
    assert numbers is not None
    assert list(numbers.assistance) == ["left_hip_torque"]
    assert numbers.mean_assistance_torque_nm == 40.0


def test_an_outcome_links_only_to_a_session_of_its_day(client: TestClient, clinic_world: ClinicWorld) -> None:
    created = _new_session(client, clinic_world, session_date="2026-10-01")
    url = f"{API}/patients/{clinic_world.patient_id}/outcomes"
    body = {"measure": "tug", "value": 14.2, "therapy_session_id": created["id"]}
    other_day = client.post(url, json={**body, "measured_on": "2026-10-20"}, headers=clinic_world.therapist)
    assert other_day.status_code == 422
    assert other_day.json()["errors"][0]["field"] == "therapy_session_id"
    same_day = client.post(url, json={**body, "measured_on": "2026-10-01"}, headers=clinic_world.therapist)
    assert same_day.status_code == 201
