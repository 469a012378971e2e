"""Returns (request, accept, ship back, receive: refunded) and disputes (evidence, replies,
timeline, admin queue, resolution with a partial refund that keeps the carbon credit),
against localstripe; strangers get 404 on all of it."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from marketplace.core.db import db
from marketplace.core.dbtypes import utcnow
from marketplace.core.outbox import OutboxMessage
from marketplace.payments import stripe_client
from marketplace.payments.models import Payout
from marketplace.trades.models import Trade, TradeRefund
from marketplace.trades.recourse_models import Dispute
from tests.factories import assert_error_shape, create_listing, make_user
from tests.marketplace.uploads.conftest import encoded, upload


def eur(amount: int) -> dict:
    return {"amount": amount, "currency": "EUR"}


def _topics(env, trade_id) -> list[str]:
    with env.app.app_context():
        return [m.topic for m in db.session.scalars(select(OutboxMessage).order_by(
            OutboxMessage.id)) if m.topic.startswith("trade.")
            and m.payload.get("trade_id") == trade_id]


def _ok(resp, status=200) -> dict:
    assert resp.status_code == status, resp.get_json()
    return resp.get_json()


def _stranger(env) -> dict:
    return make_user(env.client, "Stranger")[1]


def test_return_accepted_shipped_back_and_received_refunds_in_full(env):
    trade = env.shipped()
    tid = trade["id"]
    # The seller cannot ask for a return; a stranger does not see the trade.
    assert_error_shape(env.post(f"/trades/{tid}/return", env.s, {"reason": "x"}), 403)
    assert_error_shape(env.post(f"/trades/{tid}/return", _stranger(env), {"reason": "x"}), 404)
    asked = _ok(env.post(f"/trades/{tid}/return", env.b, {"reason": "Not as described"}))
    assert asked["status"] == "return_requested"
    assert_error_shape(env.post(f"/trades/{tid}/confirm", env.b), 409)  # no confirm now
    assert_error_shape(env.post(f"/trades/{tid}/return/accept", env.b), 403)
    assert _ok(env.post(f"/trades/{tid}/return/accept", env.s))["status"] == "returning"
    shipped = env.post(f"/trades/{tid}/return/ship", env.b,
                       {"carrier": "La Poste", "tracking_number": "RET-1"})
    assert _ok(shipped)["status"] == "returning"
    stranger = _stranger(env)
    for path in ("/return", "/dispute"):
        assert_error_shape(env.client.get(f"/api/v1/trades/{tid}{path}", headers=stranger), 404)
    assert_error_shape(env.post(f"/trades/{tid}/return/receive", stranger), 404)
    ret = _ok(env.client.get(f"/api/v1/trades/{tid}/return", headers=env.s))
    assert (ret["status"], ret["tracking_number"], ret["reason"]) == (
        "shipped_back", "RET-1", "Not as described")

    done = _ok(env.post(f"/trades/{tid}/return/receive", env.s, key="recv-1"))
    assert done["status"] == "refunded" and done["refunded_amount"] == eur(39000)
    replay = env.post(f"/trades/{tid}/return/receive", env.s, key="recv-1")
    assert replay.headers.get("Idempotent-Replayed") == "true"
    assert_error_shape(env.post(f"/trades/{tid}/return/receive", env.s), 409)
    with env.app.app_context():
        refund = db.session.scalar(select(TradeRefund).where(TradeRefund.trade_id == tid))
        assert (refund.amount, refund.reason) == (39000, "receive_return")
        assert db.session.scalar(select(Payout).where(Payout.trade_id == tid)) is None
    assert env.ls.client().v1.refunds.retrieve(refund.stripe_refund_id).amount == 39000
    assert _ok(env.client.get(f"/api/v1/trades/{tid}/return", headers=env.b))["status"] == \
        "received"
    # Never completed: no credit and nothing to reverse; the seller may sell it again.
    env.drain()
    assert _topics(env, tid) == []
    listing = env.client.get(f"/api/v1/listings/{env.listing['id']}").get_json()
    assert listing["status"] == "active"


def test_return_window_closes(env):
    trade = env.shipped()
    with env.app.app_context():
        db.session.execute(update(Trade).where(Trade.id == trade["id"]).values(
            shipped_at=utcnow() - timedelta(days=15)))
        db.session.commit()
    body = assert_error_shape(env.post(f"/trades/{trade['id']}/return", env.b,
                                       {"reason": "Too late"}), 409)
    assert "return window" in body["message"]


def test_refused_return_opens_a_dispute_with_both_sides(env):
    trade = env.shipped()
    tid = trade["id"]
    env.post(f"/trades/{tid}/return", env.b, {"reason": "Battery drains in an hour"})
    refused = env.post(f"/trades/{tid}/return/refuse", env.s, {"reason": "It was fine"})
    assert _ok(refused)["status"] == "disputed"
    dispute = _ok(env.client.get(f"/api/v1/trades/{tid}/dispute", headers=env.s))
    assert (dispute["origin"], dispute["reason"], dispute["status"]) == (
        "return_refused", "Battery drains in an hour", "open")
    timeline = _ok(env.client.get(f"/api/v1/disputes/{dispute['id']}/entries",
                                  headers=env.b))["items"]
    assert [(e["author_role"], e["kind"]) for e in timeline] == [("buyer", "opened"),
                                                                 ("seller", "reply")]
    assert timeline[1]["text"] == "It was fine"


def test_unanswered_return_escalates_to_a_dispute(env):
    trade = env.shipped()
    env.post(f"/trades/{trade['id']}/return", env.b, {"reason": "Wrong colour"})
    env.backdate(trade["id"])
    assert env.get(trade["id"])["status"] == "disputed"  # the timer applies on read
    dispute = _ok(env.client.get(f"/api/v1/trades/{trade['id']}/dispute", headers=env.b))
    assert dispute["origin"] == "return_stalled"


def _disputed(env, listing_id=None, **evidence) -> tuple[dict, dict]:
    trade = env.shipped(**({"listing_id": listing_id} if listing_id else {}))
    body = {"reason": "Screen cracked on arrival", **evidence}
    _ok(env.post(f"/trades/{trade['id']}/dispute", env.b, body))
    return trade, _ok(env.client.get(f"/api/v1/trades/{trade['id']}/dispute", headers=env.b))


def _photo(env, headers) -> int:
    resp = upload(env.client, headers, encoded("JPEG"))
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()["id"]


def test_dispute_evidence_replies_queue_and_partial_refund_keeping_the_credit(env):
    crack, box = _photo(env, env.b), _photo(env, env.b)
    trade, dispute = _disputed(env, evidence_text="Photo of the crack attached.",
                               photo_ids=[crack, box])
    tid, did = trade["id"], dispute["id"]
    base = f"/api/v1/disputes/{did}"
    assert_error_shape(env.post(f"/disputes/{did}/entries", env.s,
                                {"text": "x", "photo_ids": [True]}), 422)
    # Evidence is one's own uploads, each used once: the buyer's photo is not the seller's.
    assert "photo_ids" in assert_error_shape(env.post(f"/disputes/{did}/entries", env.s, {
        "text": "x", "photo_ids": [crack]}), 422)["errors"]
    wrap = _photo(env, env.s)
    reply = _ok(env.post(f"/disputes/{did}/entries", env.s,
                         {"text": "Packed with bubble wrap", "photo_ids": [wrap]}), 201)
    assert (reply["author_role"], reply["kind"], reply["photo_ids"]) == ("seller", "reply",
                                                                         [wrap])
    assert [p["id"] for p in reply["photos"]] == [wrap] and reply["photos"][0]["url"]
    _ok(env.post(f"/disputes/{did}/entries", env.b, {"text": "The box was intact"}), 201)
    timeline = _ok(env.client.get(f"{base}/entries", headers=env.s))["items"]
    assert [e["kind"] for e in timeline] == ["opened", "reply", "evidence"]
    assert timeline[0]["photo_ids"] == [crack, box]
    assert "Photo of the crack attached." in timeline[0]["text"]

    # Strangers see none of it; non-admins have no queue.
    stranger = _stranger(env)
    for path in ("", "/entries"):
        assert_error_shape(env.client.get(f"{base}{path}", headers=stranger), 404)
    assert_error_shape(env.post(f"/disputes/{did}/entries", stranger, {"text": "hi"}), 404)
    assert_error_shape(env.client.get("/api/v1/admin/disputes", headers=env.b), 403)

    # A second dispute, resolved first: the queue shows open ones first, oldest first.
    other_listing = create_listing(env.client, env.s)
    other, other_dispute = _disputed(env, listing_id=other_listing["id"])
    _ok(env.post(f"/admin/disputes/{other_dispute['id']}/resolve", env.a,
                 {"outcome": "release"}))
    _, third_dispute = _disputed(env, listing_id=create_listing(env.client, env.s)["id"])
    page = _ok(env.client.get("/api/v1/admin/disputes?limit=2", headers=env.a))
    assert [d["id"] for d in page["items"]] == [did, third_dispute["id"]]
    rest = _ok(env.client.get(f"/api/v1/admin/disputes?limit=2&cursor={page['next_cursor']}",
                              headers=env.a))
    assert [(d["id"], d["status"]) for d in rest["items"]] == [(other_dispute["id"],
                                                                "resolved")]

    # Partial refund: at least something must stay with the seller; then resolved once.
    resolve = f"/admin/disputes/{did}/resolve"
    assert_error_shape(env.post(resolve, env.a, {"outcome": "partial_refund"}), 422)
    assert_error_shape(env.post(resolve, env.a, {"outcome": "partial_refund",
                                                 "amount": eur(39000)}), 422)
    assert_error_shape(env.post(resolve, env.s, {"outcome": "release"}), 403)
    done = _ok(env.post(resolve, env.a, {"outcome": "partial_refund", "amount": eur(10000),
                                         "note": "Cosmetic damage; buyer keeps it"}))
    assert (done["status"], done["outcome"], done["refund"]) == ("resolved", "partial",
                                                                 eur(10000))
    assert_error_shape(env.post(resolve, env.a, {"outcome": "release"}), 409)
    traded = env.get(tid)
    assert traded["status"] == "completed" and traded["refunded_amount"] == eur(10000)
    assert traded["seller_payable"] == eur(39000 - 1950 - 10000)
    env.drain()
    with env.app.app_context():
        assert db.session.scalar(select(Payout.amount).where(Payout.trade_id == tid)) == 27050
        refund = db.session.scalar(select(TradeRefund).where(TradeRefund.trade_id == tid))
        assert (refund.amount, refund.reason) == (10000, "resolve_partial")
        avoided_g = db.session.get(Trade, tid).avoided_g
        assert db.session.scalar(select(Dispute.pending_resolution).where(
            Dispute.id == did)) is None
    assert env.ls.client().v1.refunds.retrieve(refund.stripe_refund_id).amount == 10000
    # The buyer kept the device: the credit is whole, nothing reversed.
    assert _topics(env, tid) == ["trade.completed"]
    credited = sum(env.client.get("/api/v1/carbon/account", headers=h).get_json()["balance_g"]
                   for h in (env.b, env.s))
    assert avoided_g > 0 and credited == avoided_g + _credited_elsewhere(env, other["id"])
    result = env.app.test_cli_runner().invoke(args=["carbon", "verify-ledger"])
    assert result.exit_code == 0, result.output
    timeline = _ok(env.client.get(f"{base}/entries", headers=env.b))["items"]
    assert timeline[-1]["kind"] == "resolution" and "buyer keeps it" in timeline[-1]["text"]
    audit = _ok(env.client.get(f"/api/v1/admin/audit?subject_type=dispute&subject_id={did}",
                               headers=env.a))["items"]
    assert [a["action"] for a in audit] == ["dispute.resolved"]


def _credited_elsewhere(env, trade_id) -> int:
    """The released dispute's trade completed too: its credit is in the same balances."""
    with env.app.app_context():
        return db.session.get(Trade, trade_id).avoided_g


