"""``api_tokens.last_used_at`` is written, at most once a minute per token."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import event, update

from marketplace.accounts.models import ApiToken
from marketplace.core.db import db
from tests import factories


def _last_used(app):
    with app.app_context():
        return db.session.scalars(db.select(ApiToken.last_used_at)).one()


def test_last_used_at_is_written_and_throttled(app, client):
    user = factories.register(client)
    headers = factories.login(client, user["email"])
    assert _last_used(app) is None
    assert client.get("/api/v1/users/me", headers=headers).status_code == 200
    first = _last_used(app)
    assert first is not None
    writes = []
    with app.app_context():
        engine = db.engine

    def count(conn, cursor, statement, params, context, executemany):
        if statement.lstrip().upper().startswith("UPDATE API_TOKENS"):
            writes.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        for _ in range(5):
            assert client.get("/api/v1/users/me", headers=headers).status_code == 200
        assert writes == [] and _last_used(app) == first  # no write per request
        with app.app_context():
            db.session.execute(update(ApiToken).values(
                last_used_at=first - timedelta(minutes=2)))
            db.session.commit()
        writes.clear()
        assert client.get("/api/v1/users/me", headers=headers).status_code == 200
        assert len(writes) == 1 and _last_used(app) >= first
    finally:
        event.remove(engine, "before_cursor_execute", count)
