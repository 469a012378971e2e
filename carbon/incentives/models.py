"""Incentive tables: rules and their versions, rewards, the points ledger, vouchers, the
reward catalogue, and the per-credit evaluation log (anti-gaming flags).

Points are integers in a double-entry ledger shaped like the carbon ledger: every issuance is
drawn from the ``system:points-issuance`` account, every redemption goes to
``system:points-redeemed``; a user's balance is cached on the account row and may go negative
when a reward is revoked after its points were spent.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.core.db import db
from marketplace.core.dbtypes import BigIntPK, UTCDateTime, utcnow

# Kinds of ledger credit a rule can count (``params.credit_kinds``).
CREDIT_KINDS = ("trade", "recycling")


class RuleType(enum.StrEnum):
    THRESHOLD = "threshold"
    MILESTONE = "milestone"
    STREAK = "streak"
    CAMPAIGN = "campaign"
    TREE = "tree"


class RewardKind(enum.StrEnum):
    POINTS = "points"
    BADGE = "badge"
    VOUCHER = "voucher"
    TREE = "tree"


class RewardStatus(enum.StrEnum):
    ISSUED = "issued"
    PARTLY_REVOKED = "partly_revoked"  # some of an aggregated reward's units revoked
    REVOKED = "revoked"


# Statuses of a reward the user still holds (in whole or in part).
HELD = (RewardStatus.ISSUED.value, RewardStatus.PARTLY_REVOKED.value)


class VoucherStatus(enum.StrEnum):
    AVAILABLE = "available"
    RESERVED = "reserved"  # held by a trade awaiting payment
    USED = "used"
    REVOKED = "revoked"


class IncentiveRule(db.Model):
    """A rule's identity, switch and budget; its definition lives in versions."""

    __tablename__ = "incentive_rules"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    version: Mapped[int] = mapped_column(default=1)  # the current version's number
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    spent_points: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class IncentiveRuleVersion(db.Model):
    """One definition of a rule; an update writes a new version, older ones are kept."""

    __tablename__ = "incentive_rule_versions"
    __table_args__ = (UniqueConstraint("rule_id", "version",
                                       name="uq_incentive_rule_versions_rule_id_version"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("incentive_rules.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column()
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(16))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    reward: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    caps: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    valid_from: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    valid_to: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    created_by: Mapped[int | None] = mapped_column(BigInteger, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Reward(db.Model):
    """A reward issued to a user by a rule for one threshold / period / credit (``period_key``).

    ``(rule_id, user_id, period_key)`` is unique: a rule, whatever its version, issues a given
    threshold or period to a user at most once. Revoking a reward renames its key
    (``<key>~r<id>``) so that the same threshold, crossed again later, can be earned again.

    A threshold rule that gives points or a badge issues one *aggregated* reward per credit
    (key ``tx:<ledger transaction id>``): ``units`` thresholds crossed, at ``first_g``,
    ``first_g + step_g``, … ``last_g`` grams of the user's cumulative emissions avoided, less
    ``skipped_g`` (thresholds in that range the user already holds from an earlier reward, or
    none); ``points`` is their total after caps. The set of thresholds a user holds per rule
    is the same as with one reward per threshold. A partial reversal revokes the top units
    whose thresholds are no longer reached (``revoked_units``, ``revoked_points``; status
    ``partly_revoked``), a full one all of them (``revoked``). A tree rule's crossings are
    aggregated the same way: one certificate per credit for its ``units`` trees (until
    2026-12, one per tree, key ``tree:<grams>``). Vouchers stay one per threshold (``units``
    1: a voucher each), as do the other rules' rewards.
    """

    __tablename__ = "incentive_rewards"
    __table_args__ = (
        UniqueConstraint("rule_id", "user_id", "period_key",
                         name="uq_incentive_rewards_rule_id_user_id_period_key"),
        Index("ix_incentive_rewards_user_id_id", "user_id", "id"),
        Index("ix_incentive_rewards_source", "source_transaction_id"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("incentive_rules.id", ondelete="RESTRICT"))
    rule_version_id: Mapped[int] = mapped_column(
        ForeignKey("incentive_rule_versions.id", ondelete="RESTRICT"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    period_key: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))
    points: Mapped[int] = mapped_column(BigInteger, default=0)
    badge: Mapped[str | None] = mapped_column(String(64), default=None)
    certificate_id: Mapped[str | None] = mapped_column(String(40), unique=True, default=None)
    voucher_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    source_transaction_id: Mapped[int] = mapped_column(BigInteger)  # the ledger credit
    trade_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the credit's time
    status: Mapped[str] = mapped_column(String(16), default=RewardStatus.ISSUED.value)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    units: Mapped[int] = mapped_column(default=1, server_default=text("1"))
    first_g: Mapped[int | None] = mapped_column(BigInteger, default=None)
    last_g: Mapped[int | None] = mapped_column(BigInteger, default=None)
    step_g: Mapped[int | None] = mapped_column(BigInteger, default=None)
    skipped_g: Mapped[list[int] | None] = mapped_column(JSON, default=None)
    revoked_units: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    revoked_points: Mapped[int] = mapped_column(BigInteger, default=0,
                                                server_default=text("0"))

    def thresholds(self) -> list[int]:
        """An aggregated reward's thresholds (grams), ascending, revoked ones included."""
        return thresholds(self.first_g, self.last_g, self.step_g, self.skipped_g)


def thresholds(first_g: int | None, last_g: int | None, step_g: int | None,
               skipped_g: list[int] | None) -> list[int]:
    """The thresholds (grams) an aggregated reward stands for, ascending."""
    if step_g is None or first_g is None or last_g is None:
        return []
    skipped = set(skipped_g or ())
    return [g for g in range(first_g, last_g + 1, step_g) if g not in skipped]


class PointsAccount(db.Model):
    __tablename__ = "points_accounts"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="RESTRICT"), unique=True, default=None)
    balance: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PointsTransaction(db.Model):
    """Immutable; ``idempotency_key`` (``reward:<id>``, ``reward:<id>:revoke``,
    ``redeem:<uuid>``) is unique, so posting twice inserts nothing."""

    __tablename__ = "points_transactions"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PointsLine(db.Model):
    __tablename__ = "points_lines"
    __table_args__ = (Index("ix_points_lines_account_id_id", "account_id", "id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    transaction_id: Mapped[int] = mapped_column(
        ForeignKey("points_transactions.id", ondelete="RESTRICT"))
    account_id: Mapped[int] = mapped_column(ForeignKey("points_accounts.id", ondelete="RESTRICT"))
    amount: Mapped[int] = mapped_column(BigInteger)


class Voucher(db.Model):
    """Single use, the owner's only; ``percent_off`` (capped by ``max_off``) or ``amount_off``
    in ``currency``; ``trade_id`` is the trade holding or having used it."""

    __tablename__ = "vouchers"
    __table_args__ = (Index("ix_vouchers_user_id", "user_id"),
                      Index("ix_vouchers_trade_id", "trade_id"))

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    percent_off: Mapped[int | None] = mapped_column(default=None)
    amount_off: Mapped[int | None] = mapped_column(BigInteger, default=None)
    max_off: Mapped[int | None] = mapped_column(BigInteger, default=None)
    min_price: Mapped[int | None] = mapped_column(BigInteger, default=None)
    currency: Mapped[str | None] = mapped_column(String(3), default=None)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default=VoucherStatus.AVAILABLE.value)
    trade_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    discount: Mapped[int | None] = mapped_column(BigInteger, default=None)
    source: Mapped[str] = mapped_column(String(64))  # reward:<id> or redeem:<points tx id>
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reserved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # When its owner was told it expires soon (``vouchers.remind_expiring``; once).
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class CatalogItem(db.Model):
    __tablename__ = "reward_catalog_items"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    cost_points: Mapped[int] = mapped_column(BigInteger)
    reward: Mapped[dict[str, Any]] = mapped_column(JSON)  # a voucher or badge spec
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CreditEvaluation(db.Model):
    """One row per (ledger credit, credited user) once evaluated: the evaluation's idempotency
    marker and the anti-gaming history (counterparty, eligibility, why not)."""

    __tablename__ = "incentive_evaluations"
    __table_args__ = (
        UniqueConstraint("transaction_id", "user_id",
                         name="uq_incentive_evaluations_transaction_id_user_id"),
        # (serves every query by user: the anti-gaming window, checked per counterparty in
        # Python, or all of them with a streak rule; a (user, counterparty) index went
        # unused: 0028)
        Index("ix_incentive_evaluations_user_time", "user_id", "occurred_at"),
        Index("ix_incentive_evaluations_flagged", "id",
              postgresql_where=text("flag IS NOT NULL"), sqlite_where=text("flag IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    transaction_id: Mapped[int] = mapped_column(BigInteger)
    trade_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    user_id: Mapped[int] = mapped_column(BigInteger)
    counterparty_id: Mapped[int] = mapped_column(BigInteger)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    amount_g: Mapped[int] = mapped_column(BigInteger)
    eligible: Mapped[bool] = mapped_column(Boolean)
    flag: Mapped[str | None] = mapped_column(String(32), default=None)
    rewards: Mapped[int] = mapped_column(default=0)
    evaluated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