def test_full_refund_of_a_dispute_and_the_legacy_resolve_path(env):
    trade, dispute = _disputed(env)
    resp = env.post(f"/admin/trades/{trade['id']}/resolve", env.a, {"outcome": "refund"})
    assert _ok(resp)["status"] == "refunded" and resp.get_json()["refunded_amount"] == eur(39000)
    got = _ok(env.client.get(f"/api/v1/disputes/{dispute['id']}", headers=env.a))
    assert (got["status"], got["outcome"], got["refund"]) == ("resolved", "refund", eur(39000))
    env.drain()
    assert _topics(env, trade["id"]) == []


def test_a_pending_refund_decision_is_repeated_not_replaced(env, monkeypatch):
    """Stripe down after the decision is recorded: a retry of it refunds once; another
    decision meanwhile is a 409."""
    trade, dispute = _disputed(env)
    real = stripe_client.refund

    def down(*args, **kwargs):
        raise stripe_client.PaymentProviderUnavailable()

    monkeypatch.setattr(stripe_client, "refund", down)
    resolve = f"/admin/disputes/{dispute['id']}/resolve"
    body = {"outcome": "partial_refund", "amount": eur(5000)}
    assert_error_shape(env.post(resolve, env.a, body), 503)
    assert_error_shape(env.post(resolve, env.a, {"outcome": "release"}), 409)
    monkeypatch.setattr(stripe_client, "refund", real)
    assert _ok(env.post(resolve, env.a, body))["refund"] == eur(5000)
    assert env.get(trade["id"])["refunded_amount"] == eur(5000)


def test_a_suspended_sellers_trade_in_flight_goes_on(env):
    trade = env.shipped()
    with env.app.app_context():
        seller_id = db.session.get(Trade, trade["id"]).seller_id
    # A reserved listing is not suspended under its trade.
    assert_error_shape(env.post(f"/admin/listings/{env.listing['id']}/suspend", env.a,
                                {"reason": "Counterfeit"}), 409)
    _ok(env.post(f"/admin/users/{seller_id}/suspend", env.a, {"reason": "Fraud"}))
    assert_error_shape(env.client.get(f"/api/v1/trades/{trade['id']}", headers=env.s), 401)
    assert env.get(trade["id"])["status"] == "shipped"
    done = _ok(env.post(f"/trades/{trade['id']}/confirm", env.b))
    assert done["status"] == "completed"
