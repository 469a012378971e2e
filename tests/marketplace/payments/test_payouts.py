"""Payouts: scheduled in the caller's transaction, transferred by a job, accrued without a
payout account, retried when Stripe is down.

localstripe has no Connect endpoints: transfers here go to a minimal local fake of only
``POST /v1/transfers`` (tests/stripe_fixtures.py::FakeTransfers).
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from marketplace.core.db import db
from marketplace.core.dbtypes import utcnow
from marketplace.core.errors import Conflict, InvalidInput
from marketplace.core.outbox import OutboxMessage
from marketplace.payments import payouts
from marketplace.payments.models import Payout, PayoutStatus
from marketplace.payments.stripe_client import PaymentProviderUnavailable
from tests.factories import assert_error_shape, login, register


@pytest.fixture
def seller(client):
    user = register(client, name="Seller")
    return user["id"], login(client, user["email"])


def _schedule(app, trade_id, seller_id, amount=9500, currency="EUR") -> int:
    with app.app_context():
        payout = payouts.schedule_payout(trade_id, seller_id, amount, currency)
        db.session.commit()
        return payout.id


def _set_account(app, seller_id, account_id) -> None:
    """As Stripe's ``account.updated`` webhook does after onboarding (test_connect.py)."""
    with app.app_context():
        payouts.set_payout_account(seller_id, account_id)


def _payout(app, payout_id) -> Payout:
    with app.app_context():
        payout = db.session.get(Payout, payout_id)
        db.session.expunge(payout)
        return payout


def test_without_payout_account_the_payout_accrues(app, client, seller, fake_transfers,
                                                   drain_jobs):
    seller_id, headers = seller
    payout_id = _schedule(app, 101, seller_id)
    drain_jobs()
    assert _payout(app, payout_id).status == PayoutStatus.ACCRUED
    assert fake_transfers.requests == []
    body = client.get("/api/v1/users/me/payouts", headers=headers).get_json()
    assert [p["trade_id"] for p in body["items"]] == [101] and body["next_cursor"] is None
    assert body["items"][0]["status"] == "accrued"
    assert body["items"][0]["amount"] == {"amount": 9500, "currency": "EUR"}
    body = client.get("/api/v1/users/me/payout-balances", headers=headers).get_json()
    zero = {"amount": 0, "currency": "EUR"}
    assert body == {"balances": [{"currency": "EUR", "accrued": {"amount": 9500,
                                                                 "currency": "EUR"},
                                  "pending": zero, "transferred": zero, "failed": zero}]}


def test_setting_an_account_transfers_accrued_payouts(app, client, seller, fake_transfers,
                                                      drain_jobs):
    seller_id, headers = seller
    first = _schedule(app, 201, seller_id, 1000)
    second = _schedule(app, 202, seller_id, 2500, "usd")
    drain_jobs()
    _set_account(app, seller_id, "acct_1SellerABC")
    drain_jobs()
    for payout_id, trade_id in ((first, 201), (second, 202)):
        payout = _payout(app, payout_id)
        assert payout.trade_id == trade_id
        assert payout.status == PayoutStatus.TRANSFERRED and payout.stripe_transfer_id
        assert payout.attempts == 1
    sent = {r["form"]["transfer_group"]: r for r in fake_transfers.requests}
    assert set(sent) == {"trade-201", "trade-202"}
    assert sent["trade-201"]["headers"]["Idempotency-Key"] == f"payout-{first}-transfer"
    assert sent["trade-201"]["form"]["destination"] == "acct_1SellerABC"
    assert sent["trade-202"]["form"]["currency"] == "usd"
    body = client.get("/api/v1/users/me/payout-balances", headers=headers).get_json()
    assert {b["currency"]: b["transferred"] for b in body["balances"]} == {
        "EUR": {"amount": 1000, "currency": "EUR"}, "USD": {"amount": 2500, "currency": "USD"}}
    assert client.get("/api/v1/users/me/payout-account",
                      headers=headers).get_json()["stripe_account_id"] == "acct_1SellerABC"


