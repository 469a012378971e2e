"""Ledger tables: accounts, journal transactions, lines. Amounts are integer grams CO2e.

Sign convention: a user's balance is the sum of its lines, positive when credited. Every credit
is drawn from the issuance account, whose balance is therefore minus everything ever credited.

Journal transactions and lines are immutable: corrections are new reversing transactions (on
PostgreSQL, triggers from migration 0003 reject UPDATE and DELETE on both tables).
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.core.db import db
from marketplace.core.dbtypes import BigIntPK, UTCDateTime, utcnow


class AccountKind(enum.StrEnum):
    USER = "user"
    ORGANISATION = "organisation"
    ISSUANCE = "issuance"


# Accounts that hold credits (everything but the issuance account).
HOLDER_KINDS = (AccountKind.USER.value, AccountKind.ORGANISATION.value)


class EntryKind(enum.StrEnum):
    CREDIT = "credit"
    REVERSAL = "reversal"
    RECYCLING = "recycling"  # a confirmed recycling handover (carbon.ledger.recycling)


ISSUANCE_CODE = "system:issuance"


def user_account_code(user_id: int) -> str:
    return f"user:{user_id}"


def org_account_code(organisation_id: int) -> str:
    return f"org:{organisation_id}"


class LedgerAccount(db.Model):
    """One per user and one per organisation (created on first posting) plus system accounts.

    An organisation's account (kind ``organisation``) has ``organisation_id`` set and no
    ``user_id``: a member acting for the organisation credits it, not their own account.

    ``balance_g`` is the cached balance, updated in the same transaction as the account's
    lines. It is NULL for the issuance account, which every credit touches: caching it would
    make one row every worker has to lock, so its balance is derived from its lines.
    """

    __tablename__ = "ledger_accounts"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="RESTRICT"), unique=True, default=None)
    # The organisations feature's id (no foreign key: carbon does not depend on marketplace
    # features; organisations are never deleted).
    organisation_id: Mapped[int | None] = mapped_column(BigInteger, unique=True, default=None)
    balance_g: Mapped[int | None] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LedgerTransaction(db.Model):
    """A journal transaction: two or more lines summing to zero, written once.

    ``idempotency_key`` (``trade:<id>:credit``, ``trade:<id>:reversal:<refund id>``) is unique:
    posting the same business event twice inserts nothing the second time. ``meta`` keeps what
    the API shows (listing title, category...) so reads do not depend on the trades table.
    """

    __tablename__ = "ledger_transactions"
    __table_args__ = (Index("ix_ledger_transactions_trade_id", "trade_id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    trade_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LedgerLine(db.Model):
    __tablename__ = "ledger_lines"
    # One index: an account's lines in order (entries, balances, a trade's lines through its
    # parties' accounts). No index on transaction_id: nothing looks lines up by it alone, and
    # every line written would pay for it.
    __table_args__ = (Index("ix_ledger_lines_account_id_id", "account_id", "id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    transaction_id: Mapped[int] = mapped_column(
        ForeignKey("ledger_transactions.id", ondelete="RESTRICT"))
    account_id: Mapped[int] = mapped_column(ForeignKey("ledger_accounts.id", ondelete="RESTRICT"))
    amount_g: Mapped[int] = mapped_column(BigInteger)


class PendingCredit(db.Model):
    """A party's share of a completed trade whose credit is not posted yet.

    Written with the ``trade.completed`` outbox record (``posting.announce_completion``) and
    deleted by the posting that credits it, so the account page reads pending credit from an
    index instead of scanning outbox JSON. Shares are split at the buyer share in force when the
    trade completed.
    """

    __tablename__ = "ledger_pending_credits"
    __table_args__ = (
        UniqueConstraint("trade_id", "user_id", name="uq_ledger_pending_credits_trade_id_user_id"),
        Index("ix_ledger_pending_credits_user_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    trade_id: Mapped[int] = mapped_column(BigInteger)
    user_id: Mapped[int] = mapped_column(BigInteger)
    amount_g: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
