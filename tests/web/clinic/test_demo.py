"""The clinic part of ``exohub demo``: every demo clinic gets patients with months of analysed sessions and outcomes.

Seeding runs the assistance loop on the virtual patient for every session (10-20 s in all), so the demo is seeded
once for the module, on its own connection inside a transaction rolled back at the end, into a temporary data
directory: the function-scoped ``session`` fixture would seed it again for every test.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from exohub.signals.io import read_recording
from exohub.web.accounts import service as accounts
from exohub.web.accounts.models import Organisation
from exohub.web.audit.service import AuditContext
from exohub.web.clinic import outcomes as clinic_outcomes
from exohub.web.clinic import service
from exohub.web.clinic import sessions as clinic_sessions
from exohub.web.clinic.analysis import headline
from exohub.web.clinic.demo import CLINICS, PATIENTS, assessment_indices, seed_clinic_demo, session_dates
from exohub.web.clinic.measures import MeasureCode
from exohub.web.clinic.models import Patient, TherapySession
from exohub.web.demo import DEMO_DOMAIN, ORGANISATIONS, seed_demo
from exohub.web.errors import NotFoundError
from exohub.web.pagination import PageParams
from exohub.web.tenancy import Permission, TenantScope

READ = AuditContext(actor_user_id=None, address="test")


@dataclass
class SeededDemo:
    session: Session
    data_dir: Path
    today: date


@pytest.fixture(scope="module")
def demo(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeededDemo]:
    data_dir = tmp_path_factory.mktemp("demo")
    today = date.today()
    with engine.connect() as connection:
        transaction = connection.begin()
        with Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False) as session:
            seed_demo(session, data_dir=data_dir)
            session.flush()
            yield SeededDemo(session, data_dir, today)
        transaction.rollback()


def _scope(demo: SeededDemo, local_part: str, permission: Permission = Permission.PATIENT_READ) -> TenantScope:
    user = accounts.get_by_email(session=demo.session, email=f"{local_part}@{DEMO_DOMAIN}")
    assert user is not None
    return accounts.principal_of(user).scope(permission)


def _organisation_id(demo: SeededDemo, key: str) -> int:
    name = next(name for org_key, name, *_ in ORGANISATIONS if org_key == key)
    organisation_id = demo.session.scalar(select(Organisation.id).where(Organisation.name == name))
    assert organisation_id is not None
    return organisation_id


def _patients(demo: SeededDemo, key: str) -> list[Patient]:
    """The patients of clinic ``key`` as its therapist lists them."""
    scope = _scope(demo, CLINICS[key].therapist)
    page = service.get_all(session=demo.session, scope=scope, context=READ, params=PageParams(limit=200))
    return [service.get(session=demo.session, scope=scope, context=READ, patient_id=item.id) for item in page.items]


def _jp_stroke_patient(demo: SeededDemo) -> Patient:
    [patient] = [p for p in _patients(demo, "jp") if p.condition_code.startswith("I63")]
    return patient


def test_each_demo_clinic_has_patients_with_months_of_sessions(demo: SeededDemo) -> None:
    for key in CLINICS:
        patients = _patients(demo, key)
        expected = sorted(p.full_name for p in PATIENTS if p.clinic == key)
        assert sorted(p.full_name for p in patients) == expected
        assert {p.organisation_id for p in patients} == {_organisation_id(demo, key)}
        for patient in patients:
            dates = [s.session_date for s in clinic_sessions.get_sessions(session=demo.session, patient=patient)]
            assert len(dates) >= 5, patient.full_name
            # The history ends about a week ago and reaches back months (weekly in Japan, fortnightly abroad).
            assert demo.today - timedelta(days=10) <= max(dates) <= demo.today - timedelta(days=4)
            assert (max(dates) - min(dates)).days >= (11 * 7 if key == "jp" else 8 * 7)
    assert len(_patients(demo, "jp")) == 3


def test_every_session_has_an_analysed_recording_in_the_store(demo: SeededDemo) -> None:
    therapy_sessions = list(demo.session.scalars(select(TherapySession)))
    assert len(therapy_sessions) == sum(p.n_sessions for p in PATIENTS)
    for therapy_session in therapy_sessions:
        path = clinic_sessions.recording_file(data_dir=demo.data_dir, therapy_session=therapy_session)
        assert path.is_relative_to(demo.data_dir / "recordings")
        recording = read_recording(path)
        assert recording.duration_s == pytest.approx(therapy_session.recording_duration_s)
        assert recording.info["meas_date"].date() - therapy_session.session_date in (timedelta(0), timedelta(-1))
        assert therapy_session.recording_filename is not None
        assert therapy_session.recording_filename.endswith(".parquet")
        assert len(therapy_session.recording_sha256 or "") == 64
        numbers = headline(therapy_session.analysis)
        assert numbers is not None
        assert numbers.steps is not None and numbers.steps > 20
        assert numbers.cadence_steps_per_min is not None and 60 < numbers.cadence_steps_per_min < 110
        assert numbers.mean_assistance_torque_nm is not None and numbers.mean_assistance_torque_nm > 0.5
    assert not any((demo.data_dir / "incoming").iterdir())  # every incoming file was removed


def test_jp_stroke_patient_walks_faster_with_less_assistance(demo: SeededDemo) -> None:
    patient = _jp_stroke_patient(demo)
    assert patient.affected_side == "left"
    outcomes = clinic_outcomes.get_outcomes(session=demo.session, patient=patient)
    walk = [o for o in outcomes if o.measure == MeasureCode.TEN_METRE_WALK_COMFORTABLE]
    assert len(walk) >= 4
    # Re-assessed about every four weeks, each time at one of the patient's sessions.
    gaps = np.diff([o.measured_on.toordinal() for o in walk])
    assert all(21 <= gap <= 42 for gap in gaps), gaps
    assert all(o.therapy_session_id is not None for o in outcomes)
    assert 0.25 <= walk[0].value <= 0.45
    assert 0.55 <= walk[-1].value <= 0.7
    changes = {
        change.measure: change for change in clinic_outcomes.progress(session=demo.session, patient=patient).changes
    }
    for measure in MeasureCode:
        assert changes[measure].improved, (measure, changes[measure].text)
    assert changes[MeasureCode.TEN_METRE_WALK_COMFORTABLE].meaningful  # beyond the 0.16 m/s MCID after stroke
    assert changes[MeasureCode.TIMED_UP_AND_GO].change < 0
    berg = [o for o in outcomes if o.measure == MeasureCode.BERG_BALANCE]
    assert all(o.item_scores is not None and sum(o.item_scores) == o.value for o in berg)

    therapy_sessions = clinic_sessions.get_sessions(session=demo.session, patient=patient)[::-1]
    levels = [s.assistance_level_pct for s in therapy_sessions]
    assert levels == sorted(levels, reverse=True, key=lambda level: level or 0.0)
    assert levels[0] > levels[-1]
    first, last = headline(therapy_sessions[0].analysis), headline(therapy_sessions[-1].analysis)
    assert first is not None and last is not None
    assert last.cadence_steps_per_min is not None and first.cadence_steps_per_min is not None
    assert last.cadence_steps_per_min > first.cadence_steps_per_min + 10
    # The affected (left) hip moves through less range than the right, less so by the end.
    assert first.rom_deg["left_hip_angle"] < last.rom_deg["left_hip_angle"] < last.rom_deg["right_hip_angle"]


def test_safety_events_show_in_a_session(demo: SeededDemo) -> None:
    patient = _jp_stroke_patient(demo)
    therapy_sessions = clinic_sessions.get_sessions(session=demo.session, patient=patient)
    with_events = [s for s in therapy_sessions if (numbers := headline(s.analysis)) and numbers.safety_events]
    assert len(with_events) == 1
    [incident] = with_events
    kinds = [event["kind"] for event in (incident.analysis or {})["safety_events"]]
    assert kinds == ["skin_temperature_warning", "skin_temperature"]
    numbers = headline(incident.analysis)
    assert numbers is not None and numbers.skin_temperature_max_c is not None
    assert 43.0 < numbers.skin_temperature_max_c < 46.0
    assert "skin temperature" in incident.notes
    # Abroad, a lost link is reset by the therapist and the session goes on.
    all_kinds = {
        event["kind"]
        for s in demo.session.scalars(select(TherapySession))
        for event in (s.analysis or {})["safety_events"]
    }
    assert {"communication_loss", "reset"} <= all_kinds


def test_therapist_kr_cannot_see_jp_patients(demo: SeededDemo) -> None:
    scope = _scope(demo, "therapist.kr")
    jp = _jp_stroke_patient(demo)
    with pytest.raises(NotFoundError):
        service.get(session=demo.session, scope=scope, context=READ, patient_id=jp.id)
    jp_session = clinic_sessions.get_sessions(session=demo.session, patient=jp)[0]
    with pytest.raises(NotFoundError):
        clinic_sessions.get_session(session=demo.session, scope=scope, context=READ, session_id=jp_session.id)
    listed = service.get_all(session=demo.session, scope=scope, context=READ, params=PageParams(limit=200))
    assert {item.organisation_id for item in listed.items} == {_organisation_id(demo, "kr")}
    assert sorted(item.full_name for item in listed.items) == sorted(p.full_name for p in PATIENTS if p.clinic == "kr")


def test_admins_see_the_clinic_devices_but_not_its_patients(demo: SeededDemo) -> None:
    devices = service.get_devices(
        session=demo.session, scope=_scope(demo, "admin.jp", Permission.DEVICE_READ), params=PageParams()
    )
    assert sorted(item.serial_number for item in devices.items) == sorted(CLINICS["jp"].serial_numbers)
    assert _scope(demo, "admin.jp").organisation_ids == frozenset()


@pytest.mark.parametrize(
    ("n_sessions", "weeks_between_sessions", "expected"),
    [(14, 1, [0, 4, 8, 13]), (13, 1, [0, 4, 8, 12]), (12, 1, [0, 4, 8, 11]), (7, 2, [0, 2, 4, 6]), (6, 2, [0, 2, 5])],
)
def test_assessments_every_four_weeks_and_at_the_last_session(
    n_sessions: int, weeks_between_sessions: int, expected: list[int]
) -> None:
    assert assessment_indices(n_sessions, weeks_between_sessions) == expected


@pytest.mark.parametrize("days_after", range(7))
def test_history_ends_on_the_patients_weekday_about_a_week_ago(days_after: int) -> None:
    today = date(2026, 11, 30) + timedelta(days=days_after)
    for patient in PATIENTS:
        dates = session_dates(patient, today=today, rng=np.random.default_rng(0))
        assert len(dates) == patient.n_sessions
        assert {day.weekday() for day in dates} == {patient.weekday}
        assert 4 <= (today - dates[-1]).days <= 10
        assert dates == sorted(set(dates))


def test_seed_clinic_demo_names_the_missing_staff(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"missing \[.*'therapist.jp'"):
        seed_clinic_demo(None, data_dir=tmp_path, organisations={}, staff={})  # type: ignore[arg-type]
