"""The database: Flask-SQLAlchemy with typed declarative models, and Flask-Migrate."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import current_app, has_request_context, request
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import BigInteger, MetaData, String, any_, cast, event, func, literal, select
from sqlalchemy.dialects.postgresql import ARRAY, JSON
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


_READ_ONLY_ATTR = "_reloop_read_only"
_AUTOCOMMIT = "reloop_autocommit_engine"


def read_only(view: Callable) -> Callable:
    """Mark a view that only reads: on PostgreSQL its GET/HEAD requests run their statements
    in autocommit (one round trip each, with no ``BEGIN`` before and no ``ROLLBACK`` after).

    Under READ COMMITTED every statement already reads its own snapshot, so reads see what
    they would have seen in a transaction. A marked view must not write through the session:
    in autocommit a write would be committed at once, not with the request, and a row lock
    would be released at once. The test suite fails any marked request that does
    (``CHECK_READS``). A deliberate write in a transaction of its own on ``db.engine`` (a
    token's last use) is not affected."""
    setattr(view, _READ_ONLY_ATTR, True)
    return view


def read_only_request() -> bool:
    """Whether the current request is a GET/HEAD of a view marked ``read_only``."""
    if not has_request_context() or request.method not in ("GET", "HEAD"):
        return False
    view = current_app.view_functions.get(request.endpoint or "")
    return getattr(view, _READ_ONLY_ATTR, False)


@contextmanager
def read_connection() -> Iterator[Connection]:
    """The connection for a read: the session's, in its transaction, once it has one; for a
    read-only view's reads before that, a pooled connection of the autocommit engine of its
    own (no session state set up and torn down per request)."""
    if not db.session().in_transaction() and read_only_request():
        engine = getattr(db.engine, _AUTOCOMMIT, None)  # PostgreSQL only
        if engine is not None:
            with engine.connect() as conn:
                yield conn
            return
    yield db.session.connection()


class Session(FlaskSession):
    """Flask-SQLAlchemy's session, choosing the autocommit engine for read-only views."""

    def get_bind(self, mapper: Any = None, clause: Any = None, bind: Any = None,
                 **kwargs: Any) -> Any:
        engine = super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)
        if bind is not None or not read_only_request():
            return engine
        return getattr(engine, _AUTOCOMMIT, engine)


db = SQLAlchemy(model_class=Base, session_options={"class_": Session})
migrate = Migrate(compare_type=True, render_as_batch=True)


def init_app(app) -> None:
    """Bind the database and migrations to ``app``; SQLite gets foreign keys, WAL and a busy
    timeout on every connection."""
    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR))
    if not event.contains(Engine, "connect", _sqlite_pragmas):
        event.listen(Engine, "connect", _sqlite_pragmas)
    with app.app_context():
        engine = db.engine
    if engine.dialect.name != "sqlite":
        ping_when_idle(engine, app.config["DATABASE_PING_IDLE_SECONDS"])
        # The same pool; its connections are switched to autocommit while checked out by
        # a read-only view (psycopg sets and resets this without a round trip).
        setattr(engine, _AUTOCOMMIT, engine.execution_options(isolation_level="AUTOCOMMIT"))
    if CHECK_READS and not event.contains(Session, "do_orm_execute", _no_write_on_read):
        event.listen(Session, "do_orm_execute", _no_write_on_read)
        event.listen(Session, "before_flush", _no_flush_on_read)


# Set by the test suite: a read-only request (``read_only_request``) that writes or locks rows
# through the session fails with ``WriteOnRead`` (its view must not be marked ``read_only``).
CHECK_READS = False
_WRITE = re.compile(r"\s*(INSERT|UPDATE|DELETE|MERGE)\b|.*\bFOR (NO KEY )?(UPDATE|SHARE)\b",
                    re.IGNORECASE | re.DOTALL)


class WriteOnRead(AssertionError):
    """A GET/HEAD of a view marked ``read_only`` wrote or locked rows through the session."""


def _no_write_on_read(state: Any) -> None:
    if not read_only_request():
        return
    stmt = state.statement
    locks = getattr(stmt, "_for_update_arg", None) is not None
    if state.is_insert or state.is_update or state.is_delete or locks or (
            not state.is_select and _WRITE.match(str(stmt))):
        raise WriteOnRead(f"{request.method} {request.path} writes: {str(stmt)[:120]}")


def _no_flush_on_read(session: Any, flush_context: Any, instances: Any) -> None:
    if read_only_request() and (session.new or session.dirty or session.deleted):
        raise WriteOnRead(f"{request.method} {request.path} flushes changes")


_LAST_USED = "reloop_last_used"


def ping_when_idle(engine: Engine, idle_seconds: float) -> None:
    """Check a pooled connection before use only when it sat idle longer than
    ``idle_seconds`` (instead of ``pool_pre_ping``'s round trip on every checkout).

    A connection in steady use is known to be alive; one that sat in the pool may have been
    closed by a PostgreSQL restart, a proxy or an idle timeout, and is pinged (one
    ``SELECT 1`` in autocommit). A dead one is discarded and the pool tries a new connection
    (``DisconnectionError``). A connection that dies while in use is caught as before: the
    request fails with 503 and SQLAlchemy invalidates the pool's older connections."""
    if getattr(engine, "reloop_ping_idle", None) is not None:
        return
    engine.reloop_ping_idle = idle_seconds  # type: ignore[attr-defined]
    dialect = engine.dialect

    def mark_used(dbapi_connection, connection_record) -> None:
        connection_record.info[_LAST_USED] = time.monotonic()

    def checkout(dbapi_connection, connection_record, connection_proxy) -> None:
        if time.monotonic() - connection_record.info.get(_LAST_USED, 0.0) <= idle_seconds:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as exc:
            if dialect.is_disconnect(exc, dbapi_connection, None):
                raise DisconnectionError("connection found dead before use") from exc
            raise
        connection_record.info[_LAST_USED] = time.monotonic()

    event.listen(engine, "connect", mark_used)
    event.listen(engine, "checkin", mark_used)
    event.listen(engine, "checkout", checkout)


def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()


def any_of(column: Any, values: Any, strings: bool = False) -> Any:
    """``column IN (values)``; on PostgreSQL ``column = ANY(:array)``: one parameter whatever
    the number of values (nothing per value to render, bind or parse, one plan shape).
    Strings travel as one JSON document (``IN (SELECT json_array_elements_text(:doc))``):
    the driver escapes a ``text[]`` element by element, a regular expression each."""
    values = list(values)
    if db.session.get_bind().dialect.name == "postgresql":
        if strings:
            return column.in_(select(func.json_array_elements_text(
                cast(literal(json.dumps(values), String), JSON))))
        return column == any_(literal(values, ARRAY(BigInteger)))
    return column.in_(values)
