"""``GET /events/stream`` in-process: messages and notifications arrive, resume, errors."""

from __future__ import annotations

import contextlib
import json
import threading
import time

from tests import factories
from tests.factories import assert_error_shape


def _frames(resp):
    """Yield ``(id, event, data)`` of each frame as it arrives (in this thread: the stream's
    contexts live in the thread that iterates it)."""
    buffer = ""
    for chunk in resp.response:
        buffer += chunk.decode() if isinstance(chunk, bytes) else chunk
        while "\n\n" in buffer:
            frame, buffer = buffer.split("\n\n", 1)
            fields = dict(line.split(": ", 1) for line in frame.splitlines()
                          if ": " in line and not line.startswith(":"))
            if "id" in fields:
                yield int(fields["id"]), fields["event"], json.loads(fields["data"])


@contextlib.contextmanager
def _open(client, headers, last_id=None):
    if last_id is not None:
        headers = {**headers, "Last-Event-ID": str(last_id)}
    resp = client.get("/api/v1/events/stream", headers=headers, buffered=False)
    assert resp.status_code == 200
    assert resp.mimetype == "text/event-stream"
    try:
        yield _frames(resp)
    finally:
        resp.close()  # (before another stream opens: each holds the contexts it pushed)


def _later(func, *args, delay=0.3) -> threading.Thread:
    thread = threading.Thread(target=lambda: (time.sleep(delay), func(*args)), daemon=True)
    thread.start()
    return thread


def _conversation(client):
    seller, seller_h = factories.make_user(client, "Sally")
    buyer, buyer_h = factories.make_user(client, "Bob")
    listing = factories.create_listing(client, seller_h)
    conv = client.post(f"/api/v1/listings/{listing['id']}/conversations",
                       headers=buyer_h).get_json()
    return seller_h, buyer_h, conv


def _say(client, conv, headers, text):
    resp = client.post(f"/api/v1/conversations/{conv['id']}/messages", json={"body": text},
                       headers=headers)
    assert resp.status_code == 201
    return resp.get_json()


def test_message_and_notification_arrive_and_resume(client, app, drain_jobs, monkeypatch):
    monkeypatch.setitem(app.config, "STREAM_MAX_SECONDS", 6)
    seller_h, buyer_h, conv = _conversation(client)
    _say(client, conv, buyer_h, "before the stream opened")  # not replayed to a new stream
    drain_jobs()
    posted: dict = {}

    def buyer_writes():
        posted["at"] = time.monotonic()
        posted["msg"] = _say(client, conv, buyer_h, "Is the battery original?")

    writer = _later(buyer_writes)
    with _open(client, seller_h) as stream:
        event_id, kind, data = next(stream)
        # (1 s with real processes: test_stream_processes; here only a loose bound, the
        # in-process test runs alongside everything else)
        assert kind == "message" and time.monotonic() - posted["at"] < 3.0
        writer.join(10)  # the frame can beat the writer's HTTP response: wait for its body
        assert data["id"] == posted["msg"]["id"] and data["body"] == "Is the battery original?"
        drain_jobs()  # (in this thread: an RQ worker sets signal handlers)
        _, kind, note = next(stream)
        assert kind == "notification"
        assert note["kind"] == "message.received"
        assert note["data"]["conversation_id"] == conv["id"]
    # Resume after the message: everything newer arrives (older events of the last seconds
    # may come again: delivery is at least once, never with a gap).
    _say(client, conv, buyer_h, "Can you ship Monday?")
    drain_jobs()
    with _open(client, seller_h, last_id=event_id) as resumed:
        newer = []
        for frame in resumed:
            if frame[0] > event_id:
                newer.append(frame)
            if len(newer) == 3:
                break
    assert [g[1] for g in newer] == ["notification", "message", "notification"]
    assert newer[1][2]["body"] == "Can you ship Monday?"


def test_stream_needs_a_token_and_a_valid_last_event_id(client):
    assert_error_shape(client.get("/api/v1/events/stream"), 401)
    _, headers = factories.make_user(client)
    assert_error_shape(client.get("/api/v1/events/stream",
                                  headers={**headers, "Last-Event-ID": "abc"}), 422)


def test_others_do_not_see_my_events(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "STREAM_MAX_SECONDS", 2)
    seller_h, buyer_h, conv = _conversation(client)
    _, stranger_h = factories.make_user(client, "Eve")
    _later(_say, client, conv, buyer_h, "private")
    with _open(client, stranger_h) as stream:
        assert list(stream) == []
