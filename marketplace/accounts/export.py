"""Data export (GDPR art. 15 and 20, PIPL art. 45): a zip of JSON files, built by a job.

``start`` records a pending export and an outbox record (``account.export``) in one
transaction; the handler enqueues ``build`` on the ``default`` queue; ``build`` asks every
feature's exporter (``core.personal_data``) for the user's records and stores the zip in the
row. ``status`` gives a download link signed with ``SECRET_KEY`` (itsdangerous), valid
``LINK_MAX_AGE`` seconds; the retention job deletes archives after ``KEEP``.
"""

from __future__ import annotations

import io
import json
import logging
import zipfile
from datetime import date, datetime, timedelta
from typing import Any

from flask import current_app, url_for
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select

from marketplace.accounts.models import DataExport, User
from marketplace.core import jobs, outbox, personal_data
from marketplace.core.db import db
from marketplace.core.dbtypes import utcnow
from marketplace.core.errors import NotFound

log = logging.getLogger("marketplace.accounts.export")

TOPIC = "account.export"
LINK_MAX_AGE = 86_400  # a download link is valid a day
KEEP = timedelta(days=2)  # archives are deleted after this (retention job)
_SALT = "reloop-data-export"


def start(user: User) -> DataExport:
    export = DataExport(user_id=user.id, status="pending")
    db.session.add(export)
    db.session.flush()
    outbox.write(TOPIC, {"export_id": export.id})
    db.session.commit()
    return export


def enqueue_build(message: outbox.OutboxMessage) -> None:
    jobs.enqueue(build, int(message.payload["export_id"]), queue="default", timeout=600)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def archive_for(user_id: int) -> bytes:
    """The zip: one ``<name>.json`` per registered exporter, and a ``README.txt``."""
    parts = personal_data.export(user_id)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.txt", (
            f"Reloop data export for user {user_id}, made {utcnow().isoformat()}.\n"
            "One JSON file per kind of record; times are UTC (ISO 8601), money in minor "
            "units, carbon in grams CO2e.\nFiles: " + ", ".join(f"{n}.json" for n in parts)
            + "\n"))
        for name, data in parts.items():
            archive.writestr(f"{name}.json", json.dumps(data, default=_json_default, indent=2,
                                                        ensure_ascii=False))
    return buffer.getvalue()


def build(export_id: int) -> str:
    """Build one export (the job). Returns its status."""
    export = db.session.get(DataExport, export_id)
    if export is None or export.status != "pending":
        return export.status if export else "missing"
    try:
        data = archive_for(export.user_id)
    except Exception:
        db.session.rollback()
        log.exception("data export %s failed", export_id)
        export = db.session.get(DataExport, export_id)
        export.status, export.finished_at = "failed", utcnow()
        db.session.commit()
        return "failed"
    export.archive, export.status, export.finished_at = data, "ready", utcnow()
    db.session.commit()
    return "ready"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def status(user: User, export_id: int) -> dict[str, Any]:
    export = db.session.scalar(select(DataExport).where(
        DataExport.id == export_id, DataExport.user_id == user.id))
    if export is None:
        raise NotFound("No such export.")
    url = None
    if export.status == "ready":
        token = _serializer().dumps({"export_id": export.id, "user_id": user.id})
        url = url_for("account.download_export", token=token, _external=True)
    return {"id": export.id, "status": export.status, "created_at": export.created_at,
            "url": url}


def download(token: str) -> tuple[bytes, str]:
    """The archive a signed link names, and its file name; 404 when the link is bad, stale
    or the archive gone (purged, or the account closed)."""
    try:
        claims = _serializer().loads(token, max_age=LINK_MAX_AGE)
    except BadSignature:
        raise NotFound("This download link is invalid or has expired.") from None
    export = db.session.scalar(select(DataExport).where(
        DataExport.id == claims.get("export_id"), DataExport.user_id == claims.get("user_id"),
        DataExport.status == "ready"))
    if export is None or export.archive is None:
        raise NotFound("This download link is invalid or has expired.")
    return export.archive, f"reloop-export-{export.user_id}-{export.id}.zip"


def purge(older_than: timedelta = KEEP) -> int:
    result = db.session.execute(DataExport.__table__.delete().where(
        DataExport.created_at < utcnow() - older_than))
    return result.rowcount or 0
