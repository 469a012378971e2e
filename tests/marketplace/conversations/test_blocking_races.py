"""A block sent twice at once (a double tap) answers 200 twice: PUT is idempotent."""

from __future__ import annotations

import threading

from marketplace.conversations.models import UserBlock
from tests import factories
from tests.factories import pause_before_adding


def test_a_block_sent_twice_at_once_is_200_twice(client, app, monkeypatch):
    _, a_h = factories.make_user(client, "A")
    b, _ = factories.make_user(client, "B")
    pause_before_adding(monkeypatch, UserBlock)  # both found no block yet
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
