"""Haggling: offers, counter-offers and their state machine.

::

    pending --accept--> accepted      (the buyer may start a trade within 24 h)
    pending --decline-> declined
    pending --counter-> countered     (+ a new pending counter from the seller)
    pending --withdraw> withdrawn     (by whoever made it)
    pending --48 h----> expired       (also when the listing is sold or withdrawn)

An offer is answered by the other party: the seller answers a buyer's offer, the buyer a
seller's counter. Expiry is enforced on every read and write (a pending offer past its
``expires_at`` is expired whether or not ``expire_due`` has marked it yet).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update

from marketplace.accounts.models import User
from marketplace.conversations.blocking import ensure_not_blocked
from marketplace.core import events
from marketplace.core.db import db
from marketplace.core.dbtypes import utcnow
from marketplace.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from marketplace.core.http.pagination import id_page
from marketplace.listings import status as listing_status
from marketplace.listings import visibility as listing_visibility
from marketplace.listings.models import ListingStatus
from marketplace.offers.models import Offer, OfferKind, OfferStatus

OFFER_TTL = timedelta(hours=48)
PURCHASE_WINDOW = timedelta(hours=24)
S = OfferStatus


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


# ---- create ------------------------------------------------------------------------------
def _check_listing_open(listing, action: str) -> None:
    if listing.status != ListingStatus.ACTIVE.value:
        why = {"reserved": "a trade is pending on it", "sold": "it has been sold"}.get(
            listing.status, f"it is {listing.status}")
        raise Conflict(f"Cannot {action}: the listing is {listing.status} ({why}).")


def _amount_in(money: dict[str, Any], currency: str) -> int:
    """The minor units of a requested ``{amount, currency}``; 422 under ``amount.currency``
    unless it is in ``currency`` (the listing's)."""
    if money["currency"] != currency.upper():
        msg = f"Must be the listing's currency, {currency.upper()}."
        raise InvalidInput(f"The offer must be in {currency.upper()}.",
                           {"amount": {"currency": [msg]}})
    return money["amount"]


def make_offer(listing_id: int, buyer: User, money: dict[str, Any]) -> Offer:
    """``money`` is ``{amount, currency}``, in the listing's currency."""
    listing = listing_visibility.get_visible(listing_id, buyer)
    if listing.seller_id == buyer.id:
        raise Conflict("You cannot make an offer on your own listing.")
    ensure_not_blocked(buyer.id, listing.seller_id, "make an offer to this seller")
    amount = _amount_in(money, listing.price_currency)
    _check_listing_open(listing, "make an offer")
    now = utcnow()
    offer = Offer(listing_id=listing.id, buyer_id=buyer.id, seller_id=listing.seller_id,
                  kind=OfferKind.OFFER.value, amount=amount, currency=listing.price_currency,
                  status=S.PENDING.value, expires_at=now + OFFER_TTL, created_at=now,
                  updated_at=now)
    db.session.add(offer)
    db.session.flush()
    announce(offer, "offer.received", offer.seller_id)
    db.session.commit()
    return offer


def announce(offer: Offer, kind: str, *to: int) -> None:
    """Publish an offer event (notification, conversation line) to ``to`` (no commit)."""
    events.publish(kind, to, {
        "offer_id": offer.id, "listing_id": offer.listing_id, "buyer_id": offer.buyer_id,
        "seller_id": offer.seller_id, "amount": offer.amount, "currency": offer.currency,
        "listing_title": offer.listing.title if offer.listing else None})


# ---- transitions -------------------------------------------------------------------------
def _load(offer_id: int, user: User, lock: bool = True) -> Offer:
    """The offer, one of the caller's; ``lock``: its listing's row, then its own (the lock
    order of ``listing_status.lock``), so that an accept and an edit of the listing's device
    fields or price (which locks the listing before its frozen check) are serialised."""
    query = select(Offer).where(Offer.id == offer_id)
    offer = db.session.scalars(query).first()
    if offer is None or user.id not in (offer.buyer_id, offer.seller_id):
        raise NotFound("No such offer.")
    if lock:
        listing_status.lock(offer.listing_id)
        offer = db.session.scalars(query.with_for_update(of=Offer)
                                   .execution_options(populate_existing=True)).one()
    return offer


def _require_pending(offer: Offer, action: str) -> None:
    if offer.is_lapsed():
        offer.status = S.EXPIRED.value
        offer.updated_at = utcnow()
        announce(offer, "offer.expired", offer.buyer_id, offer.seller_id)
        db.session.commit()
        raise Conflict(f"Cannot {action} this offer: it expired at {_iso(offer.expires_at)}.")
    if offer.status != S.PENDING.value:
        raise Conflict(f"Cannot {action} this offer: it is {offer.status}; "
                       "only a pending offer can be answered or withdrawn.")


def _require_responder(offer: Offer, user: User, action: str) -> None:
    if user.id != offer.responder_id:
        who = "seller" if offer.kind == OfferKind.OFFER.value else "buyer"
        raise Forbidden(f"Only the {who} can {action} this offer.")


def accept(offer_id: int, user: User) -> Offer:
    offer = _load(offer_id, user)
    _require_responder(offer, user, "accept")
    _require_pending(offer, "accept")
    _check_listing_open(offer.listing, "accept the offer")
    now = utcnow()
    offer.status = S.ACCEPTED.value
    offer.accepted_at = now
    offer.purchase_deadline = now + PURCHASE_WINDOW
    offer.updated_at = now
    announce(offer, "offer.accepted", offer.author_id)
    db.session.commit()
    return offer


def decline(offer_id: int, user: User) -> Offer:
    offer = _load(offer_id, user)
    _require_responder(offer, user, "decline")
    _require_pending(offer, "decline")
    offer.status = S.DECLINED.value
    offer.updated_at = utcnow()
    announce(offer, "offer.declined", offer.author_id)
    db.session.commit()
    return offer


def counter(offer_id: int, user: User, money: dict[str, Any]) -> Offer:
    """The seller answers a buyer's offer with another amount (``{amount, currency}``, in the
    offer's currency): a new pending offer."""
    offer = _load(offer_id, user)
    if user.id != offer.seller_id:
        raise Forbidden("Only the seller can counter an offer.")
    amount = _amount_in(money, offer.currency)
    if offer.kind != OfferKind.OFFER.value:
        raise Conflict("Cannot counter your own counter-offer; withdraw it and counter again.")
    _require_pending(offer, "counter")
    _check_listing_open(offer.listing, "counter the offer")
    now = utcnow()
    offer.status = S.COUNTERED.value
    offer.updated_at = now
    reply = Offer(listing_id=offer.listing_id, buyer_id=offer.buyer_id,
                  seller_id=offer.seller_id, kind=OfferKind.COUNTER.value,
                  parent_offer_id=offer.id, amount=amount, currency=offer.currency,
                  status=S.PENDING.value, expires_at=now + OFFER_TTL, created_at=now,
                  updated_at=now)
    db.session.add(reply)
    db.session.flush()
    announce(reply, "offer.countered", reply.buyer_id)
    db.session.commit()
    return reply


def withdraw(offer_id: int, user: User) -> Offer:
    offer = _load(offer_id, user)
    if user.id != offer.author_id:
        raise Forbidden("Only whoever made this offer can withdraw it.")
    _require_pending(offer, "withdraw")
    offer.status = S.WITHDRAWN.value
    offer.updated_at = utcnow()
    db.session.commit()
    return offer


# ---- reads -------------------------------------------------------------------------------
def get_offer(offer_id: int, user: User) -> Offer:
    return _load(offer_id, user, lock=False)


def _status_condition(status: str, now: datetime):
    if status == S.PENDING.value:
        return and_(Offer.status == status, Offer.expires_at > now)
    if status == S.EXPIRED.value:
        return or_(Offer.status == status,
                   and_(Offer.status == S.PENDING.value, Offer.expires_at <= now))
    return Offer.status == status


def list_offers(user: User, role: str | None, status: str | None, limit: int = 20,
                cursor: str | None = None) -> dict[str, Any]:
    """The caller's offers, newest first; ``role`` buyer / seller / both."""
    now = utcnow()
    if role == "buyer":
        conds = [Offer.buyer_id == user.id]
    elif role == "seller":
        conds = [Offer.seller_id == user.id]
    else:
        conds = [or_(Offer.buyer_id == user.id, Offer.seller_id == user.id)]
    if status:
        conds.append(_status_condition(status, now))
    return id_page(select(Offer).where(*conds), Offer.id, limit, cursor)


# ---- for trades and jobs -----------------------------------------------------------------
def offer_for_purchase(offer_id: int, buyer_id: int, listing_id: int) -> Offer:
    """The accepted offer a buyer may purchase at; Conflict unless it is accepted, theirs,
    for that listing and within its 24-hour purchase window. Locks the listing's row, then the
    offer's (PostgreSQL; the lock order of ``listing_status.lock``)."""
    listing_status.lock(listing_id)
    offer = db.session.scalars(
        select(Offer).where(Offer.id == offer_id).with_for_update(of=Offer)
        .execution_options(populate_existing=True)).first()
    if offer is None or offer.buyer_id != buyer_id or offer.listing_id != listing_id:
        raise Conflict("This offer does not belong to you for this listing.")
    if offer.status != S.ACCEPTED.value:
        raise Conflict(f"The offer is {offer.effective_status}, not accepted: "
                       "only an accepted offer sets the price of a purchase.")
    if offer.purchase_deadline is None or offer.purchase_deadline <= utcnow():
        raise Conflict("The 24-hour purchase window of this accepted offer has closed.")
    return offer


def has_open_offers(listing_id: int) -> bool:
    """Offers on the listing can still be answered or bought at (its currency must not
    change): pending and not past ``expires_at``, or accepted within their purchase window.
    A lapsed offer counts for nothing, marked expired yet or not."""
    now = utcnow()
    return db.session.scalar(select(Offer.id).where(
        Offer.listing_id == listing_id,
        or_(and_(Offer.status == S.PENDING.value, Offer.expires_at > now),
            and_(Offer.status == S.ACCEPTED.value, Offer.purchase_deadline > now)))
        .limit(1)) is not None


def expire_for_listing(listing_id: int) -> int:
    """Expire the listing's pending offers (it was sold or withdrawn); the caller commits."""
    return _expire_where(Offer.listing_id == listing_id, Offer.status == S.PENDING.value)


def _expire_where(*conditions) -> int:
    """Expire the offers matching ``conditions`` and announce each (the caller commits)."""
    ids = list(db.session.scalars(
        update(Offer).where(*conditions).values(status=S.EXPIRED.value, updated_at=utcnow())
        .returning(Offer.id).execution_options(synchronize_session=False)))
    for offer in db.session.scalars(select(Offer).where(Offer.id.in_(ids))):
        announce(offer, "offer.expired", offer.buyer_id, offer.seller_id)
    return len(ids)


def expire_due(now: datetime | None = None) -> int:
    """Mark pending offers past their expiry as expired (the periodic job)."""
    now = now or utcnow()
    count = _expire_where(Offer.status == S.PENDING.value, Offer.expires_at <= now)
    db.session.commit()
    return count
