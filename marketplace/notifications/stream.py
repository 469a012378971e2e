"""``GET /events/stream``: the caller's notifications and new messages as Server-Sent Events.

Frames: ``event: notification`` (a notification as in the list) and ``event: message`` (a
message of one of the caller's conversations), each with ``id:`` (a per-user increasing
stream id) and ``data:`` (JSON). Comments (``: keep-alive``) every 15 s keep proxies from
closing an idle stream. Reconnect with ``Last-Event-ID`` to resume: nothing is skipped,
ids may repeat (see ``core.realtime``). Needs a threaded or evented server (gunicorn
``gthread`` or ``gevent``, the dev server): a sync worker would be held by one stream.
"""

from __future__ import annotations

import re

from flask import Response, current_app, request, stream_with_context

from marketplace.core import realtime
from marketplace.core.errors import InvalidInput
from marketplace.core.http.auth import current_user
from marketplace.core.http.blueprint import Blueprint

blp = Blueprint("events", __name__, url_prefix="/api/v1",
                description="Real-time stream of notifications and messages (SSE)")

_LAST_ID = re.compile(r"^\d{1,18}$")


def _last_event_id() -> int | None:
    raw = request.headers.get("Last-Event-ID")
    if raw is None or raw.strip() == "":
        return None
    if not _LAST_ID.match(raw.strip()):
        raise InvalidInput("Last-Event-ID must be an event id from this stream.",
                           {"Last-Event-ID": ["Not a valid event id."]})
    return int(raw.strip())


@blp.route("/events/stream", methods=["GET"])
@blp.auth()
@blp.doc(parameters=[{"in": "header", "name": "Last-Event-ID", "required": False,
                      "schema": {"type": "string"},
                      "description": "Resume after this event id."}],
         responses={200: {"description": "A `text/event-stream` of `notification` and "
                                         "`message` events",
                          "content": {"text/event-stream": {"schema": {"type": "string"}}}}})
@blp.errors(422)
def event_stream():
    """Server-Sent Events: the caller's new notifications and messages, as they happen."""
    frames = realtime.stream(current_user().id, _last_event_id(),
                             float(current_app.config["STREAM_MAX_SECONDS"]))
    return Response(stream_with_context(frames), mimetype="text/event-stream",
                    headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
