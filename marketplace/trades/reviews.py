"""Reviews: after completion, buyer and seller may each review the other once (1-5 stars,
comment up to 1,000 characters) within ``REVIEW_WINDOW_SECONDS``. A review stays hidden
until both have reviewed (``published_at`` set on both) or the window has closed."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError

from marketplace.accounts.models import User
from marketplace.core import events
from marketplace.core.db import db
from marketplace.core.dbtypes import utcnow
from marketplace.core.errors import Conflict, NotFound
from marketplace.core.http.pagination import id_page
from marketplace.trades.models import Review, Trade


def _visible_now():
    now = utcnow()
    return or_(Review.published_at.is_not(None), Trade.review_deadline <= now)


def leave(trade_id: int, author: User, rating: int, comment: str) -> Review:
    trade = db.session.get(Trade, trade_id)
    role = trade.role_of(author.id) if trade is not None else None
    if role is None:
        raise NotFound("No such trade.")
    if trade.completed_at is None or trade.review_deadline is None:
        raise Conflict(f"cannot review: trade is {trade.status} (reviews open on completion)")
    now = utcnow()
    if trade.review_deadline <= now:
        raise Conflict("cannot review: the review window closed "
                       f"{trade.review_deadline:%Y-%m-%d %H:%M} UTC")
    review = Review(trade_id=trade.id, author_id=author.id, author_role=role,
                    subject_id=trade.seller_id if role == "buyer" else trade.buyer_id,
                    rating=rating, comment=comment, created_at=now)
    db.session.add(review)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise Conflict("You have already reviewed this trade.") from None
    events.publish("review.received", [review.subject_id], {
        "trade_id": trade.id, "listing_title": trade.listing_title})  # blind: no rating
    both = list(db.session.scalars(select(Review).where(Review.trade_id == trade.id)))
    if len(both) == 2:
        for r in both:
            r.published_at = now
    db.session.commit()
    return review


def of_trade(trade: Trade, viewer: User, limit: int = 20,
             cursor: str | None = None) -> dict[str, Any]:
    """A page of the trade's visible reviews, plus the viewer's own (even while hidden),
    newest first by id."""
    return id_page(
        select(Review).join(Trade, Trade.id == Review.trade_id)
        .where(Review.trade_id == trade.id, or_(_visible_now(), Review.author_id == viewer.id)),
        Review.id, limit, cursor)


def of_user(user_id: int, limit: int = 20, cursor: str | None = None) -> dict[str, Any]:
    """A page of the published reviews a user received, newest first by id."""
    return id_page(
        select(Review).join(Trade, Trade.id == Review.trade_id)
        .where(Review.subject_id == user_id, _visible_now()),
        Review.id, limit, cursor)


def rating(user_id: int) -> dict[str, Any]:
    """Average (1 decimal, null when none) and count of a user's visible reviews."""
    avg, count = db.session.execute(
        select(func.avg(Review.rating), func.count(Review.id))
        .join(Trade, Trade.id == Review.trade_id)
        .where(Review.subject_id == user_id, _visible_now())).one()
    return {"rating": round(float(avg), 2) if count else None, "review_count": int(count)}
