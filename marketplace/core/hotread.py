"""Hot reads: a fixed SELECT, built once from the models, run through the DBAPI cursor.

SQLAlchemy's execution path (cache key, execution context, result metadata, ORM loading)
costs several hundred microseconds per statement in Python, more than PostgreSQL takes to
answer a primary-key lookup. For the few reads on every busy request (a listing's detail, the
carbon account), ``HotRead`` keeps what SQLAlchemy gives -- SQL generated from the typed
models, the dialect's bind and result processing (UTC datetimes, JSON), the pooled connection
of the request's session with its transaction or autocommit, errors as ``DBAPIError`` (so
the API's 503 handling and pool invalidation apply) -- and skips the rest: the statement is
compiled once per dialect and each call is one ``cursor.execute`` and one ``fetchone``.

Only plain statements: bind parameters given by name at call time or fixed in the statement,
no ``IN`` lists that expand (``any_of`` on SQLite), no ORM entities (rows come back as dicts
keyed by the selected columns' names).

It leans on four SQLAlchemy internals, stable across 2.0 and 2.1 (the version range of
pyproject.toml): ``Compiled._bind_processors``, ``TypeEngine._cached_result_processor``,
``Connection._has_events`` and ``Connection._handle_dbapi_exception``. The tests that would
fail if one changed: tests/marketplace/core/test_hotread.py (values, events) and
test_db_faults.py (a dropped connection).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select
from sqlalchemy.engine import Connection, Dialect

from marketplace.core.db import read_connection


class _Plan:
    __slots__ = ("sql", "names", "types", "processors", "defaults", "binds", "positional",
                 "required", "keys")

    def __init__(self, stmt: Select, dialect: Dialect) -> None:
        compiled = stmt.compile(dialect=dialect)
        if any(b.expanding for b in compiled.binds.values()):
            raise TypeError("HotRead does not take expanding IN parameters")
        self.sql = compiled.string
        self.names = tuple(c.key for c in stmt.selected_columns)
        if len(set(self.names)) != len(self.names):
            raise TypeError(f"HotRead needs distinct column names, got {self.names}")
        self.types = tuple(c.type for c in stmt.selected_columns)
        self.processors: tuple | None = None  # from the first result's column type codes
        self.defaults = compiled.construct_params(_check=False)
        self.required = frozenset(b.key for b in compiled.binds.values() if b.required)
        self.binds = dict(compiled._bind_processors)
        self.positional = tuple(compiled.positiontup) if compiled.positional else None
        # The names the DBAPI sees (SQLAlchemy escapes some characters in bind names).
        escaped = compiled.escaped_bind_names or {}
        self.keys = {name: escaped.get(name, name) for name in self.defaults}


class HotRead:
    """``HotRead(select(...))``: ``.first(**params)`` is the first row as a dict, or None."""

    def __init__(self, stmt: Select) -> None:
        self._stmt = stmt
        self._plans: dict[str, _Plan] = {}

    def _plan(self, dialect: Dialect) -> _Plan:
        plan = self._plans.get(dialect.name)
        if plan is None:
            plan = self._plans[dialect.name] = _Plan(self._stmt, dialect)
        return plan

    def first(self, **params: Any) -> dict[str, Any] | None:
        """In the session's transaction when it has one; a read-only view's first read runs
        on a connection of its own in autocommit (no session state to set up and tear down)."""
        with read_connection() as conn:
            return self._first(conn, params)

    def _first(self, conn: Connection, params: dict[str, Any]) -> dict[str, Any] | None:
        plan = self._plan(conn.dialect)
        if not plan.required <= params.keys():
            raise TypeError(f"HotRead missing parameters: {sorted(plan.required - params.keys())}")
        values = {**plan.defaults, **params}
        for name, process in plan.binds.items():
            values[name] = process(values[name])
        args: Any = ({plan.keys[n]: v for n, v in values.items()} if plan.positional is None
                     else [values[n] for n in plan.positional])
        row, description = _fetchone(conn, plan.sql, args, plan.processors is None)
        if row is None:
            return None
        if plan.processors is None:
            plan.processors = tuple(
                t._cached_result_processor(conn.dialect, d[1])
                for t, d in zip(plan.types, description, strict=True))
        return {name: value if process is None else process(value)
                for name, process, value in zip(plan.names, plan.processors, row, strict=True)}


class _CursorContext:
    """Stands in for SQLAlchemy's execution context in the cursor events: listeners (Sentry's
    SQL spans) read its dialect and keep their state on it between the two events."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect


def _fetchone(conn: Connection, sql: str, args: Any,
              describe: bool) -> tuple[tuple | None, Any]:
    dialect = conn.dialect
    proxied = conn.connection
    cursor = proxied.cursor()
    # Engine listeners (statement counters, tracing) see the statement as any other.
    events = conn._has_events or conn.engine._has_events
    context = _CursorContext(dialect) if events else None
    try:
        if events:
            conn.dispatch.before_cursor_execute(conn, cursor, sql, args, context, False)
        cursor.execute(sql, args)
        if events:
            conn.dispatch.after_cursor_execute(conn, cursor, sql, args, context, False)
        return cursor.fetchone(), cursor.description if describe else None
    except dialect.loaded_dbapi.Error as exc:
        # SQLAlchemy's own handling, as for any statement: wrapped as DBAPIError (the API's
        # 503 for a lost connection), ``handle_error`` events, and on a disconnect the
        # connection and every older pooled one invalidated.
        conn._handle_dbapi_exception(exc, sql, args, cursor, None)
        raise  # not reached: the handler always raises
    finally:
        cursor.close()
