"""Uploads' share of data export and erasure (``core.personal_data``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update

from marketplace.core.db import db
from marketplace.core.personal_data import as_dicts
from marketplace.uploads.models import Upload

_LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)


def export(user_id: int) -> list[dict[str, Any]]:
    uploads = list(db.session.scalars(select(Upload).where(Upload.owner_id == user_id)
                                      .order_by(Upload.id)))
    return [{**row, **upload.public()} for row, upload in zip(as_dicts(uploads), uploads,
                                                               strict=True)]


def erase(user_id: int) -> None:
    """Detach every upload of the user and date it so that the next ``purge-uploads`` run
    deletes the rows and the stored images (no storage call inside the erasure's
    transaction). The listings' eraser drops their references."""
    db.session.execute(update(Upload).where(Upload.owner_id == user_id).values(
        attached_type=None, attached_id=None, unattached_since=_LONG_AGO))
