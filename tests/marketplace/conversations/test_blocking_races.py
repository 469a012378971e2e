"""A block sent twice at once (a double tap) answers 200 twice: PUT is idempotent."""

from __future__ import annotations

import threading

from marketplace.conversations.models import UserBlock
from marketplace.core.db import db
from tests import factories


def test_a_block_sent_twice_at_once_is_200_twice(client, app, monkeypatch):
    _, a_h = factories.make_user(client, "A")
    b, _ = factories.make_user(client, "B")
    # Both requests wait just before adding the row: both have found no block yet.
    barrier = threading.Barrier(2, timeout=10)
    real_add = db.session.add

    def add(obj, *args, **kwargs):
        if isinstance(obj, UserBlock):
            barrier.wait()
        return real_add(obj, *args, **kwargs)

    monkeypatch.setattr(db.session, "add", add)
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)  # a 500 as in production
    codes: list[int] = []

    def put():
        with app.test_client() as c:
            codes.append(c.put(f"/api/v1/users/me/blocks/{b['id']}", headers=a_h).status_code)

    threads = [threading.Thread(target=put) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert codes == [200, 200]
    blocks = client.get("/api/v1/users/me/blocks", headers=a_h).get_json()["items"]
    assert [x["blocked_id"] for x in blocks] == [b["id"]]
