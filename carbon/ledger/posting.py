"""Posting: the outbox handlers that turn trade events into journal transactions.

``trade.completed`` credits the trade's frozen central avoided emissions to the buyer and the
seller (split by ``CARBON_BUYER_SHARE``, the two shares adding up to exactly the trade's grams),
drawn from the issuance account. A party who acted for an organisation (``buyer_org_id`` /
``seller_org_id`` in the payload) credits the organisation's account instead of their own:
no pending share and no rule evaluation for that member. ``trade.refunded`` reverses that
credit in proportion to the refunded amount; refunds of one trade add up and never reverse
more than was credited (``shares.reversal_amounts``).

Both run inside the outbox's transaction (records locked, marked processed in the same commit)
and both are idempotent on their own through the transactions' unique idempotency keys.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import delete, select

from carbon.ledger import bulk
from carbon.ledger.models import EntryKind, LedgerLine, LedgerTransaction, PendingCredit
from carbon.ledger.shares import reversal_amounts
from marketplace.core import events, outbox
from marketplace.core.db import db
from marketplace.core.dbtypes import utcnow
from marketplace.core.http import respcache

PPM = 1_000_000
# Outbox topics the incentives handle (carbon/incentives): evaluate the rules after each
# credit, revoke rewards after a reversal. Written in the posting's own transaction.
COMPLETED_TOPIC = "trade.completed"  # written by the trades feature
REFUNDED_TOPIC = "trade.refunded"
EVALUATE_TOPIC = "incentives.evaluate"
REVERSE_TOPIC = "incentives.reverse"


class InvalidEvent(ValueError):
    """A payload the ledger cannot post; the record stays pending with the error."""


class CreditNotPosted(RuntimeError):
    """A refund whose trade's credit is not posted yet; retried later."""


def credit_key(trade_id: int) -> str:
    return f"trade:{trade_id}:credit"


def reversal_key(trade_id: int, refund_id: str) -> str:
    return f"trade:{trade_id}:reversal:{refund_id}"


def buyer_share_ppm() -> int:
    return round(float(current_app.config["CARBON_BUYER_SHARE"]) * PPM)


def split(total_g: int, share_ppm: int) -> tuple[int, int]:
    """(buyer, seller) grams: the buyer's share rounded half up, the seller the rest, so the
    two always add up to ``total_g`` and nothing is counted twice."""
    buyer = (total_g * share_ppm * 2 + PPM) // (2 * PPM)
    return buyer, total_g - buyer


def _int(payload: dict[str, Any], name: str, minimum: int = 0) -> int:
    value = payload.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidEvent(f"{name} must be an integer >= {minimum}, got {value!r}")
    return value


def _opt_id(payload: dict[str, Any], name: str) -> int | None:
    return None if payload.get(name) is None else _int(payload, name, 1)


@dataclass(frozen=True, slots=True)
class Completion:
    trade_id: int
    buyer_id: int
    seller_id: int
    avoided_g: int
    meta: dict[str, Any]
    occurred_at: Any

    @classmethod
    def parse(cls, payload: dict[str, Any], default_time) -> Completion:
        trade_id = _int(payload, "trade_id", 1)
        meta = {
            "listing_id": payload.get("listing_id"),
            "listing_title": str(payload.get("listing_title") or "")[:200],
            "category": str(payload.get("category") or "other")[:64],
            "buyer_id": _int(payload, "buyer_id", 1),
            "seller_id": _int(payload, "seller_id", 1),
            "avoided_g": _int(payload, "avoided_g"),
            # The trade's whole e-waste and raw materials avoided (central, grams): shown
            # next to CO2, each party's by its share of the credit. Optional (0 if absent).
            "ewaste_avoided_g": _int({"ewaste_avoided_g": 0, **payload}, "ewaste_avoided_g"),
            "materials_avoided_g": _int({"materials_avoided_g": 0, **payload},
                                        "materials_avoided_g"),
            # The organisations the parties acted for (credited instead of the members).
            "buyer_org_id": _opt_id(payload, "buyer_org_id"),
            "seller_org_id": _opt_id(payload, "seller_org_id"),
        }
        try:
            occurred = bulk.as_utc(payload.get("completed_at"), default_time)
        except (TypeError, ValueError):
            raise InvalidEvent(
                f"completed_at is not an ISO time: {payload.get('completed_at')!r}") from None
        return cls(trade_id, meta["buyer_id"], meta["seller_id"], meta["avoided_g"], meta,
                   occurred)

    @property
    def buyer_org_id(self) -> int | None:
        return self.meta["buyer_org_id"]

    @property
    def seller_org_id(self) -> int | None:
        return self.meta["seller_org_id"]

    def personal_parties(self) -> list[int]:
        """The users credited in person (not acting for an organisation)."""
        return sorted({u for u, org in ((self.buyer_id, self.buyer_org_id),
                                        (self.seller_id, self.seller_org_id)) if org is None})