def test_seller_with_account_is_paid_by_the_job(app, client, seller, fake_transfers,
                                                drain_jobs):
    seller_id, headers = seller
    _set_account(app, seller_id, "acct_ready")
    payout_id = _schedule(app, 301, seller_id, 4200)
    drain_jobs()
    payout = _payout(app, payout_id)
    assert payout.status == PayoutStatus.TRANSFERRED
    assert payout.stripe_transfer_id == "tr_fake0001"
    (req,) = fake_transfers.requests
    assert req["form"]["amount"] == "4200" and req["form"]["metadata[trade_id]"] == "301"
    # Running the job again does nothing.
    with app.app_context():
        assert payouts.transfer(payout_id) == "transferred"
    assert len(fake_transfers.requests) == 1


def test_provider_down_keeps_the_payout_pending_and_the_reconciler_retries(
        app, client, seller, fake_transfers, drain_jobs):
    seller_id, headers = seller
    _set_account(app, seller_id, "acct_later")
    fake_transfers.responses = [(503, {"error": {"type": "api_error", "message": "down"}})]
    payout_id = _schedule(app, 401, seller_id)
    drain_jobs()
    payout = _payout(app, payout_id)
    assert payout.status == PayoutStatus.PENDING and payout.attempts == 1
    assert "provider unavailable" in payout.last_error
    with app.app_context():
        assert payouts.reconcile(timedelta(seconds=60)) == 0  # within the grace period
        db.session.execute(update(Payout).values(updated_at=utcnow() - timedelta(minutes=5)))
        db.session.commit()
        assert payouts.reconcile(timedelta(seconds=60)) == 1
    drain_jobs()
    payout = _payout(app, payout_id)
    assert payout.status == PayoutStatus.TRANSFERRED and payout.attempts == 2
    keys = {r["headers"]["Idempotency-Key"] for r in fake_transfers.requests}
    assert keys == {f"payout-{payout_id}-transfer"}  # the retry reused the key


def test_transfer_job_raises_for_rq_to_retry(app, seller, fake_transfers):
    seller_id, _ = seller
    with app.app_context():
        payouts.set_payout_account(seller_id, "acct_x1")
        payout = Payout(trade_id=501, seller_id=seller_id, amount=10, currency="eur")
        db.session.add(payout)
        db.session.commit()
        fake_transfers.responses = [(500, {"error": {"type": "api_error", "message": "x"}})]
        with pytest.raises(PaymentProviderUnavailable):
            payouts.transfer(payout.id)


def test_refused_transfer_marks_the_payout_failed(app, seller, fake_transfers):
    seller_id, _ = seller
    fake_transfers.responses = [(400, {"error": {
        "type": "invalid_request_error", "code": "account_invalid",
        "message": "The account cannot receive transfers."}})]
    with app.app_context():
        payouts.set_payout_account(seller_id, "acct_broken")
        payout = Payout(trade_id=601, seller_id=seller_id, amount=10, currency="eur")
        db.session.add(payout)
        db.session.commit()
        assert payouts.transfer(payout.id) == "failed"
        db.session.refresh(payout)
        assert "account_invalid" in payout.last_error


def test_schedule_payout_is_part_of_the_callers_transaction(app, seller, drain_jobs):
    seller_id, _ = seller
    with app.app_context():
        payouts.schedule_payout(701, seller_id, 100, "eur")
        db.session.rollback()  # the trade's completion failed
        drain_jobs()
        assert db.session.scalar(select(func.count()).select_from(Payout)) == 0
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.topic == "payout.requested")) == 0


def test_schedule_payout_is_idempotent_per_trade(app, seller, fake_transfers):
    seller_id, _ = seller
    with app.app_context():
        first = payouts.schedule_payout(801, seller_id, 100, "eur")
        db.session.commit()
        assert payouts.schedule_payout(801, seller_id, 100, "EUR").id == first.id
        with pytest.raises(Conflict):
            payouts.schedule_payout(801, seller_id, 200, "eur")
        with pytest.raises(ValueError):
            payouts.schedule_payout(802, seller_id, 0, "eur")
        with pytest.raises(ValueError):
            payouts.schedule_payout(803, seller_id, 10, "euro")


@pytest.mark.parametrize("value", ["acct_", "acc_123", "acct_12 3", "ACCT_123", "x" * 300,
                                   "acct_123;drop"])
def test_payout_account_is_validated(app, seller, value):
    seller_id, _ = seller
    with app.app_context(), pytest.raises(InvalidInput) as exc:
        payouts.set_payout_account(seller_id, value)
    assert "stripe_account_id" in exc.value.errors


