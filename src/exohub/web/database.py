"""Engine, declarative base with one naming convention, and the request-scoped unit of work."""

from collections.abc import Generator, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, Engine, MetaData, TypeDecorator, create_engine, event
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from exohub.web.errors import ConflictError

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} given; exohub stores timezone-aware UTC datetimes only")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    """Return the current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Declarative base for every exohub table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}


def make_engine(url: str, *, pool_size: int = 10, pre_ping: bool = False, pool_recycle_s: int = 1800) -> Engine:
    """Create the engine for ``url``; SQLite gets foreign keys, WAL and real, immediate transactions (savepoints).

    A server database's pool replaces connections older than ``pool_recycle_s``; with ``pre_ping`` it also
    checks each one with a round trip before every use (see ``Settings.DATABASE_PRE_PING``).
    """
    if url.startswith("sqlite"):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _configure_sqlite)
        event.listen(engine, "begin", _begin_sqlite)
        return engine
    return create_engine(
        url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=pre_ping, pool_recycle=pool_recycle_s
    )


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin, so SAVEPOINT works.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _begin_sqlite(connection: Any) -> None:
    # IMMEDIATE: take the write lock when the transaction starts. Nearly every request writes (the audit log
    # records reads too); a deferred transaction that reads and then writes fails at once with "database is
    # locked" when another connection wrote meanwhile, whereas an immediate one waits (busy_timeout) its turn.
    if connection.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Return the session factory the service uses (objects stay readable after commit)."""
    return sessionmaker(bind=engine, expire_on_commit=False)


def unit_of_work(factory: sessionmaker[Session]) -> Generator[Session, None, None]:
    """Yield a session that commits if the caller succeeds and rolls back everything if it raises."""
    with factory() as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


@contextmanager
def unique_or_conflict(session: Session, message: str) -> Iterator[None]:
    """Make the block's changes in a savepoint; a unique-constraint clash undoes only them, as a ConflictError.

    The rest of the transaction stays usable (a page shows its form again with the message). Make the changes
    *inside* the block: opening the savepoint flushes whatever is already pending, outside it.
    """
    try:
        with session.begin_nested():
            yield
    except IntegrityError as err:
        raise ConflictError(message) from err
