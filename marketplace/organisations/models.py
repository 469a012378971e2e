"""Organisations, their members (by invitation) and recyclers' certifications."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.core.db import db
from marketplace.core.dbtypes import BigIntPK, UTCDateTime, utcnow


class OrgKind(enum.StrEnum):
    COMPANY = "company"
    PUBLIC_BODY = "public_body"
    SCHOOL = "school"
    NGO = "ngo"
    RECYCLER = "recycler"


class Role(enum.StrEnum):
    OWNER = "owner"  # manages members; acts for the organisation
    BUYER = "buyer"  # lists and buys for the organisation
    VIEWER = "viewer"  # reads the organisation's reports and account


# Roles that may list, buy, hand over and confirm for the organisation.
ACTING_ROLES = (Role.OWNER.value, Role.BUYER.value)


class MemberStatus(enum.StrEnum):
    INVITED = "invited"
    ACTIVE = "active"


CERTIFICATION_SCHEMES = ("R2", "WEEELABEX", "e-Stewards")


class Organisation(db.Model):
    __tablename__ = "organisations"
    __table_args__ = (Index("ix_organisations_kind_id", "kind", "id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2))
    kind: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    # Recyclers: verified by an admin, with their certifications
    # ([{scheme, certificate_id, valid_until}]); NULL until then.
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    verified_by: Mapped[int | None] = mapped_column(BigInteger, default=None)
    certifications: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def verified(self) -> bool:
        return self.verified_at is not None


class Membership(db.Model):
    """A member, or an invitation (``invited``) by user id or email until accepted."""

    __tablename__ = "organisation_members"
    __table_args__ = (
        UniqueConstraint("organisation_id", "user_id",
                         name="uq_organisation_members_organisation_id_user_id"),
        UniqueConstraint("organisation_id", "email",
                         name="uq_organisation_members_organisation_id_email"),
        Index("ix_organisation_members_user_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                                default=None)
    # An invitation by email to someone without an account yet (lower-cased).
    email: Mapped[str | None] = mapped_column(String(254), default=None)
    role: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=MemberStatus.INVITED.value)
    invited_by: Mapped[int | None] = mapped_column(BigInteger, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
