"""Clinic fixtures: a clinic with a therapist, a patient, a device unit, and recordings to upload."""

from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from exohub.control.virtual import synthetic_hip_gait
from exohub.signals.io import write_recording
from exohub.web.accounts.models import Organisation
from exohub.web.config import Settings
from exohub.web.tenancy import Role
from tests.web import factories


@dataclass
class ClinicWorld:
    clinic: Organisation
    other_clinic: Organisation
    therapist: dict[str, str]
    admin: dict[str, str]
    other_therapist: dict[str, str]
    patient_id: int
    device_id: int
    other_device_id: int


@pytest.fixture(scope="session")
def walk_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two minutes of synthetic level walking of both hips, in the CSV convention."""
    path = tmp_path_factory.mktemp("recordings") / "walk.csv"
    write_recording(synthetic_hip_gait(120.0, seed=3), path)
    return path


@pytest.fixture
def clinic_world(session: Session, settings: Settings) -> ClinicWorld:
    clinic = factories.make_organisation(session, name="Sakura Test Clinic")
    other = factories.make_organisation(session, name="Hangang Test Clinic", country_code="KR")
    therapist = factories.make_user(session, roles=[(clinic, Role.THERAPIST)])
    admin = factories.make_user(session, roles=[(clinic, Role.ADMIN)])
    other_therapist = factories.make_user(session, roles=[(other, Role.THERAPIST)])
    patient = factories.make_patient(session, clinic)
    device = factories.make_device_unit(session, clinic)
    other_device = factories.make_device_unit(session, other)
    world = ClinicWorld(
        clinic=clinic,
        other_clinic=other,
        therapist=factories.bearer(session, settings, therapist),
        admin=factories.bearer(session, settings, admin),
        other_therapist=factories.bearer(session, settings, other_therapist),
        patient_id=patient.id,
        device_id=device.id,
        other_device_id=other_device.id,
    )
    session.commit()
    return world
