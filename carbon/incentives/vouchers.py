"""Vouchers: single-use discounts on the owner's next purchase, and the service the trades
feature calls.

``reserve_for_trade`` runs inside the transaction that creates the trade: a conditional
``UPDATE … WHERE status = 'available' AND …`` takes the voucher (on PostgreSQL the row lock
makes a concurrent second reservation see it reserved), so a voucher is consumed exactly once
however many trades race for it. ``restore_for_trade`` (trade cancelled before payment) makes
it usable again; ``confirm_for_trade`` (payment succeeded) makes it final. The platform bears
the discount: the PaymentIntent is ``price - discount``; the seller's payout is unchanged.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from marketplace.core import events
from marketplace.core.db import db
from marketplace.core.dbtypes import utcnow
from marketplace.core.errors import Conflict, InvalidInput

from .models import Voucher, VoucherStatus

_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I


def new_code() -> str:
    return "RL-" + "".join(secrets.choice(_ALPHABET) for _ in range(10))


def issue(user_id: int, spec: dict[str, Any], source: str, now: datetime | None = None
          ) -> Voucher:
    """A voucher for ``user_id`` from a validated spec (rules.validate_voucher_spec)."""
    now = now or utcnow()
    voucher = Voucher(code=new_code(), user_id=user_id, percent_off=spec.get("percent_off"),
                      amount_off=spec.get("amount_off"), max_off=spec.get("max_off"),
                      min_price=spec.get("min_price"), currency=spec.get("currency"),
                      expires_at=now + timedelta(days=int(spec.get("expires_days", 30))),
                      status=VoucherStatus.AVAILABLE.value, source=source, created_at=now)
    db.session.add(voucher)
    db.session.flush()
    return voucher


def discount_for(voucher: Voucher, price: int) -> int:
    """Minor units off ``price``: a percentage (floored, capped by ``max_off``) or a fixed
    amount; never more than the price."""
    if voucher.percent_off is not None:
        off = price * voucher.percent_off // 100
        if voucher.max_off is not None:
            off = min(off, voucher.max_off)
    else:
        off = voucher.amount_off or 0
    return max(0, min(off, price))


def _field_error(message: str) -> InvalidInput:
    return InvalidInput(message, {"voucher_code": [message]})


def reserve_for_trade(code: str, buyer_id: int, price: int, currency: str,
                      trade_id: int, max_discount: int | None = None) -> int:
    """Hold the voucher ``code`` for ``trade_id`` and return the discount (minor units).

    ``max_discount`` caps the discount (the trades feature leaves the currency's minimum
    charge to pay); the voucher is still consumed whole.

    Raises InvalidInput (422, under ``voucher_code``) when the code is unknown or not the
    buyer's, the price is below its minimum or the currency differs; Conflict (409) when it is
    expired, used, revoked or held by another trade. Reserving again for the same trade
    returns the same discount. Does not commit.
    """
    code = (code or "").strip().upper()
    voucher = db.session.scalars(select(Voucher).where(Voucher.code == code)
                                 .with_for_update()).first()
    if voucher is None or voucher.user_id != buyer_id:
        raise _field_error("No such voucher for this buyer.")
    if voucher.status == VoucherStatus.RESERVED and voucher.trade_id == trade_id:
        return voucher.discount or 0
    now = utcnow()
    if voucher.status == VoucherStatus.USED:
        raise Conflict("This voucher has already been used.")
    if voucher.status == VoucherStatus.REVOKED:
        raise Conflict("This voucher has been revoked.")
    if voucher.status == VoucherStatus.RESERVED:
        raise Conflict("This voucher is held by another purchase awaiting payment.")
    if voucher.expires_at <= now:
        raise Conflict("This voucher has expired.")
    if voucher.currency is not None and voucher.currency != currency:
        raise _field_error(f"This voucher is for prices in {voucher.currency}.")
    if voucher.min_price is not None and price < voucher.min_price:
        raise _field_error(f"This voucher needs a price of at least {voucher.min_price}.")
    discount = discount_for(voucher, price)
    if max_discount is not None:
        discount = max(0, min(discount, max_discount))
    # Conditional update: whatever a concurrent transaction did, only one takes it.
    taken = db.session.execute(
        update(Voucher).where(Voucher.id == voucher.id,
                              Voucher.status == VoucherStatus.AVAILABLE.value)
        .values(status=VoucherStatus.RESERVED.value, trade_id=trade_id, discount=discount,
                reserved_at=now)
        .execution_options(synchronize_session=False)).rowcount
    if taken != 1:
        raise Conflict("This voucher has just been used by another purchase.")
    db.session.expire(voucher)
    return discount


def restore_for_trade(trade_id: int) -> int:
    """Trade cancelled before payment: its voucher is usable again. Returns how many."""
    return db.session.execute(
        update(Voucher).where(Voucher.trade_id == trade_id,
                              Voucher.status == VoucherStatus.RESERVED.value)
        .values(status=VoucherStatus.AVAILABLE.value, trade_id=None, discount=None,
                reserved_at=None)
        .execution_options(synchronize_session=False)).rowcount


def give_back_for_trade(trade_id: int) -> int:
    """A paid trade refunded in full before the buyer kept the device (cancelled, returned):
    the voucher it used is the buyer's again, as it was (its expiry unchanged). Returns how
    many."""
    return db.session.execute(
        update(Voucher).where(Voucher.trade_id == trade_id,
                              Voucher.status == VoucherStatus.USED.value)
        .values(status=VoucherStatus.AVAILABLE.value, trade_id=None, discount=None,
                reserved_at=None, used_at=None)
        .execution_options(synchronize_session=False)).rowcount


def confirm_for_trade(trade_id: int) -> int:
    """Payment succeeded: the trade's voucher is used, for good. Returns how many."""
    return db.session.execute(
        update(Voucher).where(Voucher.trade_id == trade_id,
                              Voucher.status == VoucherStatus.RESERVED.value)
        .values(status=VoucherStatus.USED.value, used_at=utcnow())
        .execution_options(synchronize_session=False)).rowcount


