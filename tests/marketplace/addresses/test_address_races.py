"""Two address changes of one user at once take turns: the first address sent twice at once
gives one default and no 500, and the book's limit holds."""

from __future__ import annotations

import contextlib
import threading

import pytest

from marketplace.addresses import services
from tests.factories import ADDRESS, make_user

URL = "/api/v1/users/me/addresses"


def _at_once(app, monkeypatch, headers, bodies) -> list[int]:
    """POST ``bodies`` concurrently; each request waits (1 s at most) for the others just after
    it counted the book, so without turns all of them count the same addresses."""
    barrier = threading.Barrier(len(bodies), timeout=1)
    real = services.normalize

    def normalize(values):
        with contextlib.suppress(threading.BrokenBarrierError):  # others wait their turn
            barrier.wait()
        return real(values)

    monkeypatch.setattr(services, "normalize", normalize)
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)  # a 500 as in production
    codes: list[int] = []

    def post(body):
        with app.test_client() as c:
            codes.append(c.post(URL, json=body, headers=headers).status_code)

    threads = [threading.Thread(target=post, args=(b,)) for b in bodies]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sorted(codes)


def test_two_first_addresses_at_once_make_one_default(app, client, monkeypatch):
    _, headers = make_user(client, "Ada", address=False)
    codes = _at_once(app, monkeypatch, headers, [
        {**ADDRESS, "line1": "1 rue A"}, {**ADDRESS, "line1": "2 rue B"}])
    assert codes == [201, 201]
    book = client.get(URL, headers=headers).get_json()["items"]
    assert len(book) == 2 and sum(a["is_default"] for a in book) == 1


@pytest.mark.services  # SQLite locks no row: the count before the write is not serialised there
def test_the_limit_holds_under_concurrent_adds(app, client, monkeypatch):
    monkeypatch.setattr(services, "MAX_ADDRESSES", 2)
    _, headers = make_user(client, "Bea", address=False)
    codes = _at_once(app, monkeypatch, headers, [
        {**ADDRESS, "line1": f"{i} rue C"} for i in range(3)])
    assert codes == [201, 201, 409]
    assert len(client.get(URL, headers=headers).get_json()["items"]) == 2
