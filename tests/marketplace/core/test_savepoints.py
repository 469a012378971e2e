"""What the platform does once a transaction commits (inline jobs, outbox drains, real-time
wake-ups) waits for the outermost commit: SQLAlchemy also reports a savepoint's release as a
commit, and acting then would run ahead of rows that are not committed yet (or never are)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from marketplace.app import create_app
from marketplace.core import jobs, realtime
from marketplace.core.db import db
from marketplace.core.outbox import processing
from marketplace.core.outbox.registry import handlers, write
from tests.factories import make_user


def _savepoint_then(end: str) -> None:
    with db.session.begin_nested():
        pass  # released
    getattr(db.session, end)()


def test_a_deferred_inline_job_waits_for_the_outer_commit(app_config):
    app = create_app({**app_config, "REDIS_URL": None})
    ran: list[int] = []
    with app.app_context():
        db.session.execute(text("SELECT 1"))  # a transaction is open
        jobs.enqueue(ran.append, 1, inline_after_commit=True)
        _savepoint_then("rollback")
        assert ran == []
        db.session.execute(text("SELECT 1"))
        jobs.enqueue(ran.append, 2, inline_after_commit=True)
        _savepoint_then("commit")
    assert ran == [2]


@pytest.mark.parametrize("end", ["rollback", "commit"])
def test_an_outbox_drain_is_requested_after_the_outer_commit_only(app, monkeypatch, end):
    dispatched: list[list] = []
    monkeypatch.setattr(processing, "dispatch", lambda records: dispatched.append(records))
    with app.app_context():
        topic = next(iter(handlers()))
        write(topic, {"probe": True})
        db.session.flush()
        with db.session.begin_nested():
            pass
        assert dispatched == []
        getattr(db.session, end)()
    assert len(dispatched) == (1 if end == "commit" else 0)


def test_a_real_time_wake_up_waits_for_the_outer_commit(client, app_config, monkeypatch):
    user, _ = make_user(client, "Streamer")
    woken: list[list[int]] = []
    monkeypatch.setattr(realtime.HUB, "wake", lambda users: woken.append(list(users)))
    inline = create_app({**app_config, "REDIS_URL": None})  # wakes this process's streams
    with inline.app_context():
        realtime.record(user["id"], "probe", {"n": 1})
        db.session.flush()
        with db.session.begin_nested():
            pass
        assert woken == []
        db.session.commit()
    assert woken == [[user["id"]]]
