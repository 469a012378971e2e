"""Payout accounts from Stripe Connect onboarding (issue 15).

A seller never types an account id. ``POST /users/me/payout-account/onboarding``
``{password}`` (the password again, every time: whoever holds a token must not be able to
redirect payouts) creates an Express connected account at Stripe for the caller
(``metadata.reloop_user_id``) and returns a Stripe-hosted onboarding link
(``account_links``, ``type=account_onboarding``). The account id Stripe returned is kept as a
*pending* onboarding (``payout_onboardings``), not as the payout account.

The payout account is set only by Stripe's ``account.updated`` webhook
(``on_account_updated``): for an account we created (a ``payout_onboardings`` row) whose
``metadata.reloop_user_id`` is that row's user, once its details are submitted and it can
receive transfers (``payouts_enabled`` or the ``transfers`` capability ``active``). Then it
replaces the user's payout account and their accrued payouts are re-queued. A second
onboarding while one is pending continues it (a fresh link for the same account); one after
the account is set creates a new account: the change takes effect when Stripe reports it
ready. Stripe is called with no transaction open (nothing locked).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from flask import current_app
from sqlalchemy import ForeignKey, Index, String, func, select
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.accounts import services as accounts
from marketplace.accounts.models import User
from marketplace.core.db import db
from marketplace.core.dbtypes import BigIntPK, UTCDateTime, utcnow
from marketplace.core.errors import Forbidden, Unauthorized
from marketplace.payments import payouts, stripe_client, webhooks

log = logging.getLogger("marketplace.payments.connect")

EVENT_TYPE = "account.updated"


class PayoutOnboarding(db.Model):
    """A connected account we created for a user; ``completed_at`` once it became their
    payout account."""

    __tablename__ = "payout_onboardings"
    __table_args__ = (Index("ix_payout_onboardings_user_id", "user_id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    stripe_account_id: Mapped[str] = mapped_column(String(255), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


def _pending(user_id: int) -> PayoutOnboarding | None:
    return db.session.scalar(select(PayoutOnboarding).where(
        PayoutOnboarding.user_id == user_id, PayoutOnboarding.completed_at.is_(None))
        .order_by(PayoutOnboarding.id.desc()).limit(1))


def start(user: User, password: str, base_url: str) -> dict[str, Any]:
    """Check the password, create (or continue) the user's connected account and return the
    onboarding link. Commits."""
    try:
        accounts.check_password(user.email, password)
    except Unauthorized:
        db.session.rollback()
        raise Forbidden("Wrong password.", {"password": ["Wrong password."]}) from None
    pending = _pending(user.id)
    account_id = pending.stripe_account_id if pending else None
    n = db.session.scalar(select(func.count()).select_from(PayoutOnboarding)
                          .where(PayoutOnboarding.user_id == user.id))
    db.session.commit()  # nothing open while Stripe is called
    if account_id is None:
        account = stripe_client.create_connected_account(
            {"reloop_user_id": user.id}, f"onboarding-{user.id}-{n + 1}")
        account_id = account.id
        db.session.add(PayoutOnboarding(user_id=user.id, stripe_account_id=account_id))
        db.session.commit()
    config = current_app.config
    link = stripe_client.create_account_link(
        account_id,
        refresh_url=config.get("STRIPE_CONNECT_REFRESH_URL") or base_url,
        return_url=config.get("STRIPE_CONNECT_RETURN_URL") or base_url)
    expires = getattr(link, "expires_at", None)
    return {"url": link.url,
            "expires_at": datetime.fromtimestamp(expires, tz=UTC) if expires else None}


def _ready(obj: dict[str, Any]) -> bool:
    capabilities = obj.get("capabilities") or {}
    return bool(obj.get("details_submitted")) and (
        bool(obj.get("payouts_enabled")) or capabilities.get("transfers") == "active")


def on_account_updated(event: webhooks.WebhookEvent) -> None:
    """``account.updated``: make a ready account we created its user's payout account."""
    obj = event.object
    account_id = obj.get("id")
    row = db.session.scalar(select(PayoutOnboarding)
                            .where(PayoutOnboarding.stripe_account_id == account_id))
    if row is None:
        # Ours but not committed yet (the webhook beat the onboarding's commit), or an
        # account we never created: retried, then abandoned (webhooks.MAX_DEFER).
        raise webhooks.NotReady(f"no onboarding for {account_id!r}")
    owner = str((obj.get("metadata") or {}).get("reloop_user_id") or "")
    if owner != str(row.user_id):
        log.error("account.updated for %s: metadata user %r is not %s; ignored", account_id,
                  owner, row.user_id)
        return
    if row.completed_at is not None or not _ready(obj):
        return
    payouts.assign_payout_account(row.user_id, account_id)
    row.completed_at = utcnow()
