"""Tracking: the ``track_shipment`` effect of ``ship``, the poll job, and the shipment view.

Polling (``poll_due``, the periodic ``poll-shipments`` job, every
``SHIPMENT_POLL_INTERVAL_SECONDS``) never calls a carrier while holding a row lock: it reads
the ids of tracked parcels due for a poll and ends that transaction, asks each carrier (no
transaction open), then applies the answer in a short transaction per parcel that locks the
shipment (and, on delivery, the trade), adds the events it has not seen and moves on. A
carrier that cannot be asked is retried later, backing off (up to a day).

On ``delivered`` the trade's confirm window starts: it is auto-confirmed
``TRADE_DELIVERED_CONFIRM_SECONDS`` (3 days) after the delivery the carrier reported, unless
the buyer confirms or disputes first; the trade's audit trail gets a ``delivered`` event. A
tracked parcel is never auto-confirmed before its delivery is known.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select

from marketplace.core.db import db
from marketplace.core.dbtypes import utcnow
from marketplace.core.errors import InvalidInput, NotFound
from marketplace.trades.announce import announce
from marketplace.trades.context import Context
from marketplace.trades.models import Trade, TradeEvent, TradeStatus
from marketplace.trades.shipping import carriers
from marketplace.trades.shipping.models import Shipment, ShipmentEvent

log = logging.getLogger("marketplace.trades.shipping")

POLLED_STATUSES = (carriers.IN_TRANSIT, carriers.EXCEPTION)
MAX_BACKOFF = timedelta(days=1)


def _interval() -> timedelta:
    return timedelta(seconds=int(current_app.config["SHIPMENT_POLL_INTERVAL_SECONDS"]))


# ---- the effect ----------------------------------------------------------------------------
def track_shipment(ctx: Context) -> None:
    """Open the trade's shipment; a tracked parcel's confirm timer waits for delivery."""
    trade = ctx.trade
    if not carriers.available(trade.carrier, current_app.config):
        raise InvalidInput("Unknown carrier.", {"carrier": ["Not one of the known carriers."]})
    tracked = carriers.adapter_for(trade.carrier, current_app.config) is not None
    db.session.add(Shipment(trade_id=trade.id, carrier=trade.carrier,
                            tracking_number=trade.tracking_number, tracked=tracked,
                            status=carriers.IN_TRANSIT, next_poll_at=ctx.now if tracked else None,
                            created_at=ctx.now))
    if tracked:
        trade.confirm_by = trade.due_at = None
    ctx.details["tracked"] = tracked


# ---- polling -------------------------------------------------------------------------------
def poll_due(now: datetime | None = None, limit: int = 500) -> int:
    """Poll every tracked parcel due; return how many answered."""
    now = now or utcnow()
    due = db.session.execute(
        select(Shipment.id, Shipment.carrier, Shipment.tracking_number)
        .where(Shipment.tracked.is_(True), Shipment.status.in_(POLLED_STATUSES),
               Shipment.next_poll_at <= now)
        .order_by(Shipment.next_poll_at).limit(limit)).all()
    db.session.rollback()  # no transaction (and no lock) while carriers are asked
    answered = 0
    for shipment_id, carrier, number in due:
        adapter = carriers.adapter_for(carrier, current_app.config)
        if adapter is None:
            continue
        try:
            events = adapter.track(number)
        except carriers.TrackingUnavailable as exc:
            _failed(shipment_id, str(exc))
            continue
        try:
            apply_events(shipment_id, events)
            answered += 1
        except Exception:
            db.session.rollback()
            log.exception("shipment %s: applying tracking events failed", shipment_id)
    return answered


def _lock(shipment_id: int) -> Shipment | None:
    return db.session.scalars(select(Shipment).where(Shipment.id == shipment_id)
                              .with_for_update()
                              .execution_options(populate_existing=True)).first()


def _failed(shipment_id: int, error: str) -> None:
    shipment = _lock(shipment_id)
    if shipment is not None:
        shipment.poll_failures += 1
        backoff = min(_interval() * 2 ** min(shipment.poll_failures, 10), MAX_BACKOFF)
        shipment.next_poll_at = utcnow() + backoff
        shipment.last_error = error[:300]
        log.warning("shipment %s: tracking unavailable (%s); retry in %s", shipment_id,
                    error, backoff)
    db.session.commit()


def apply_events(shipment_id: int, events: list[carriers.TrackingEvent]) -> None:
    """Record the carrier's answer for one shipment (one short transaction). Commits."""
    now = utcnow()
    shipment = _lock(shipment_id)
    if shipment is None or shipment.status not in POLLED_STATUSES:
        db.session.rollback()
        return
    seen = {(e.occurred_at, e.status) for e in db.session.scalars(
        select(ShipmentEvent).where(ShipmentEvent.shipment_id == shipment_id))}
    for event in events:
        if (event.occurred_at, event.status) not in seen:
            seen.add((event.occurred_at, event.status))
            db.session.add(ShipmentEvent(shipment_id=shipment_id, status=event.status,
                                         occurred_at=event.occurred_at,
                                         description=event.description,
                                         location=event.location, recorded_at=now))
    shipment.last_polled_at, shipment.poll_failures, shipment.last_error = now, 0, None
    shipment.next_poll_at = now + _interval()
    latest = events[-1] if events else None
    delivered = next((e for e in events if e.status == carriers.DELIVERED), None)
    if delivered is not None:
        shipment.status, shipment.delivered_at = carriers.DELIVERED, delivered.occurred_at
        _start_confirm_window(shipment, delivered.occurred_at, now)
    elif latest is not None and latest.status in (carriers.EXCEPTION, carriers.RETURNED):
        shipment.status = latest.status
    elif latest is not None:
        shipment.status = carriers.IN_TRANSIT
    db.session.commit()