def test_payout_endpoints_need_a_token(client):
    assert_error_shape(client.get("/api/v1/users/me/payouts"), 401)
    assert_error_shape(client.post("/api/v1/users/me/payout-account/onboarding",
                                   json={"password": "x"}), 401)
    assert_error_shape(client.get("/api/v1/users/me/payout-account"), 401)


def test_no_payout_account_is_404(client, seller):
    _, headers = seller
    assert_error_shape(client.get("/api/v1/users/me/payout-account", headers=headers), 404)


def test_payouts_are_private(app, client, seller, fake_transfers, drain_jobs):
    seller_id, _ = seller
    _schedule(app, 901, seller_id)
    other = register(client, name="Other")
    headers = login(client, other["email"])
    body = client.get("/api/v1/users/me/payouts", headers=headers).get_json()
    assert body == {"items": [], "next_cursor": None}
    body = client.get("/api/v1/users/me/payout-balances", headers=headers).get_json()
    assert body == {"balances": []}


def test_payouts_are_paged_newest_first(app, client, seller, fake_transfers, drain_jobs):
    seller_id, headers = seller
    ids = [_schedule(app, 950 + n, seller_id, 100 + n) for n in range(3)]
    drain_jobs()
    page = client.get("/api/v1/users/me/payouts?limit=2", headers=headers).get_json()
    assert [p["id"] for p in page["items"]] == [ids[2], ids[1]] and page["next_cursor"]
    rest = client.get(f"/api/v1/users/me/payouts?limit=2&cursor={page['next_cursor']}",
                      headers=headers).get_json()
    assert [p["id"] for p in rest["items"]] == [ids[0]] and rest["next_cursor"] is None
    assert rest["items"][0]["amount"] == {"amount": 100, "currency": "EUR"}
    for bad in ("bm90LWEtY3Vyc29y", "WzEsMl0", "a b"):
        resp = client.get(f"/api/v1/users/me/payouts?cursor={bad}", headers=headers)
        assert "cursor" in assert_error_shape(resp, 422)["errors"]
    assert_error_shape(client.get("/api/v1/users/me/payouts?limit=101", headers=headers), 422)
    assert_error_shape(client.get("/api/v1/users/me/payouts"), 401)
    assert_error_shape(client.get("/api/v1/users/me/payout-balances"), 401)


def test_balances_leave_out_cancelled_payouts(app, client, seller):
    seller_id, headers = seller
    status = _payout(app, _schedule(app, 960, seller_id, 700, "usd")).status
    with app.app_context():
        db.session.add(Payout(trade_id=961, seller_id=seller_id, amount=0, currency="usd",
                              status=PayoutStatus.CANCELLED.value))
        db.session.commit()
    (balance,) = client.get("/api/v1/users/me/payout-balances",
                            headers=headers).get_json()["balances"]
    assert set(balance) == {"currency", "accrued", "pending", "transferred", "failed"}
    assert balance["currency"] == "USD"
    assert balance[status] == {"amount": 700, "currency": "USD"}
    assert sum(balance[k]["amount"] for k in set(balance) - {"currency"}) == 700


def test_clients_cannot_set_a_payout_account(client, seller):
    """The account id comes from Stripe's webhook only (test_connect.py): no PUT."""
    _, headers = seller
    resp = client.put("/api/v1/users/me/payout-account", headers=headers,
                      json={"stripe_account_id": "acct_mine"})
    assert_error_shape(resp, 405)
    assert_error_shape(client.get("/api/v1/users/me/payout-account", headers=headers), 404)


@pytest.mark.services
def test_concurrent_transfers_of_one_payout_make_one_transfer(app, seller, fake_transfers):
    """Two workers run the job for the same payout at once: the row lock (SKIP LOCKED) lets
    one transfer; the other skips."""
    seller_id, _ = seller
    with app.app_context():
        payouts.set_payout_account(seller_id, "acct_race")
        payout = Payout(trade_id=1001, seller_id=seller_id, amount=10, currency="eur")
        db.session.add(payout)
        db.session.commit()
        payout_id = payout.id
    fake_transfers.delay = 0.5
    results: list[str] = []
    barrier = threading.Barrier(2)

    def work():
        with app.app_context():
            barrier.wait()
            results.append(payouts.transfer(payout_id))
            db.session.remove()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results) == ["skipped", "transferred"]
    assert len(fake_transfers.requests) == 1

