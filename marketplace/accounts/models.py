"""Users and their API tokens."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.core.db import db
from marketplace.core.dbtypes import BigIntPK, UTCDateTime, utcnow


class Role(enum.StrEnum):
    USER = "user"
    ADMIN = "admin"


_SUSPENDED = "suspended_at IS NOT NULL"


class User(db.Model):
    __tablename__ = "users"
    # Search leaves out suspended sellers' listings: the few suspended users, indexed.
    __table_args__ = (Index("ix_users_suspended_at", "suspended_at",
                            postgresql_where=text(_SUSPENDED), sqlite_where=text(_SUSPENDED)),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    # Stored lower-cased so uniqueness is case-insensitive on every backend.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(80))
    role: Mapped[str] = mapped_column(String(16), default=Role.USER.value)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Profile (PATCH /users/me). TODO(uploads): avatar_upload_id once uploads exist.
    bio: Mapped[str | None] = mapped_column(Text, default=None)
    city: Mapped[str | None] = mapped_column(String(100), default=None)
    country: Mapped[str | None] = mapped_column(String(2), default=None)
    locale: Mapped[str | None] = mapped_column(String(16), default=None)
    currency: Mapped[str | None] = mapped_column(String(3), default=None)
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # Set when the account is closed and its personal data erased (accounts.erasure).
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # Set by an admin (moderation): no login, no token works, open listings hidden.
    suspended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    suspension_reason: Mapped[str | None] = mapped_column(Text, default=None)

    tokens: Mapped[list[ApiToken]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def is_suspended(self) -> bool:
        return self.suspended_at is not None

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN.value

    @property
    def is_verified(self) -> bool:
        return self.email_verified_at is not None

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"


class ApiToken(db.Model):
    """An opaque bearer token; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"
    __table_args__ = (Index("ix_api_tokens_user_id", "user_id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    user: Mapped[User] = relationship(back_populates="tokens")


class EmailToken(db.Model):
    """A single-use token sent by email (verify the address, reset the password); only its
    SHA-256 is stored."""

    __tablename__ = "email_tokens"
    __table_args__ = (Index("ix_email_tokens_user_id", "user_id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class DataExport(db.Model):
    """A data export (GDPR art. 15/20): built by a job, the zip kept in the row until purged
    by the retention job."""

    __tablename__ = "data_exports"
    __table_args__ = (Index("ix_data_exports_user_id", "user_id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    archive: Mapped[bytes | None] = mapped_column(LargeBinary, default=None, deferred=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


@dataclass(slots=True)
class LiveToken:
    """A resolved bearer token: its id, last use and expiry, and its user (an ORM entity)."""

    id: int
    user: User | UserRow
    last_used_at: datetime | None
    expires_at: datetime


class UserRow:
    """The caller as read-only views see it (``accounts.services.resolve_token`` on a
    read-only request): the columns authorization needs, no ORM entity, nothing personal
    beyond the display name."""

    COLUMNS = ("id", "role", "display_name", "email_verified_at", "closed_at", "suspended_at")

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)

    is_suspended = property(User.is_suspended.fget)
    is_admin = property(User.is_admin.fget)
    is_verified = property(User.is_verified.fget)

    def __repr__(self) -> str:
        return f"<UserRow {self.id}>"