def _start_confirm_window(shipment: Shipment, delivered_at: datetime, now: datetime) -> None:
    trade = db.session.scalars(select(Trade).where(Trade.id == shipment.trade_id)
                               .with_for_update()
                               .execution_options(populate_existing=True)).first()
    if trade is None or trade.status != TradeStatus.SHIPPED:
        return  # confirmed, disputed... already: nothing to time
    window = timedelta(seconds=int(current_app.config["TRADE_DELIVERED_CONFIRM_SECONDS"]))
    trade.confirm_by = trade.due_at = delivered_at + window
    trade.updated_at = now
    db.session.add(TradeEvent(trade_id=trade.id, transition="delivered",
                              from_status=trade.status, to_status=trade.status,
                              actor="system", created_at=now,
                              details={"delivered_at": delivered_at.isoformat(),
                                       "confirm_by": trade.confirm_by.isoformat()}))
    announce(trade, "delivered")


# ---- the view ------------------------------------------------------------------------------
def shipment_of(trade: Trade) -> dict[str, Any]:
    """The trade's shipment and its tracking events, oldest first (404 when not shipped)."""
    shipment = db.session.scalar(select(Shipment).where(Shipment.trade_id == trade.id))
    if shipment is None:
        raise NotFound("This trade has no shipment.")
    events = db.session.scalars(select(ShipmentEvent)
                                .where(ShipmentEvent.shipment_id == shipment.id)
                                .order_by(ShipmentEvent.occurred_at, ShipmentEvent.id)
                                .limit(200)).all()
    return {"trade_id": trade.id, "carrier": shipment.carrier,
            "carrier_name": carriers.CARRIERS.get(shipment.carrier, shipment.carrier),
            "tracking_number": shipment.tracking_number, "tracked": shipment.tracked,
            "status": shipment.status, "shipped_at": trade.shipped_at,
            "delivered_at": shipment.delivered_at, "last_polled_at": shipment.last_polled_at,
            "confirm_by": trade.confirm_by, "events": events}
