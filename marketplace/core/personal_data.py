"""Registries through which each feature contributes to a user's data export and erasure.

A feature's ``wiring.register(app)`` calls, for the personal data it keeps:

- ``register_exporter(app, name, func)``: ``func(user_id)`` returns JSON-able data (usually a
  list of dicts); the export archive gets it as ``<name>.json``. Only the user's own records.
- ``register_eraser(app, name, func)``: ``func(user_id)`` erases or pseudonymises what the
  feature keeps about the user, in the caller's transaction (no commit). Records others or
  the law depend on (ledger lines, payouts) stay, keyed by the now pseudonymous user id.
- ``register_erasure_blocker(app, name, func)``: ``func(user_id)`` returns a reason (str) the
  account cannot be closed now (a trade in flight, money owed), or None.

Names are unique per app; registering one twice is an error (two features exporting the same
file). Functions run in registration order (the order of FEATURES in ``marketplace.app``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, current_app

_EXTENSION = "reloop.personal_data"

# What replaces a closed account's words and name where other people keep a copy of them (a
# message in a thread, its preview in a notification, an event's data).
REMOVED_TEXT = "[removed: the author closed their account]"
FORMER_MEMBER = "Former member"
SCRUBBED_SENDER = {"sender_name": FORMER_MEMBER, "preview": REMOVED_TEXT}

Exporter = Callable[[int], Any]
Eraser = Callable[[int], None]
Blocker = Callable[[int], "str | None"]


def _registry(app: Flask) -> dict[str, dict[str, Callable]]:
    return app.extensions.setdefault(
        _EXTENSION, {"exporters": {}, "erasers": {}, "blockers": {}})


def _add(app: Flask, kind: str, name: str, func: Callable) -> None:
    entries = _registry(app)[kind]
    if name in entries:
        raise RuntimeError(f"personal data {kind[:-1]} {name!r} is already registered")
    entries[name] = func


def register_exporter(app: Flask, name: str, func: Exporter) -> None:
    _add(app, "exporters", name, func)


def register_eraser(app: Flask, name: str, func: Eraser) -> None:
    _add(app, "erasers", name, func)


def register_erasure_blocker(app: Flask, name: str, func: Blocker) -> None:
    _add(app, "blockers", name, func)


def exporters(app: Flask | None = None) -> dict[str, Exporter]:
    return dict(_registry(app or current_app)["exporters"])


def export(user_id: int) -> dict[str, Any]:
    """``{name: data}`` from every registered exporter."""
    return {name: func(user_id) for name, func in exporters().items()}


def blockers(user_id: int) -> list[str]:
    """Reasons the account cannot be closed now (empty: it can)."""
    reasons = (func(user_id) for func in _registry(current_app)["blockers"].values())
    return [r for r in reasons if r]


def erase(user_id: int) -> list[str]:
    """Run every eraser in the current transaction; return their names."""
    erasers = _registry(current_app)["erasers"]
    for func in erasers.values():
        func(user_id)
    return list(erasers)


def as_dicts(rows: Any, exclude: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Model rows as dicts of their columns (every column but ``exclude``: secrets, search
    vectors), for exporters."""
    return [{c.key: getattr(row, c.key) for c in row.__table__.columns if c.key not in exclude}
            for row in rows]
