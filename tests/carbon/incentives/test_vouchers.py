"""The voucher service the trades feature calls: reserve, restore, confirm; errors; races
(PostgreSQL)."""

import threading
from datetime import timedelta

import pytest

from carbon.incentives import catalog, points, vouchers
from carbon.incentives.models import Voucher
from marketplace.core.db import db
from marketplace.core.dbtypes import utcnow
from marketplace.core.errors import Conflict, InvalidInput
from tests.carbon.incentives.helpers import make_users


def _voucher(user, **spec):
    v = vouchers.issue(user, {"percent_off": 10, "max_off": 2000, "expires_days": 30, **spec},
                       "test")
    db.session.commit()
    return v.code


def test_percent_voucher_reserved_confirmed_once(app_ctx):
    (buyer,) = make_users(1)
    code = _voucher(buyer)
    assert vouchers.reserve_for_trade(code, buyer, 15_000, "EUR", 1) == 1500
    assert vouchers.reserve_for_trade(code, buyer, 15_000, "EUR", 1) == 1500  # same trade
    db.session.commit()
    with pytest.raises(Conflict, match="another purchase"):
        vouchers.reserve_for_trade(code, buyer, 15_000, "EUR", 2)
    assert vouchers.confirm_for_trade(1) == 1
    db.session.commit()
    with pytest.raises(Conflict, match="already been used"):
        vouchers.reserve_for_trade(code, buyer, 15_000, "EUR", 3)
    assert vouchers.restore_for_trade(1) == 0  # used is final


def test_max_off_and_fixed_amount(app_ctx):
    (buyer,) = make_users(1)
    assert vouchers.reserve_for_trade(_voucher(buyer), buyer, 100_000, "EUR", 1) == 2000
    fixed = _voucher(buyer, percent_off=None, amount_off=500, currency="EUR", min_price=1000)
    with pytest.raises(InvalidInput, match="at least 1000"):
        vouchers.reserve_for_trade(fixed, buyer, 999, "EUR", 2)
    with pytest.raises(InvalidInput, match="EUR"):
        vouchers.reserve_for_trade(fixed, buyer, 5000, "GBP", 2)
    assert vouchers.reserve_for_trade(fixed.lower(), buyer, 1000, "EUR", 2) == 500


def test_restored_when_the_trade_is_cancelled_before_payment(app_ctx):
    (buyer,) = make_users(1)
    code = _voucher(buyer)
    vouchers.reserve_for_trade(code, buyer, 5_000, "EUR", 1)
    db.session.commit()
    assert vouchers.restore_for_trade(1) == 1
    db.session.commit()
    assert vouchers.reserve_for_trade(code, buyer, 5_000, "EUR", 2) == 500


def test_refusals(app_ctx):
    buyer, other = make_users(2)
    code = _voucher(buyer)
    with pytest.raises(InvalidInput) as exc:
        vouchers.reserve_for_trade(code, other, 5_000, "EUR", 1)
    assert "voucher_code" in exc.value.errors
    with pytest.raises(InvalidInput):
        vouchers.reserve_for_trade("RL-NOPE", buyer, 5_000, "EUR", 1)
    expired = _voucher(buyer)
    db.session.query(Voucher).filter_by(code=expired).update(
        {"expires_at": utcnow() - timedelta(seconds=1)})
    db.session.commit()
    with pytest.raises(Conflict, match="expired"):
        vouchers.reserve_for_trade(expired, buyer, 5_000, "EUR", 1)


def _race(app, n, work):
    barrier = threading.Barrier(n)
    results = []

    def run(i):
        with app.app_context():
            barrier.wait()
            try:
                results.append(work(i))
                db.session.commit()
            except (Conflict, InvalidInput) as exc:
                db.session.rollback()
                results.append(type(exc).__name__)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


@pytest.mark.services
def test_concurrent_trades_consume_a_voucher_exactly_once(app, app_ctx):
    (buyer,) = make_users(1)
    code = _voucher(buyer)
    results = _race(app, 8, lambda i: vouchers.reserve_for_trade(code, buyer, 9_000, "EUR",
                                                                  100 + i))
    assert sorted(map(str, results)).count("900") == 1
    assert results.count("Conflict") == 7


@pytest.mark.services
def test_concurrent_redemptions_never_overspend(app, app_ctx):
    (user,) = make_users(1)
    points.post("grant:1", "reward", user, 300, {})
    item = catalog.create({"name": "v", "cost_points": 100,
                           "reward": {"kind": "voucher", "percent_off": 5}})
    db.session.commit()
    item_id = item.id
    results = _race(app, 8, lambda i: catalog.redeem(user, item_id))
    assert sum(isinstance(r, dict) for r in results) == 3
    assert results.count("Conflict") == 5
    db.session.expire_all()
    assert points.balance(user) == 0 and points.verify() == []
