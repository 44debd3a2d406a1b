"""The models and the migrations agree, on every engine the suite runs on; the audit log is append-only."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from exohub.web.all_models import Base
from exohub.web.audit import service as audit
from exohub.web.audit.service import AuditContext
from exohub.web.migrate import current_revision, head_revision


def test_database_is_at_head(engine: Engine, database_url: str) -> None:
    assert current_revision(engine) == head_revision(database_url)


def test_models_and_migrations_agree(connection: Connection) -> None:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    diff = compare_metadata(context, Base.metadata)
    assert diff == [], f"the models differ from the migrations; write a migration: {diff}"


@pytest.mark.parametrize("statement", ["UPDATE audit_event SET action = 'forged'", "DELETE FROM audit_event"])
def test_database_refuses_to_change_audit_events(session: Session, statement: str) -> None:
    audit.record(
        session=session,
        context=AuditContext(actor_user_id=None, address="test"),
        action="test.write",
        object_type="thing",
    )
    with pytest.raises(DBAPIError, match="append-only"), session.begin_nested():
        session.execute(text(statement))


def test_orm_refuses_to_change_audit_events(session: Session) -> None:
    event = audit.record(
        session=session,
        context=AuditContext(actor_user_id=None, address="test"),
        action="test.write",
        object_type="thing",
    )
    event.action = "forged"
    with pytest.raises(Exception, match="append-only"):
        session.flush()
