"""An uploaded image: its stored key, size, owner and what refers to it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.core.db import db
from marketplace.core.dbtypes import BigIntPK, UTCDateTime, utcnow

_UNATTACHED = "attached_type IS NULL"


class Upload(db.Model):
    __tablename__ = "uploads"
    __table_args__ = (
        Index("ix_uploads_owner_id_id", "owner_id", "id"),
        # The purge job's scan: unattached uploads, oldest first.
        Index("ix_uploads_unattached", "unattached_since",
              postgresql_where=text(_UNATTACHED), sqlite_where=text(_UNATTACHED)),
        Index("ix_uploads_attached", "attached_type", "attached_id"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # Random, unguessable: the media URL is /api/v1/media/<key>.
    key: Mapped[str] = mapped_column(String(64), unique=True)
    thumb_key: Mapped[str] = mapped_column(String(64))
    content_type: Mapped[str] = mapped_column(String(32))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    thumb_ready: Mapped[bool] = mapped_column(default=False)
    # What refers to it (e.g. "listing", 12); NULL: nothing, purged after a day.
    attached_type: Mapped[str | None] = mapped_column(String(16), default=None)
    attached_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    unattached_since: Mapped[datetime | None] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def public(self) -> dict:
        return media_info(self.key, self.thumb_key, self.width, self.height, self.id)


def media_url(key: str) -> str:
    return f"/api/v1/media/{key}"


def media_info(key: str, thumb_key: str, width: int, height: int, upload_id: int) -> dict:
    return {"id": upload_id, "url": media_url(key), "thumb_url": media_url(thumb_key),
            "width": width, "height": height}
