"""What a batch evaluation reads first: the active rules (cached per process), the users'
points accounts (created if needed, locked in id order) and their cumulative grams."""

from __future__ import annotations

import bisect
import itertools
from collections import defaultdict
from datetime import UTC, datetime

from sqlalchemy import BigInteger, case, func, select, text
from sqlalchemy.orm import aliased

from carbon.ledger.models import LedgerAccount, LedgerLine
from marketplace.core.db import any_of, db
from marketplace.core.dbtypes import utcnow

from . import points
from .evaluate import ActiveRule, as_active
from .models import IncentiveRule, IncentiveRuleVersion, PointsAccount

_rules_cache: dict[tuple, list[ActiveRule]] = {}


def active_rules() -> list[ActiveRule]:
    """The current versions of the active rules, cached per process until a rule changes
    (create, update and (de)activation all bump ``updated_at``)."""
    sig = tuple(db.session.execute(select(
        func.count(), func.max(IncentiveRule.updated_at), func.max(IncentiveRule.id),
        func.coalesce(func.sum(IncentiveRule.version), 0),
        func.coalesce(func.sum(case((IncentiveRule.active.is_(True), IncentiveRule.id),
                                    else_=0)), 0))).one())
    key = (str(db.engine.url), *sig)
    rules = _rules_cache.get(key)
    if rules is None:
        rules = [as_active(v) for v in db.session.scalars(
            select(IncentiveRuleVersion)
            .join(IncentiveRule, (IncentiveRule.id == IncentiveRuleVersion.rule_id)
                  & (IncentiveRule.version == IncentiveRuleVersion.version))
            .where(IncentiveRule.active.is_(True)).order_by(IncentiveRule.id))]
        _rules_cache.clear()
        _rules_cache[key] = rules
    return rules


def lock_accounts(users: list[int]) -> tuple[dict[int, int], int]:
    """Create (if needed) and lock the users' points accounts in id order; return them by user
    and the issuance account's id (read in the same statement, not locked)."""
    system = aliased(PointsAccount)
    sys_id = select(system.id).where(system.code == points.ISSUANCE).scalar_subquery()
    query = (select(PointsAccount.id, PointsAccount.user_id, sys_id)
             .where(any_of(PointsAccount.user_id, users)).order_by(PointsAccount.id)
             .with_for_update(of=PointsAccount))
    rows = db.session.execute(query).all()
    if len(rows) < len(users) or not rows or rows[0][2] is None:
        have = {r[1] for r in rows}
        create(sorted(set(users) - have), issuance=not rows or rows[0][2] is None)
        rows = db.session.execute(query).all()
    return {r[1]: r[0] for r in rows}, rows[0][2]


_PG_CREATE = text("""
    INSERT INTO points_accounts (code, user_id, balance, created_at)
    SELECT 'user:' || u, u, 0, CAST(:now AS TIMESTAMPTZ) FROM unnest(CAST(:users AS BIGINT[])) AS u
    UNION ALL SELECT CAST(:issuance AS VARCHAR), NULL, 0, CAST(:now AS TIMESTAMPTZ)
    WHERE CAST(:with_issuance AS BOOLEAN)
    ON CONFLICT (code) DO NOTHING""")


def create(users: list[int], issuance: bool) -> None:
    """Create the points accounts of ``users`` (and with ``issuance``, the issuance account)
    unless they exist: on PostgreSQL one statement with one array parameter."""
    now = utcnow()
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(_PG_CREATE, {"now": now, "users": users, "issuance": points.ISSUANCE,
                                        "with_issuance": issuance})
        return
    rows = [{"code": f"user:{u}", "user_id": u, "balance": 0, "created_at": now}
            for u in users]
    if issuance:
        rows.append({"code": points.ISSUANCE, "user_id": None, "balance": 0, "created_at": now})
    if rows:
        db.session.execute(points._insert(PointsAccount).values(rows)
                           .on_conflict_do_nothing(index_elements=["code"]))


def cumulative(pairs: list[tuple[int, int]]) -> dict[tuple[int, int], int]:
    """Each (user, transaction) pair's cumulative grams: the user's lines up to and including
    the transaction (one query: lines before the batch summed, the batch's range per id)."""
    users = sorted({u for u, _ in pairs})
    lo, hi = min(t for _, t in pairs), max(t for _, t in pairs)
    bucket = case((LedgerLine.transaction_id < lo, 0), else_=LedgerLine.transaction_id)
    rows = db.session.execute(
        select(LedgerAccount.user_id, bucket,
               func.sum(LedgerLine.amount_g).cast(BigInteger))  # (not numeric: no Decimal)
        .join(LedgerAccount, LedgerAccount.id == LedgerLine.account_id)
        .where(any_of(LedgerAccount.user_id, users), LedgerLine.transaction_id <= hi)
        .group_by(LedgerAccount.user_id, bucket)).all()
    per_user: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for user, tx, g in rows:
        per_user[user].append((tx, g or 0))
    prefix: dict[int, tuple[list[int], list[int]]] = {}
    for user, sums in per_user.items():
        sums.sort()
        prefix[user] = ([t for t, _ in sums], list(itertools.accumulate(g for _, g in sums)))
    out = {}
    for user, tx in pairs:
        txs, cum = prefix.get(user, ([], []))
        i = bisect.bisect_right(txs, tx)
        out[(user, tx)] = cum[i - 1] if i else 0
    return out


def day(at: datetime) -> datetime:
    at = at.astimezone(UTC)
    return datetime(at.year, at.month, at.day, tzinfo=UTC)


