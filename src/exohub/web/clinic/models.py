"""A clinic's patients, its device units, therapy sessions with their recordings, and outcome measurements.

Every row carries the owning clinic's ``organisation_id``, so one :class:`~exohub.web.tenancy.TenantScope`
filter keeps it inside the clinic. Sessions and measurements repeat their patient's organisation on purpose:
the scope filter then needs no join, and a foreign key ties both to the same clinic.
"""

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Date, Enum, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from exohub.web.accounts.models import User
from exohub.web.database import Base, utcnow


class Sex(StrEnum):
    FEMALE = "female"
    MALE = "male"
    OTHER = "other"
    UNKNOWN = "unknown"


class AffectedSide(StrEnum):
    LEFT = "left"
    RIGHT = "right"
    BOTH = "both"
    NEITHER = "neither"


class ConsentStatus(StrEnum):
    """Whether the patient agreed that anonymised data from their sessions may leave the clinic."""

    NOT_ASKED = "not_asked"
    GRANTED = "granted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"


class AssistMode(StrEnum):
    """How the device assisted during a session (per-vendor names map onto these)."""

    ASSIST_AS_NEEDED = "assist_as_needed"
    FIXED = "fixed"
    TRANSPARENT = "transparent"
    FULL_GUIDANCE = "full_guidance"


NEVER_REUSED_IDS = {"sqlite_autoincrement": True}
"""The id of a deleted row is never given to a new one (SQLite reuses the highest id otherwise; PostgreSQL's
sequences never do), so the audit log's "therapy_session 104" always means one session."""


def _enum(enum_class: type[StrEnum], name: str) -> Enum:
    return Enum(enum_class, name=name, native_enum=False, length=32, values_callable=lambda e: [m.value for m in e])


class Patient(Base):
    """A person treated by one clinic. Identifiable: visible only inside the clinic, every read audited."""

    __tablename__ = "patient"
    __table_args__ = (UniqueConstraint("organisation_id", "record_number"), NEVER_REUSED_IDS)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    record_number: Mapped[str | None] = mapped_column(String(64))
    full_name: Mapped[str] = mapped_column(String(200))
    date_of_birth: Mapped[date] = mapped_column(Date)
    sex: Mapped[Sex] = mapped_column(_enum(Sex, "patient_sex"))
    condition_code: Mapped[str] = mapped_column(String(16))
    condition_label: Mapped[str] = mapped_column(String(200))
    ais_grade: Mapped[str | None] = mapped_column(String(1))
    neurological_level: Mapped[str | None] = mapped_column(String(3))
    affected_side: Mapped[AffectedSide] = mapped_column(_enum(AffectedSide, "affected_side"))
    height_cm: Mapped[float | None] = mapped_column(Float)
    weight_kg: Mapped[float | None] = mapped_column(Float)
    goals: Mapped[str] = mapped_column(Text, default="")
    consent_status: Mapped[ConsentStatus] = mapped_column(
        _enum(ConsentStatus, "consent_status"), default=ConsentStatus.NOT_ASKED
    )
    consent_updated_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class DeviceUnit(Base):
    """One exoskeleton in a clinic: its model and serial number (the rental programme moves units later)."""

    __tablename__ = "device_unit"
    __table_args__ = (UniqueConstraint("manufacturer", "serial_number"), NEVER_REUSED_IDS)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    manufacturer: Mapped[str] = mapped_column(String(120))
    model_name: Mapped[str] = mapped_column(String(120))
    serial_number: Mapped[str] = mapped_column(String(64))
    joints: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def label(self) -> str:
        """How pages name the unit: "StrideWorks H2 (SN H2-0042)"."""
        return f"{self.manufacturer} {self.model_name} (SN {self.serial_number})"


class TherapySession(Base):
    """One therapy session on a device, with its settings and, once uploaded, its recording and analysis."""

    __tablename__ = "therapy_session"
    __table_args__ = (NEVER_REUSED_IDS,)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id", ondelete="CASCADE"), index=True)
    therapist_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    device_unit_id: Mapped[int | None] = mapped_column(ForeignKey("device_unit.id", ondelete="RESTRICT"))
    session_date: Mapped[date] = mapped_column(Date, index=True)
    duration_min: Mapped[float | None] = mapped_column(Float)
    assist_mode: Mapped[AssistMode | None] = mapped_column(_enum(AssistMode, "assist_mode"))
    assistance_level_pct: Mapped[float | None] = mapped_column(Float)
    body_weight_support_pct: Mapped[float | None] = mapped_column(Float)
    speed_m_s: Mapped[float | None] = mapped_column(Float)
    joint_limits_deg: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    recording_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    recording_filename: Mapped[str | None] = mapped_column(String(255))
    recording_format: Mapped[str | None] = mapped_column(String(16))
    recording_sha256: Mapped[str | None] = mapped_column(String(64))
    recording_size_bytes: Mapped[int | None] = mapped_column(Integer)
    recording_duration_s: Mapped[float | None] = mapped_column(Float)
    analysis: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    analysed_at: Mapped[datetime | None]

    patient: Mapped[Patient] = relationship(lazy="joined")
    device_unit: Mapped[DeviceUnit | None] = relationship(lazy="joined")
    therapist: Mapped[User | None] = relationship(lazy="joined")


class OutcomeMeasurement(Base):
    """One standard outcome measure taken on a date (10MWT, 6MWT, TUG, Berg, FAC), with Berg's item scores."""

    __tablename__ = "outcome_measurement"
    __table_args__ = (NEVER_REUSED_IDS,)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id", ondelete="CASCADE"), index=True)
    measure: Mapped[str] = mapped_column(String(32))
    value: Mapped[float] = mapped_column(Float)
    item_scores: Mapped[list[int] | None] = mapped_column(JSON)
    measured_on: Mapped[date] = mapped_column(Date)
    assessor_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    therapy_session_id: Mapped[int | None] = mapped_column(ForeignKey("therapy_session.id", ondelete="SET NULL"))
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