def revoke(voucher_id: int) -> bool:
    """Revoke a voucher that is still unused (available); one held or used is kept."""
    return db.session.execute(
        update(Voucher).where(Voucher.id == voucher_id,
                              Voucher.status == VoucherStatus.AVAILABLE.value)
        .values(status=VoucherStatus.REVOKED.value)
        .execution_options(synchronize_session=False)).rowcount == 1


def view(v: Voucher) -> dict[str, Any]:
    return {"code": v.code, "percent_off": v.percent_off, "amount_off": v.amount_off,
            "max_off": v.max_off, "min_price": v.min_price, "currency": v.currency,
            "expires_at": v.expires_at, "status": v.status, "trade_id": v.trade_id,
            "created_at": v.created_at}


def remind_expiring(within: timedelta, limit: int = 1000) -> int:
    """Publish ``voucher.expiring`` for available vouchers expiring within ``within`` and not
    yet reminded (the periodic job); claimed with a conditional update, so once each."""
    now = utcnow()
    rows = db.session.execute(
        update(Voucher).where(Voucher.id.in_(
            select(Voucher.id).where(Voucher.status == VoucherStatus.AVAILABLE.value,
                                     Voucher.reminded_at.is_(None), Voucher.expires_at > now,
                                     Voucher.expires_at <= now + within)
            .order_by(Voucher.id).limit(limit)), Voucher.reminded_at.is_(None))
        .values(reminded_at=now)
        .returning(Voucher.id, Voucher.user_id, Voucher.code, Voucher.expires_at)
        .execution_options(synchronize_session=False)).all()
    for voucher_id, user_id, code, expires_at in rows:
        events.publish("voucher.expiring", [user_id], {
            "voucher_id": voucher_id, "code": code,
            "expires": expires_at.strftime("%Y-%m-%d %H:%M UTC")})
    db.session.commit()
    return len(rows)
