"""A gait-model version: who owns it, what trained it, how it scored per site, its card and its ONNX file."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from exohub.web.accounts.models import Organisation
from exohub.web.database import Base, utcnow


class ModelStatus(StrEnum):
    DRAFT = "draft"
    """Seen by its own organisation only; its file may still be replaced."""
    PUBLISHED = "published"
    """Shared with the whole consortium; immutable."""
    WITHDRAWN = "withdrawn"
    """Still listed for provenance, no longer downloadable."""


class ModelVersion(Base):
    """One version of a named gait model, owned by the organisation that publishes it."""

    __tablename__ = "model_version"
    __table_args__ = (UniqueConstraint("organisation_id", "name", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120), index=True)
    version: Mapped[str] = mapped_column(String(64))
    status: Mapped[ModelStatus] = mapped_column(
        Enum(
            ModelStatus,
            name="model_status",
            native_enum=False,
            length=16,
            values_callable=lambda e: [m.value for m in e],
        ),
        default=ModelStatus.DRAFT,
    )
    code_version: Mapped[str] = mapped_column(String(120))
    training_config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    training_sites: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    metrics: Mapped[dict[str, dict[str, float]]] = mapped_column(JSON, default=dict)
    intended_use: Mapped[str] = mapped_column(Text, default="")
    limitations: Mapped[str] = mapped_column(Text, default="")
    training_data: Mapped[str] = mapped_column(Text, default="")
    evaluation: Mapped[str] = mapped_column(Text, default="")
    file_sha256: Mapped[str | None] = mapped_column(String(64))
    file_size_bytes: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None]
    withdrawn_at: Mapped[datetime | None]
    withdrawal_reason: Mapped[str | None] = mapped_column(Text)

    organisation: Mapped[Organisation] = relationship(lazy="joined")

    @property
    def organisation_name(self) -> str:
        """The owner's name, for the API and pages."""
        return self.organisation.name
