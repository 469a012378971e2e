"""Uploads: accept an image (re-encoded, stored), thumbnails by job, attach to what refers to
it, serve media, purge what nothing refers to.

Order of writes: the image is stored first, then the row and its ``uploads.thumbnail`` outbox
record commit together; if the commit fails the stored object is deleted (best effort; a
leftover object has no row and is never served). The purge deletes the objects first, then the
rows, so a failure leaves rows that the next run purges again.
"""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, select, update

from marketplace.core import jobs, outbox
from marketplace.core.db import db
from marketplace.core.dbtypes import utcnow
from marketplace.core.errors import InvalidInput, NotFound
from marketplace.uploads import imaging
from marketplace.uploads.models import Upload
from marketplace.uploads.storage import storage

log = logging.getLogger("marketplace.uploads")
THUMBNAIL_TOPIC = "uploads.thumbnail"


def create(owner_id: int, data: bytes) -> Upload:
    encoded = imaging.reencode(data, current_app.config["UPLOAD_MAX_PIXELS"])
    token = secrets.token_urlsafe(18)
    upload = Upload(owner_id=owner_id, key=f"{token}.{encoded.ext}",
                    thumb_key=f"{token}_t.{encoded.ext}", content_type=encoded.content_type,
                    width=encoded.width, height=encoded.height, size_bytes=len(encoded.data))
    store = storage()
    store.put(upload.key, encoded.data, encoded.content_type)
    try:
        db.session.add(upload)
        db.session.flush()
        outbox.write(THUMBNAIL_TOPIC, {"upload_id": upload.id})
        db.session.commit()
    except Exception:
        db.session.rollback()
        _forget(upload.key)
        raise
    return upload


def _forget(key: str) -> None:
    try:
        storage().delete(key)
    except Exception:  # the row never committed: the object is unreachable anyway
        log.warning("could not delete orphaned upload object %s", key)


def enqueue_thumbnail(message) -> None:
    """Outbox handler (``uploads.thumbnail``): the thumbnail is made by a job, outside the
    drain's transaction (object storage is a network service: no lock is held while it
    answers)."""
    jobs.enqueue(make_thumbnail, int(message.payload["upload_id"]), queue="default")


def make_thumbnail(upload_id: int) -> str:
    """The job: store the upload's thumbnail and mark it ready. Idempotent."""
    upload = db.session.get(Upload, upload_id)
    if upload is None:
        return "missing"
    if upload.thumb_ready:
        return "ready"
    key, thumb_key = upload.key, upload.thumb_key
    db.session.rollback()  # no transaction open while storage answers
    data = storage().get(key)
    if data is None:  # purged meanwhile
        return "missing"
    thumb, content_type = imaging.thumbnail(data)
    storage().put(thumb_key, thumb, content_type)
    db.session.execute(update(Upload).where(Upload.id == upload_id).values(thumb_ready=True))
    db.session.commit()
    return "made"


def retry_thumbnails(grace: timedelta) -> int:
    """The periodic job: re-enqueue thumbnails still missing after ``grace`` (Redis was down,
    a worker died)."""
    ids = db.session.scalars(select(Upload.id).where(
        Upload.thumb_ready.is_(False), Upload.created_at < utcnow() - grace)
        .order_by(Upload.id).limit(1000)).all()
    db.session.rollback()
    for upload_id in ids:
        jobs.enqueue(make_thumbnail, upload_id, queue="default")
    return len(ids)


def get_own(upload_id: int, owner_id: int) -> Upload:
    upload = db.session.get(Upload, upload_id)
    if upload is None or upload.owner_id != owner_id:
        raise NotFound("No such upload.")
    return upload


def media(key: str) -> tuple[bytes | None, str | None, str]:
    """(bytes, None, content type) to serve, or (None, presigned URL, _) to redirect to.
    Only keys of existing uploads (image or thumbnail) are served."""
    upload = db.session.scalar(select(Upload).where(Upload.key == key))
    if upload is None:
        upload = db.session.scalar(select(Upload).where(Upload.thumb_key == key,
                                                        Upload.thumb_ready.is_(True)))
    if upload is None:
        raise NotFound("No such image.")
    store = storage()
    url = store.presigned_url(key)
    if url is not None:
        return None, url, upload.content_type
    data = store.get(key)
    if data is None:
        raise NotFound("No such image.")
    return data, None, upload.content_type


# ---- references ---------------------------------------------------------------------------
def attach(owner_id: int, upload_ids: list[int], kind: str, ref_id: int,
           field: str = "photo_ids") -> list[dict]:
    """Make ``upload_ids`` (the owner's) the uploads ``kind`` ``ref_id`` refers to, in this
    order; uploads it referred to before and no longer does become unattached (purged after
    ``UPLOAD_UNREFERENCED_TTL_SECONDS``). Returns their public descriptions. Does not commit.
    422 under ``field`` for an unknown id, another user's upload, or one used elsewhere."""
    if len(set(upload_ids)) != len(upload_ids):
        raise InvalidInput("A photo is given twice.", {field: ["Duplicate upload ids."]})
    uploads = {u.id: u for u in db.session.scalars(
        select(Upload).where(Upload.id.in_(upload_ids)).with_for_update())} if upload_ids else {}
    bad = [i for i in upload_ids
           if i not in uploads or uploads[i].owner_id != owner_id
           or (uploads[i].attached_type is not None
               and (uploads[i].attached_type, uploads[i].attached_id) != (kind, ref_id))]
    if bad:
        msg = f"Unknown uploads, or not yours, or used elsewhere: {bad}."
        raise InvalidInput(msg, {field: [msg]})
    db.session.execute(
        update(Upload).where(Upload.attached_type == kind, Upload.attached_id == ref_id,
                             Upload.id.not_in(upload_ids or [0]))
        .values(attached_type=None, attached_id=None, unattached_since=utcnow())
        .execution_options(synchronize_session=False))
    for upload in uploads.values():
        upload.attached_type, upload.attached_id, upload.unattached_since = kind, ref_id, None
    return [uploads[i].public() for i in upload_ids]


def describe(upload_ids: list[int]) -> list[dict]:
    """Public descriptions of existing uploads, in the given order (gone ones left out)."""
    if not upload_ids:
        return []
    found = {u.id: u for u in db.session.scalars(select(Upload).where(Upload.id.in_(upload_ids)))}
    return [found[i].public() for i in upload_ids if i in found]


def purge_unreferenced(now=None, limit: int = 500) -> int:
    """The periodic job: delete uploads nothing has referred to for the configured time.

    Rows go first (a conditional delete: one attached meanwhile is kept), then the objects;
    an object whose delete fails is left without a row, never served (logged)."""
    ttl = timedelta(seconds=current_app.config["UPLOAD_UNREFERENCED_TTL_SECONDS"])
    cutoff = (now or utcnow()) - ttl
    ids = list(db.session.scalars(
        select(Upload.id).where(Upload.attached_type.is_(None), Upload.unattached_since < cutoff)
        .order_by(Upload.unattached_since).limit(limit)))
    if not ids:
        db.session.rollback()
        return 0
    rows = db.session.execute(
        delete(Upload).where(Upload.id.in_(ids), Upload.attached_type.is_(None))
        .returning(Upload.key, Upload.thumb_key)).all()
    db.session.commit()
    store = storage()
    for key, thumb_key in rows:
        for k in (key, thumb_key):
            try:
                store.delete(k)
            except Exception:
                log.warning("orphaned upload object %s: storage delete failed", k)
    return len(rows)
