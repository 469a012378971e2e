"""Reversals revoke unused rewards (negative points block redemptions); anti-gaming flags."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from carbon.incentives import catalog, points, vouchers
from carbon.incentives.models import Voucher
from carbon.ledger import posting
from marketplace.core.db import db
from marketplace.core.errors import Conflict
from marketplace.core.outbox import OutboxMessage
from marketplace.organisations.models import Organisation
from tests.carbon.incentives.helpers import (
    T0,
    admin_headers,
    balance,
    flags,
    held_g,
    issued,
    make_users,
    points_rule,
    refund_and_drain,
    rule,
    trade,
)
from tests.carbon.ledger.helpers import balance as carbon_balance


def test_full_reversal_revokes_unused_rewards_and_points_may_go_negative(app_ctx, drain_jobs):
    points_rule(every_kg=10, amount=100)
    rule("milestone", {"event": "first_trade"},
         {"kind": "voucher", "percent_off": 10, "expires_days": 30})
    item = catalog.create({"name": "v", "cost_points": 150,
                           "reward": {"kind": "voucher", "percent_off": 5}})
    buyer, seller = make_users(2)
    trade(drain_jobs, 1, buyer, seller, 40_000)  # 20 kg each: 200 points + a voucher
    assert balance(buyer) == 200
    catalog.redeem(buyer, item.id)  # spends 150
    refund_and_drain(drain_jobs, 1, "re_1", 10_000, 10_000)
    assert balance(buyer) == -150 and balance(seller) == 0
    assert issued(buyer) == [] and issued(seller) == []
    vouchers = {v.source.split(":")[0]: v.status for v in db.session.query(Voucher)
                .filter_by(user_id=buyer)}
    assert vouchers == {"reward": "revoked", "redeem": "available"}  # bought one kept
    with pytest.raises(Conflict):
        catalog.redeem(buyer, item.id)
    assert points.verify() == []


def test_partial_reversal_revokes_only_thresholds_no_longer_reached(app_ctx, drain_jobs):
    points_rule(every_kg=10, amount=100)
    buyer, seller = make_users(2)
    trade(drain_jobs, 1, buyer, seller, 50_000)  # 25 kg each: 10 and 20 kg, one reward
    refund_and_drain(drain_jobs, 1, "re_1", 3_000, 10_000)  # 30%: 17.5 kg left
    (reward,) = issued(buyer)
    assert held_g(reward) == [10000] and reward.status == "partly_revoked"
    assert (reward.units, reward.revoked_units, reward.revoked_points) == (2, 1, 100)
    assert balance(buyer) == 100
    trade(drain_jobs, 2, buyer, seller, 6_000)  # back to 20.5 kg: earned again
    assert [held_g(x) for x in issued(buyer)] == [[10000], [20000]]
    assert balance(buyer) == 200
    assert points.verify() == []


def test_used_voucher_reward_is_kept_on_reversal(app_ctx, drain_jobs):

    rule("milestone", {"event": "first_trade"}, {"kind": "voucher", "percent_off": 10})
    buyer, seller = make_users(2)
    trade(drain_jobs, 1, buyer, seller, 1_000)
    (reward,) = issued(buyer)
    code = db.session.get(Voucher, reward.voucher_id).code
    vouchers.reserve_for_trade(code, buyer, 10_000, "EUR", 77)
    vouchers.confirm_for_trade(77)
    db.session.commit()
    refund_and_drain(drain_jobs, 1, "re_1", 100, 100)
    assert [x.id for x in issued(buyer)] == [reward.id]


def test_self_trade_earns_nothing(app_ctx, drain_jobs):
    points_rule(every_kg=1, amount=10)
    (user,) = make_users(1)
    trade(drain_jobs, 1, user, user, 10_000)
    assert balance(user) == 0 and flags(user) == ["self_trade"]


def test_more_than_two_trades_per_pair_in_30_days(app, app_ctx, drain_jobs, monkeypatch):
    monkeypatch.setitem(app.config, "INCENTIVE_PAIR_LIMIT", 2)
    points_rule(every_kg=1, amount=10)
    a, b = make_users(2)
    for i in range(3):
        trade(drain_jobs, i + 1, a, b, 2_000, at=T0 + timedelta(days=i))
    assert balance(a) == balance(b) == 20  # the third earned nothing...
    assert flags(a) == [None, None, "pair_limit"]

    assert carbon_balance(a) == 3_000  # ...but was credited
    trade(drain_jobs, 4, b, a, 2_000, at=T0 + timedelta(days=31))  # window moved on
    assert balance(a) == 30


def test_daily_cap_on_rewarded_trades_and_admin_flags(app, client, app_ctx, drain_jobs,
                                                      monkeypatch):

    monkeypatch.setitem(app.config, "INCENTIVE_REWARDED_TRADES_PER_DAY", 2)
    points_rule(every_kg=1, amount=10)
    buyer, *sellers = make_users(4)
    for i, s in enumerate(sellers):
        trade(drain_jobs, i + 1, buyer, s, 2_000, at=T0 + timedelta(minutes=i))
    assert balance(buyer) == 20 and flags(buyer) == [None, None, "daily_cap"]
    trade(drain_jobs, 9, buyer, sellers[0], 2_000, at=T0 + timedelta(days=1))
    assert balance(buyer) == 30
    page = client.get("/api/v1/admin/incentives/flags",
                      headers=admin_headers(client, app)).get_json()
    assert [(f["trade_id"], f["user_id"], f["reason"]) for f in page["items"]] == [
        (3, buyer, "daily_cap")]


def _pending_reversals() -> int:
    return db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.topic == "incentives.reverse", OutboxMessage.processed_at.is_(None)))


def test_reversal_revokes_the_person_s_rewards_when_the_other_party_was_an_organisation(
        app_ctx, drain_jobs):
    # The organisation's buyer was never evaluated (rules reward people): the reversal must
    # not wait for that evaluation, and the seller's rewards go.
    points_rule(every_kg=10, amount=100)
    buyer, seller = make_users(2)
    org = Organisation(name="Acme", country="FR", kind="company", created_by=buyer)
    db.session.add(org)
    db.session.commit()
    posting.announce_completion({
        "trade_id": 1, "buyer_id": buyer, "seller_id": seller, "avoided_g": 40_000,
        "buyer_org_id": org.id, "category": "smartphone", "listing_id": 1001,
        "listing_title": "Used phone", "completed_at": T0.isoformat()})
    db.session.commit()
    drain_jobs()
    assert balance(seller) == 200 and issued(buyer) == []
    refund_and_drain(drain_jobs, 1, "re_org", 10_000, 10_000)
    assert _pending_reversals() == 0
    assert issued(seller) == [] and balance(seller) == 0
    assert points.verify() == []


def test_reversal_of_a_zero_gram_credit_is_done_at_once(app_ctx, drain_jobs):
    points_rule(every_kg=10, amount=100)
    buyer, seller = make_users(2)
    trade(drain_jobs, 1, buyer, seller, 0)  # e.g. a price below the category's floor
    refund_and_drain(drain_jobs, 1, "re_zero", 10_000, 10_000)
    assert _pending_reversals() == 0
