"""A trade's shipment and the tracking events its carrier reported."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.core.db import db
from marketplace.core.dbtypes import BigIntPK, UTCDateTime, utcnow

_POLLED = "tracked AND status IN ('in_transit', 'exception')"


class Shipment(db.Model):
    __tablename__ = "shipments"
    __table_args__ = (
        # The poll job's scan: tracked parcels not delivered yet, soonest poll first.
        Index("ix_shipments_next_poll_at", "next_poll_at", postgresql_where=text(_POLLED),
              sqlite_where=text(_POLLED)),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    trade_id: Mapped[int] = mapped_column(ForeignKey("trades.id", ondelete="CASCADE"),
                                          unique=True)
    carrier: Mapped[str] = mapped_column(String(64))
    tracking_number: Mapped[str] = mapped_column(String(128))
    tracked: Mapped[bool] = mapped_column(default=False)
    # in_transit, delivered, exception, returned (untracked parcels stay in_transit).
    status: Mapped[str] = mapped_column(String(16), default="in_transit")
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    next_poll_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    last_polled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    poll_failures: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(String(300), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ShipmentEvent(db.Model):
    __tablename__ = "shipment_events"
    __table_args__ = (
        UniqueConstraint("shipment_id", "occurred_at", "status",
                         name="uq_shipment_events_shipment_at_status"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipments.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    description: Mapped[str] = mapped_column(String(300), default="")
    location: Mapped[str | None] = mapped_column(String(100), default=None)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
