"""``Idempotency-Key`` on ``POST /uploads``: a retry of the same file, which any client sends
with a new multipart boundary, gets the first response back; another file is a 422."""

from __future__ import annotations

import io
import os

from PIL import Image
from sqlalchemy import func, select

from marketplace.core.db import db
from marketplace.uploads.models import Upload
from tests.factories import make_user
from tests.marketplace.uploads.conftest import encoded, upload


def _count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Upload))


def _noise_jpeg(size=(800, 600)) -> bytes:
    """A JPEG of random pixels: large (werkzeug spools the part to a temporary file)."""
    out = io.BytesIO()
    Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3)).save(out, "JPEG",
                                                                         quality=95)
    return out.getvalue()


def test_a_retried_upload_with_the_same_key_is_replayed(app, client, backend):
    _, h = make_user(client)
    keyed = {**h, "Idempotency-Key": "upload-1"}
    image = _noise_jpeg()
    assert len(image) > 500_000
    first = upload(client, keyed, image)
    assert first.status_code == 201, first.get_json()
    assert (first.get_json()["width"], first.get_json()["height"]) == (800, 600)
    again = upload(client, keyed, image)  # the same file, a fresh boundary
    assert again.status_code == 201, again.get_json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.get_json() == first.get_json()
    assert _count(app) == 1


def test_another_file_or_filename_with_the_same_key_is_a_422(app, client, backend):
    _, h = make_user(client)
    keyed = {**h, "Idempotency-Key": "upload-2"}
    assert upload(client, keyed, encoded("JPEG")).status_code == 201
    other = upload(client, keyed, encoded("JPEG", color="red"))
    assert other.status_code == 422 and "Idempotency-Key" in other.get_json()["errors"]
    renamed = upload(client, keyed, encoded("JPEG"), name="other.jpg")
    assert renamed.status_code == 422
    assert _count(app) == 1


def test_uploads_are_limited_per_user_and_a_replay_is_not_counted(app, client, backend,
                                                                  monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_LIMIT_PER_USER", "2 per hour")
    _, h = make_user(client)
    _, other = make_user(client)
    image = encoded("JPEG")
    keyed = {**h, "Idempotency-Key": "limited-1"}
    assert upload(client, keyed, image).status_code == 201
    assert upload(client, keyed, image).status_code == 201  # the replay: not counted
    assert upload(client, h, image).status_code == 201
    refused = upload(client, h, image)
    assert refused.status_code == 429 and refused.headers.get("Retry-After")
    assert upload(client, other, image).status_code == 201  # per user
