"""Alliances, their member organisations and their goals."""

from datetime import date, datetime

from sqlalchemy import ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from exohub.web.accounts.models import Organisation
from exohub.web.database import Base, utcnow


class Alliance(Base):
    __tablename__ = "alliance"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    region: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    members: Mapped[list["AllianceMember"]] = relationship(
        back_populates="alliance", cascade="all, delete-orphan", lazy="selectin"
    )
    goals: Mapped[list["AllianceGoal"]] = relationship(
        back_populates="alliance", cascade="all, delete-orphan", lazy="selectin", order_by="AllianceGoal.deadline_date"
    )


class AllianceMember(Base):
    __tablename__ = "alliance_member"
    __table_args__ = (UniqueConstraint("alliance_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    alliance_id: Mapped[int] = mapped_column(ForeignKey("alliance.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    joined_date: Mapped[date]

    alliance: Mapped[Alliance] = relationship(back_populates="members")
    organisation: Mapped[Organisation] = relationship(lazy="joined")


class AllianceGoal(Base):
    """A target the alliance commits to, e.g. 5,000 therapists trained by 2026-12-31."""

    __tablename__ = "alliance_goal"

    id: Mapped[int] = mapped_column(primary_key=True)
    alliance_id: Mapped[int] = mapped_column(ForeignKey("alliance.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    metric: Mapped[str] = mapped_column(String(64))
    target_value: Mapped[float] = mapped_column(Numeric(14, 2, asdecimal=False))
    deadline_date: Mapped[date]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    alliance: Mapped[Alliance] = relationship(back_populates="goals")
