"""Helpers for ledger tests: users, the outbox records the trades feature will write."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import func, select

from carbon.ledger import posting, verify
from carbon.ledger.models import LedgerAccount, LedgerLine
from marketplace.accounts import services as auth_services
from marketplace.core import outbox
from marketplace.core.db import db

PASSWORD = "long enough password"


def make_users(n: int, role=auth_services.Role.USER) -> list[int]:
    return [auth_services.register(f"l-{uuid.uuid4().hex[:10]}@example.com", PASSWORD,
                                   f"User {i}", role=role).id for i in range(n)]


def completion(trade_id: int, buyer: int, seller: int, grams: int, category="smartphone",
               title=None, completed_at=None) -> None:
    """A trade's completion as the trades feature announces it (record + pending shares)."""
    posting.announce_completion({
        "trade_id": trade_id, "buyer_id": buyer, "seller_id": seller, "avoided_g": grams,
        "category": category, "listing_id": 1000 + trade_id,
        "listing_title": title or f"Used phone #{trade_id}",
        "completed_at": (completed_at or datetime.now(UTC)).isoformat()})


def refund(trade_id: int, refund_id: str, refunded: int, amount: int) -> int:
    return outbox.write("trade.refunded", {"trade_id": trade_id, "refund_id": refund_id,
                                           "refunded_amount": refunded, "trade_amount": amount})


def balance(user_id: int) -> int:
    return db.session.scalar(
        select(LedgerAccount.balance_g).where(LedgerAccount.user_id == user_id)) or 0


def line_count() -> int:
    return db.session.scalar(select(func.count()).select_from(LedgerLine))


def assert_ledger_ok() -> None:
    report = verify.run()
    assert report.ok, report.render()