def evaluated_parties(meta: dict[str, Any]) -> list[int]:
    """The users a credit (its transaction's ``meta``) is evaluated for: those credited in
    person, when it credited anything (a credit of 0 g, e.g. a price below the category floor,
    earns no rewards, nor does an organisation's share: rules reward people)."""
    if int(meta.get("avoided_g") or 0) <= 0:
        return []
    return sorted({int(meta[f"{side}_id"]) for side in ("buyer", "seller")
                   if meta.get(f"{side}_org_id") is None})


def party_accounts(meta: dict[str, Any]) -> tuple[int, int]:
    """(buyer's, seller's) ledger accounts of a credit: an organisation's when the party acted
    for one, else the user's own."""
    out = []
    for side in ("buyer", "seller"):
        org = meta.get(f"{side}_org_id")
        if org:
            out.append(bulk.ensure_org_accounts([org])[org])
        else:
            user = meta[f"{side}_id"]
            out.append(bulk.ensure_user_accounts([user])[user])
    return out[0], out[1]


def forget_account_pages(user_ids: Iterable[int]) -> None:
    """The users' carbon account pages kept in the response cache (core.http.respcache) go
    when this transaction commits: their balance, credited trades or pending share moved."""
    respcache.forget_owners_after_commit(db.session(), {respcache.user_owner(u)
                                                        for u in user_ids})


def announce_completion(payload: dict[str, Any]) -> None:
    """Write a trade's ``trade.completed`` record in the caller's transaction, with each
    party's pending share (read by the account page until the credit is posted). Raises
    ``InvalidEvent`` for a payload the posting would reject."""
    c = Completion.parse(payload, utcnow())
    outbox.write(COMPLETED_TOPIC, payload)
    buyer_g, seller_g = split(c.avoided_g, buyer_share_ppm())
    shares: dict[int, int] = defaultdict(int)
    if c.buyer_org_id is None:
        shares[c.buyer_id] += buyer_g
    if c.seller_org_id is None:
        shares[c.seller_id] += seller_g
    if not shares:
        return
    forget_account_pages(shares)
    bulk.insert_ignore(PendingCredit, [
        {"trade_id": c.trade_id, "user_id": user, "amount_g": grams, "created_at": utcnow()}
        for user, grams in sorted(shares.items())], "trade_id", "user_id")


def post_credits(records: list[Any]) -> int:
    """Credit a batch of completed trades; return how many credits were new."""
    share = buyer_share_ppm()
    by_key: dict[str, Completion] = {}
    for record in records:
        c = Completion.parse(record.payload, record.created_at)
        by_key.setdefault(credit_key(c.trade_id), c)
    if not by_key:
        return 0
    forget_account_pages(u for c in by_key.values() for u in c.personal_parties())
    db.session.execute(delete(PendingCredit).where(
        PendingCredit.trade_id.in_(sorted({c.trade_id for c in by_key.values()}))))
    accounts = bulk.ensure_user_accounts(
        [c.buyer_id for c in by_key.values() if c.buyer_org_id is None]
        + [c.seller_id for c in by_key.values() if c.seller_org_id is None])
    orgs = bulk.ensure_org_accounts(
        [o for c in by_key.values() for o in (c.buyer_org_id, c.seller_org_id) if o])
    issuance = bulk.issuance_account_id()
    rows = []
    for key, c in by_key.items():
        buyer_g, seller_g = split(c.avoided_g, share)
        rows.append({"idempotency_key": key, "kind": EntryKind.CREDIT.value,
                     "trade_id": c.trade_id, "occurred_at": c.occurred_at,
                     "meta": {**c.meta, "buyer_g": buyer_g, "seller_g": seller_g,
                              "buyer_share_ppm": share}})
    inserted = bulk.insert_transactions(rows)
    lines: list[tuple[int, int, int]] = []
    deltas: dict[int, int] = defaultdict(int)
    for key, tx_id in inserted.items():
        c = by_key[key]
        buyer_g, seller_g = split(c.avoided_g, share)
        buyer_acct = orgs[c.buyer_org_id] if c.buyer_org_id else accounts[c.buyer_id]
        seller_acct = orgs[c.seller_org_id] if c.seller_org_id else accounts[c.seller_id]
        lines += [(tx_id, buyer_acct, buyer_g), (tx_id, seller_acct, seller_g),
                  (tx_id, issuance, -c.avoided_g)]
        deltas[buyer_acct] += buyer_g
        deltas[seller_acct] += seller_g
    bulk.insert_lines(lines)
    bulk.add_to_balances(deltas)
    events.publish_many([  # one "carbon credited" notification per party with grams
        ("carbon.credited", [user], {"trade_id": c.trade_id, "grams": grams})
        for c in (by_key[key] for key in inserted)
        for user, grams in zip((c.buyer_id, c.seller_id), split(c.avoided_g, share),
                               strict=True) if grams > 0])
    # One evaluation record per new credit and party (``evaluated_parties``), in the same
    # transaction and one statement, partitioned by user: one user's evaluations run in order
    # on one worker.
    evaluations = [(tx_id, by_key[key].trade_id, user) for key, tx_id in inserted.items()
                   for user in evaluated_parties(by_key[key].meta)]
    outbox.write_many(EVALUATE_TOPIC, [
        {"ledger_transaction_id": tx_id, "trade_id": trade_id, "user_ids": [user]}
        for tx_id, trade_id, user in evaluations], partition_by=[e[2] for e in evaluations])
    return len(inserted)


