"""API shape of an audit event."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class AuditEventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    occurred_at: datetime
    actor_user_id: int | None
    organisation_id: int | None
    action: str
    object_type: str
    object_id: str | None
    address: str | None
    detail: dict[str, Any]
