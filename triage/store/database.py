"""Opening the case store: one SQLAlchemy engine per process, SQLite tuned for several
processes, PostgreSQL as it comes, and the schema brought to the newest migration.

JSON columns (a case's result, caller, location) are written by ``jsontext.text``: orjson,
a tenth of the standard library's time and Chinese stored as UTF-8 rather than as \\u
escapes; read by the standard library, which reads both, and an integer beyond 64 bits
exactly (orjson reads one as a float).

SQLite: WAL journal (readers never block the writer), a 10 s busy timeout, and every
write transaction started with ``BEGIN IMMEDIATE`` so that two processes serialise at the
start of a transaction instead of failing with "database is locked" half-way through it.
"""
from __future__ import annotations

import os
import weakref
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from .. import jsontext
from ..errors import SettingError, StoreError

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
# The newest migration's revision, which a database at it needs no migrating to (a restart):
# then Alembic is not even imported (0.13 s of a start). tests/test_store.py checks it against
# the migration scripts, so a new migration that does not change it fails the tests.
HEAD_REVISION = "0005"


def open_engine(url: str) -> Engine:
    """An engine for ``url`` (``sqlite:///path`` or ``postgresql://...``).

    Raises:
        SettingError: the URL cannot be parsed or names a database triage does not support.
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise SettingError(f"TRIAGE_DATABASE_URL={url!r} is not a database URL; "
                           "use sqlite:///path/to/triage.db or postgresql://user@host/db") from None
    if parsed.get_backend_name() == "sqlite":
        engine = _sqlite_engine(parsed)
    elif parsed.get_backend_name() == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        # No ping before each transaction (a round trip per request): a connection that died
        # fails its transaction with StoreError (503, safe to retry: intake is idempotent)
        # and SQLAlchemy then replaces every pooled connection.
        engine = create_engine(parsed, pool_size=5, max_overflow=5, pool_recycle=3600, json_serializer=jsontext.text)
    else:
        raise SettingError(f"database {parsed.get_backend_name()!r} is not supported; use sqlite or postgresql")
    # A forked worker (gunicorn --preload) must not reuse the parent's sockets.
    reference = weakref.ref(engine)
    os.register_at_fork(after_in_child=lambda: reference() and reference().dispose(close=False))
    return engine


def _sqlite_engine(url) -> Engine:
    if url.database and url.database != ":memory:":
        folder = Path(url.database).parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise SettingError(f"cannot make the folder {folder} for the SQLite database {url.database} "
                               f"({error.strerror}); set TRIAGE_DATABASE_URL to sqlite:///a/writable/path.db") from None
    engine = create_engine(url, connect_args={"timeout": 10}, json_serializer=jsontext.text)

    @event.listens_for(engine, "connect")
    def _configure(connection, _record):
        connection.isolation_level = None  # let SQLAlchemy's begin event issue BEGIN itself
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # FULL: a commit is on disk before the 201 goes out. NORMAL (WAL) survives a process
        # crash but may lose the last acknowledged cases to a power cut or an OS crash; it
        # saved 0.1-0.4 ms a stored case here (bench/store_intake.py), not worth a lost case.
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection):
        connection.exec_driver_sql("BEGIN" if connection.get_execution_options().get("read_only")
                                   else "BEGIN IMMEDIATE")

    return engine


def _alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def migrate(engine: Engine) -> str:
    """Bring the schema to the newest migration; returns the revision now in place.

    Raises:
        StoreError: the database cannot be reached or a migration fails.
    """
    try:
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":  # one migrator at a time across workers
                connection.execute(text("SELECT pg_advisory_xact_lock(1234512345)"))
            if _stored_revision(connection) == HEAD_REVISION:
                return HEAD_REVISION
            from alembic import command

            config = _alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
            return _stored_revision(connection)
    except SQLAlchemyError as error:
        raise StoreError(f"cannot open the case store at {engine.url.render_as_string()}: "
                         f"{error.__class__.__name__}: {error.orig if hasattr(error, 'orig') else error}") from None


def _stored_revision(connection) -> str | None:
    """The revision the database on ``connection`` is at, or None before its first migration."""
    if not inspect(connection).has_table("alembic_version"):
        return None
    return revision(connection)


def revision(connection) -> str | None:
    """The revision in Alembic's table; a database error where the table is missing."""
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
