"""``Idempotency-Key`` for authenticated POSTs that create something or move a state.

A client that sends ``Idempotency-Key: <key>`` may retry the request (timeout, dropped
connection) and get the first response back instead of a second execution::

    @blp.route("/trades", methods=["POST"])
    @blp.auth()
    @idempotent
    @blp.arguments(TradeCreateSchema)
    @blp.response(201, TradeSchema)
    def create_trade(data): ...

``@idempotent`` goes below ``@blp.auth()`` (keys belong to the caller) and above
``@blp.arguments`` / ``@blp.response`` (it stores the final response). It documents the header
in the OpenAPI spec; ``@blp.idempotent()`` (marketplace.core.http.blueprint) does the same and also
documents the 409 / 422 responses it can add.

How it works, per (user, key):

1. the key row is inserted *and committed* before the view runs, as ``in_progress``, with the
   request's fingerprint (method, path, SHA-256 of the body, JSON bodies canonicalised,
   ``multipart/form-data`` bodies taken by their parts, not their random boundary:
   ``multipart_body``). The unique constraint on (user_id, key) means two concurrent requests
   cannot both get here;
2. the loser sees the existing row: another fingerprint → 422; still in progress → 409
   ("a request with this key is in progress"); completed → the stored response is replayed
   with ``Idempotent-Replayed: true``;
3. the view runs; a response below 500 is stored (status, body, a few headers) and the key is
   completed. If the view raises (validation error, conflict, the payment provider down...) or
   answers 5xx, its transaction has rolled back: the key is released so the client can retry
   with the same key.

Keys expire 24 hours after first use; an expired key is reused as new. A key left
``in_progress`` by a process that died is taken over after ``STALE_AFTER``.
Requests without the header run normally (the header is optional).
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from copy import deepcopy
from datetime import datetime, timedelta
from typing import Any

from flask import make_response, request
from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
    delete,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from marketplace.core.db import db
from marketplace.core.dbtypes import BigIntPK, UTCDateTime, utcnow
from marketplace.core.errors import Conflict, InvalidInput
from marketplace.core.http.auth import current_user

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
TTL = timedelta(hours=24)
STALE_AFTER = timedelta(minutes=5)
_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")  # printable ASCII, no spaces
_STORED_HEADERS = ("Content-Type", "Location", "ETag")

IN_PROGRESS = "in_progress"
COMPLETED = "completed"


class IdempotencyKey(db.Model):
    __tablename__ = "idempotency_keys"
    __table_args__ = (
        UniqueConstraint("user_id", "key", name="uq_idempotency_keys_user_id_key"),
        Index("ix_idempotency_keys_expires_at", "expires_at"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(2000))
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default=IN_PROGRESS)
    response_status: Mapped[int | None] = mapped_column(Integer, default=None)
    response_body: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    response_headers: Mapped[dict[str, str] | None] = mapped_column(JSON, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    locked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


def fingerprint(method: str, path: str, body: bytes) -> str:
    """SHA-256 of method, path and body; a JSON body is canonicalised first (key order and
    whitespace do not matter). A body that is not JSON, or that Python's parser refuses (an
    integer of more than 4,300 digits, nesting too deep), is taken as it is."""
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":"),
                               ensure_ascii=False).encode()
    except (ValueError, RecursionError):
        canonical = body
    digest = hashlib.sha256()
    for part in (method.upper().encode(), path.encode(), canonical):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


_CHUNK = 1 << 16


def _file_digest(stream: Any) -> str:
    """SHA-256 of a file part, read in chunks (werkzeug spools a large part to a temporary
    file: it is not read into memory again); the stream is left where it was."""
    start = stream.tell()
    digest = hashlib.sha256()
    for chunk in iter(functools.partial(stream.read, _CHUNK), b""):
        digest.update(chunk)
    stream.seek(start)
    return digest.hexdigest()


def multipart_body(form: MultiDict, files: MultiDict) -> bytes:
    """A ``multipart/form-data`` body as its parsed parts, whatever its boundary (every client
    draws a new one per request, retries included): each field's name and value, each file's
    field name, filename, content type and SHA-256, sorted by field name (the parts of one
    name in the order sent). Not JSON: ``fingerprint`` takes it as it is."""
    parts = [["field", name, value] for name, values in sorted(form.lists())
             for value in values]
    parts += [["file", name, part.filename or "", part.content_type or "",
               _file_digest(part.stream)]
              for name, values in sorted(files.lists()) for part in values]
    return b"multipart/form-data\n" + json.dumps(parts, separators=(",", ":")).encode()


def _request_body() -> bytes:
    """What the fingerprint covers: the body, or a multipart body's parts (one werkzeug could
    not parse into any part is taken as it is)."""
    if request.mimetype == "multipart/form-data" and (request.form or request.files):
        return multipart_body(request.form, request.files)
    return request.get_data()


def _user_id() -> int:
    return current_user().id


def _claim(user_id: int, key: str, fp: str) -> IdempotencyKey | int:
    """Insert and commit the key row; return its id, or the existing row to answer from."""
    now = utcnow()
    for _ in range(2):
        row = IdempotencyKey(user_id=user_id, key=key, method=request.method,
                             path=request.full_path[:2000], fingerprint=fp, status=IN_PROGRESS,
                             created_at=now, locked_at=now, expires_at=now + TTL)
        db.session.add(row)
        try:
            db.session.commit()
            return row.id
        except IntegrityError:
            db.session.rollback()
        existing = db.session.scalar(select(IdempotencyKey).where(
            IdempotencyKey.user_id == user_id, IdempotencyKey.key == key))
        if existing is None:
            continue  # released or expired meanwhile: try again
        if existing.expires_at <= now:
            db.session.execute(delete(IdempotencyKey).where(
                IdempotencyKey.id == existing.id, IdempotencyKey.expires_at <= now))
            db.session.commit()
            continue
        if existing.fingerprint != fp:
            return existing
        if existing.status == IN_PROGRESS and existing.locked_at <= now - STALE_AFTER:
            # Abandoned by a dead process: take it over, unless someone else just did.
            taken = db.session.execute(
                update(IdempotencyKey)
                .where(IdempotencyKey.id == existing.id,
                       IdempotencyKey.status == IN_PROGRESS,
                       IdempotencyKey.locked_at == existing.locked_at)
                .values(locked_at=now)).rowcount
            db.session.commit()
            if taken:
                return existing.id
        return existing
    raise Conflict("A request with this Idempotency-Key is in progress.")


def _answer(existing: IdempotencyKey, fp: str) -> Response:
    if existing.fingerprint != fp:
        raise InvalidInput(
            "This Idempotency-Key was already used for a different request.",
            {HEADER: ["Reused with another method, path or body."]})
    if existing.status != COMPLETED:
        raise Conflict("A request with this Idempotency-Key is in progress; retry later.")
    response = Response(existing.response_body or b"", status=existing.response_status,
                        headers=existing.response_headers or {})
    response.headers[REPLAYED_HEADER] = "true"
    return response


def _release(row_id: int) -> None:
    db.session.rollback()
    db.session.execute(delete(IdempotencyKey).where(IdempotencyKey.id == row_id))
    db.session.commit()


def _store(row_id: int, response: Response) -> None:
    db.session.rollback()  # whatever the view left open; its work is committed or not
    headers = {name: value for name in _STORED_HEADERS
               if (value := response.headers.get(name)) is not None}
    db.session.execute(
        update(IdempotencyKey).where(IdempotencyKey.id == row_id)
        .values(status=COMPLETED, response_status=response.status_code,
                response_body=response.get_data(), response_headers=headers))
    db.session.commit()


PARAMETER_DOC = {
    "in": "header", "name": HEADER, "required": False,
    "schema": {"type": "string", "maxLength": 255},
    "description": (
        "Optional. A unique key (e.g. a UUID) per intended operation. Retrying with the "
        "same key and body within 24 h returns the first response (with "
        f"`{REPLAYED_HEADER}: true`) instead of running it again. The same key with "
        "another body is a 422; while the first request runs, a 409."),
}


def idempotent(view):
    """Make an authenticated view honour ``Idempotency-Key`` (see the module docstring)."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any):
        key = request.headers.get(HEADER)
        if key is None:
            return view(*args, **kwargs)
        if not _KEY.match(key):
            raise InvalidInput("Bad Idempotency-Key header.",
                               {HEADER: ["1 to 255 printable ASCII characters, no spaces."]})
        fp = fingerprint(request.method, request.full_path, _request_body())
        claimed = _claim(_user_id(), key, fp)
        if isinstance(claimed, IdempotencyKey):
            return _answer(claimed, fp)
        try:
            response = view(*args, **kwargs)
        except BaseException:
            _release(claimed)
            raise
        if not isinstance(response, Response):
            response = make_response(response)
        if response.status_code >= 500:
            _release(claimed)
        else:
            _store(claimed, response)
        return response

    # Document the header (flask-smorest collects parameters from ``_apidoc``).
    wrapper._apidoc = deepcopy(getattr(wrapper, "_apidoc", {}))  # type: ignore[attr-defined]
    wrapper._apidoc.setdefault("arguments", {}).setdefault(  # type: ignore[attr-defined]
        "parameters", []).append(deepcopy(PARAMETER_DOC))
    return wrapper


def purge_expired(now: datetime | None = None) -> int:
    """Delete expired keys; return how many."""
    result = db.session.execute(
        delete(IdempotencyKey).where(IdempotencyKey.expires_at <= (now or utcnow())))
    db.session.commit()
    return result.rowcount or 0
