"""The trade process as data: every transition, who may trigger it, and its effects.

``engine.apply`` is the only code that moves a trade: it looks the transition up here, checks
the trade's status and the actor, runs the effects in order (``engine.EFFECTS``), sets the new
status and writes the audit event, all in the caller's transaction.

Actors: ``buyer``, ``seller``, ``admin``, ``system`` (timers, reconciliation), ``stripe``
(webhooks).
"""

from __future__ import annotations

from dataclasses import dataclass

from marketplace.trades.models import TradeStatus as S


@dataclass(frozen=True)
class Transition:
    name: str
    sources: frozenset[str]          # empty: creation
    target: str
    actors: frozenset[str]
    effects: tuple[str, ...]
    timed: bool = False              # applied by the clock (advance job / lazily)


def _t(name, sources, target, actors, effects, timed=False) -> Transition:
    return Transition(name, frozenset(sources), target, frozenset(actors), tuple(effects),
                      timed)


COMPLETE = ("close_listing", "schedule_payout", "credit_carbon", "record_passport",
            "open_reviews")

TRANSITIONS: tuple[Transition, ...] = (
    _t("create", [], S.PENDING_PAYMENT, ["buyer"],
       # The PaymentIntent is created after this commits, outside any lock (checkout).
       ["reserve_listing", "apply_voucher", "start_payment_timer"]),
    _t("payment_succeeded", [S.PENDING_PAYMENT], S.PAID, ["stripe", "system"],
       ["hold_funds", "confirm_voucher", "start_ship_timer"]),
    # restore_voucher after cancel_payment_intent: if the intent turns out paid, the
    # transition becomes payment_succeeded before the voucher is touched.
    _t("payment_failed", [S.PENDING_PAYMENT], S.CANCELLED, ["stripe"],
       ["cancel_payment_intent", "restore_voucher", "release_listing", "stop_timer"]),
    _t("expire", [S.PENDING_PAYMENT], S.CANCELLED, ["system"],
       ["cancel_payment_intent", "restore_voucher", "release_listing", "stop_timer"],
       timed=True),
    # The buyer gives up an unpaid trade (issue 15): the listing is free again at once.
    _t("cancel_unpaid", [S.PENDING_PAYMENT], S.CANCELLED, ["buyer"],
       ["cancel_payment_intent", "restore_voucher", "release_listing", "stop_timer"]),
    # A tracked parcel's confirm timer starts on delivery instead (shipping.tracking).
    _t("ship", [S.PAID], S.SHIPPED, ["seller"],
       ["require_shipping", "require_data_wipe", "record_shipment", "start_confirm_timer",
        "track_shipment"]),
    # Local pickup: the seller submits the buyer's one-time code (handover.py).
    _t("handover", [S.PAID], S.COMPLETED, ["seller"],
       ["require_pickup", "require_data_wipe", "stop_timer", *COMPLETE]),
    # A paid trade cancelled or returned is refunded in full and its voucher given back.
    _t("cancel", [S.PAID], S.CANCELLED, ["buyer", "seller"],
       ["refund_full", "give_back_voucher", "release_listing", "stop_timer"]),
    _t("auto_cancel", [S.PAID], S.CANCELLED, ["system"],
       ["refund_full", "give_back_voucher", "release_listing", "stop_timer"], timed=True),
    _t("confirm", [S.SHIPPED], S.COMPLETED, ["buyer"], ["stop_timer", *COMPLETE]),
    _t("auto_confirm", [S.SHIPPED], S.COMPLETED, ["system"], ["stop_timer", *COMPLETE],
       timed=True),
    _t("dispute", [S.SHIPPED], S.DISPUTED, ["buyer"],
       ["record_dispute", "stop_timer", "open_dispute"]),
    # Returns (``returns``): the buyer asks within RETURN_WINDOW_SECONDS of receipt; the
    # seller accepts (the buyer ships it back, refunded when the seller receives it) or
    # refuses (a dispute). A silent seller, or a return never confirmed received, escalates.
    _t("request_return", [S.SHIPPED], S.RETURN_REQUESTED, ["buyer"],
       ["record_return_request", "start_return_answer_timer"]),
    _t("accept_return", [S.RETURN_REQUESTED], S.RETURNING, ["seller"],
       ["record_return_accepted", "start_return_timer"]),
    _t("ship_return", [S.RETURNING], S.RETURNING, ["buyer"], ["record_return_shipment"]),
    _t("receive_return", [S.RETURNING], S.REFUNDED, ["seller"],
       ["stop_timer", "record_refund", "record_return_received", "give_back_voucher",
        "release_listing"]),
    _t("refuse_return", [S.RETURN_REQUESTED], S.DISPUTED, ["seller"],
       ["stop_timer", "record_return_refused", "open_dispute"]),
    _t("escalate_return", [S.RETURN_REQUESTED], S.DISPUTED, ["system"],
       ["stop_timer", "record_return_escalated", "open_dispute"], timed=True),
    _t("escalate_returning", [S.RETURNING], S.DISPUTED, ["system"],
       ["stop_timer", "record_return_escalated", "open_dispute"], timed=True),
    # Disputes (``disputes``): the refund is made with Stripe before the transition, outside
    # any row lock, and recorded by ``record_refund``.
    _t("resolve_release", [S.DISPUTED], S.COMPLETED, ["admin"], ["close_dispute", *COMPLETE]),
    _t("resolve_refund", [S.DISPUTED], S.REFUNDED, ["admin"],
       ["record_refund", "close_dispute", "close_listing", "schedule_payout"]),
    # The buyer keeps the device and part of the money: completed, the credit kept in full.
    _t("resolve_partial", [S.DISPUTED], S.COMPLETED, ["admin"],
       ["record_refund", "close_dispute", *COMPLETE]),
    # A refund after completion; a partially refunded trade may be refunded again.
    _t("refund", [S.COMPLETED, S.REFUNDED], S.REFUNDED, ["admin"],
       ["refund_amount", "reduce_payout", "reverse_carbon"]),
    # Money arrived for a trade already cancelled (e.g. expired first): give it back.
    _t("refund_late_payment", [S.CANCELLED], S.CANCELLED, ["stripe", "system"],
       ["hold_funds", "refund_full"]),
)

BY_NAME: dict[str, Transition] = {t.name: t for t in TRANSITIONS}

# The timer running in each state, and the transition it triggers when it runs out.
TIMED: dict[str, str] = {t.sources and next(iter(t.sources)): t.name
                         for t in TRANSITIONS if t.timed}


def get(name: str) -> Transition:
    return BY_NAME[name]


def allowed(status: str) -> list[str]:
    """Transitions that can leave ``status`` (for error messages and clients)."""
    return [t.name for t in TRANSITIONS if status in t.sources]
