"""Recycling credits: the ``recycling.confirmed`` outbox handler and its ledger check.

A recycler's confirmation of a handover (``marketplace.recycling``) writes one
``recycling.confirmed`` record in its transaction; this handler posts it as a journal
transaction of its own kind (``recycling``), keyed ``recycling:<id>:credit``: the handover's
central credit to the user (or to the organisation they handed over for), drawn from the
issuance account. However often a record is applied (a drain run twice, a retry), the unique
key inserts it once. A credit above 0 g writes an ``incentives.evaluate`` record for the user,
so incentive rules can target recycling (``credit_kinds``).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import func, select

from carbon.ledger import bulk
from carbon.ledger.models import (
    HOLDER_KINDS,
    EntryKind,
    LedgerAccount,
    LedgerLine,
    LedgerTransaction,
)
from carbon.ledger.posting import (
    EVALUATE_TOPIC,
    InvalidEvent,
    _int,
    _opt_id,
    forget_account_pages,
)
from marketplace.core import outbox
from marketplace.core.db import db
from marketplace.core.outbox import OutboxMessage

TOPIC = "recycling.confirmed"
KEY_PREFIX = "recycling:"


def credit_key(recycling_id: int) -> str:
    return f"{KEY_PREFIX}{recycling_id}:credit"


def _meta(p: dict[str, Any]) -> dict[str, Any]:
    return {
        "credit_kind": "recycling", "recycling_id": _int(p, "recycling_id", 1),
        "user_id": _int(p, "user_id", 1), "org_id": _opt_id(p, "organisation_id"),
        "recycler_id": _int(p, "recycler_id", 1),
        "category": str(p.get("category") or "other")[:64],
        "listing_title": str(p.get("device") or "")[:200],
        "avoided_g": _int(p, "credit_g"), "credit_g": _int(p, "credit_g"),
        "credit_low_g": _int({"credit_low_g": 0, **p}, "credit_low_g"),
        "credit_high_g": _int({"credit_high_g": 0, **p}, "credit_high_g"),
        "materials_recovered_g": _int({"materials_recovered_g": 0, **p},
                                      "materials_recovered_g"),
        "parts_harvested": _int({"parts_harvested": 0, **p}, "parts_harvested"),
        "ewaste_avoided_g": 0, "materials_avoided_g": 0,
        "methodology_version": str(p.get("methodology_version") or "")[:64],
    }


def post_recycling_credits(records: list[Any]) -> int:
    """Credit a batch of confirmed handovers; return how many credits were new."""
    metas: dict[str, tuple[dict[str, Any], Any]] = {}
    for record in records:
        meta = _meta(record.payload)
        try:
            at = bulk.as_utc(record.payload.get("confirmed_at"), record.created_at)
        except (TypeError, ValueError):
            raise InvalidEvent("confirmed_at is not an ISO time") from None
        metas.setdefault(credit_key(meta["recycling_id"]), (meta, at))
    if not metas:
        return 0
    users = bulk.ensure_user_accounts(m["user_id"] for m, _ in metas.values() if not m["org_id"])
    orgs = bulk.ensure_org_accounts(m["org_id"] for m, _ in metas.values() if m["org_id"])
    inserted = bulk.insert_transactions([
        {"idempotency_key": key, "kind": EntryKind.RECYCLING.value, "trade_id": None,
         "occurred_at": at, "meta": meta} for key, (meta, at) in metas.items()])
    if not inserted:
        return 0
    forget_account_pages(metas[key][0]["user_id"] for key in inserted
                         if not metas[key][0]["org_id"])
    issuance = bulk.issuance_account_id()
    lines, deltas, evaluations = [], defaultdict(int), []
    for key, tx_id in inserted.items():
        meta = metas[key][0]
        account = orgs[meta["org_id"]] if meta["org_id"] else users[meta["user_id"]]
        lines += [(tx_id, account, meta["credit_g"]), (tx_id, issuance, -meta["credit_g"])]
        deltas[account] += meta["credit_g"]
        if meta["credit_g"] > 0 and not meta["org_id"]:
            evaluations.append((tx_id, meta["user_id"]))
    bulk.insert_lines(lines)
    bulk.add_to_balances(deltas)
    outbox.write_many(EVALUATE_TOPIC, [
        {"ledger_transaction_id": tx_id, "trade_id": None, "user_ids": [user]}
        for tx_id, user in evaluations], partition_by=[u for _, u in evaluations])
    return len(inserted)


def recycling_credits_match_records(section) -> None:
    """Each posted recycling credit equals its processed ``recycling.confirmed`` record."""
    expected: dict[str, int] = {}
    for p in db_payloads(processed=True):
        expected.setdefault(credit_key(int(p["recycling_id"])), int(p["credit_g"]))
    waiting = {credit_key(int(p["recycling_id"])) for p in db_payloads(processed=False)}
    actual = dict(db.session.execute(
        select(LedgerTransaction.idempotency_key, func.sum(LedgerLine.amount_g))
        .join(LedgerLine, LedgerLine.transaction_id == LedgerTransaction.id)
        .join(LedgerAccount, LedgerAccount.id == LedgerLine.account_id)
        .where(LedgerAccount.kind.in_(HOLDER_KINDS),
               LedgerTransaction.kind == EntryKind.RECYCLING.value)
        .group_by(LedgerTransaction.idempotency_key)).all())
    section.info.append(f"{len(expected)} recycling confirmations processed, {len(waiting)} "
                        f"waiting; expected {sum(expected.values())} g, credited "
                        f"{sum(int(v or 0) for v in actual.values())} g")
    for key in sorted(set(expected) | set(actual)):
        want, got = expected.get(key), int(actual.get(key) or 0)
        if want is None:
            section.problems.append(f"{key}: {got} g credited with no confirmation record")
        elif want != got:
            section.problems.append(f"{key}: expected {want} g, credited {got} g")


def db_payloads(processed: bool) -> list[dict[str, Any]]:
    done = OutboxMessage.processed_at.is_not(None) if processed else \
        OutboxMessage.processed_at.is_(None)
    return list(db.session.scalars(
        select(OutboxMessage.payload).where(OutboxMessage.topic == TOPIC, done)
        .order_by(OutboxMessage.id)))