def post_reversals(records: list[Any]) -> int:
    """Reverse credits for refunds (rare: one at a time, in id order)."""
    return sum(post_reversal(r.payload, r.created_at) for r in records)


def post_reversal(payload: dict[str, Any], at=None) -> int:
    trade_id = _int(payload, "trade_id", 1)
    refund_id = str(payload.get("refund_id") or "")
    if not refund_id:
        raise InvalidEvent("refund_id is required")
    refunded = _int(payload, "refunded_amount")
    trade_amount = _int(payload, "trade_amount", 1)
    key = reversal_key(trade_id, refund_id)
    # Lock the credit: refunds of one trade are applied one after the other.
    credit = db.session.scalar(select(LedgerTransaction)
                               .where(LedgerTransaction.idempotency_key == credit_key(trade_id))
                               .with_for_update())
    if credit is None:
        raise CreditNotPosted(f"trade {trade_id} has no credit yet; refund {refund_id} waits")
    if db.session.scalar(select(LedgerTransaction.id)
                         .where(LedgerTransaction.idempotency_key == key)) is not None:
        return 0
    issuance = bulk.issuance_account_id()
    # The credited parties' lines, found through their accounts (index on account_id, id):
    # a user's history is short, so no index on lines.transaction_id is needed for this.
    accounts = sorted(set(party_accounts(credit.meta)))
    parties = [(a, m) for a, m in db.session.execute(
        select(LedgerLine.account_id, LedgerLine.amount_g)
        .where(LedgerLine.account_id.in_(accounts),
               LedgerLine.transaction_id == credit.id)
        .order_by(LedgerLine.id))]
    previous = db.session.scalars(select(LedgerTransaction).where(
        LedgerTransaction.trade_id == trade_id,
        LedgerTransaction.kind == EntryKind.REVERSAL.value)).all()
    reversed_by_account: dict[int, int] = defaultdict(int)
    if previous:
        for a, m in db.session.execute(
                select(LedgerLine.account_id, LedgerLine.amount_g)
                .where(LedgerLine.account_id.in_(accounts),
                       LedgerLine.transaction_id.in_([p.id for p in previous]))):
            reversed_by_account[a] -= m
    prior_refunded = sum(int(p.meta.get("refunded_amount", 0)) for p in previous)
    cumulative = min(prior_refunded + refunded, trade_amount)
    amounts = reversal_amounts(parties, dict(reversed_by_account), cumulative, trade_amount)
    total = sum(amounts)
    meta = {k: credit.meta.get(k) for k in ("listing_id", "listing_title", "category",
                                            "avoided_g", "ewaste_avoided_g",
                                            "materials_avoided_g")}
    meta.update(refund_id=refund_id, refunded_amount=refunded, trade_amount=trade_amount,
                reversed_g=total)
    inserted = bulk.insert_transactions([{
        "idempotency_key": key, "kind": EntryKind.REVERSAL.value, "trade_id": trade_id,
        "occurred_at": at or utcnow(), "meta": meta}])
    if not inserted:
        return 0
    tx_id = inserted[key]
    forget_account_pages(credit.meta[f"{side}_id"] for side in ("buyer", "seller")
                         if not credit.meta.get(f"{side}_org_id"))
    lines = [(tx_id, a, -amount) for (a, _), amount in zip(parties, amounts, strict=True)]
    bulk.insert_lines(lines + [(tx_id, issuance, total)])
    deltas: dict[int, int] = defaultdict(int)
    for (a, _), amount in zip(parties, amounts, strict=True):
        deltas[a] -= amount
    bulk.add_to_balances(deltas)
    outbox.write(REVERSE_TOPIC, {"trade_id": trade_id, "credit_transaction_id": credit.id,
                                 "reversal_transaction_id": tx_id})
    return 1
