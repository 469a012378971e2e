"""Evaluation of each rule type after credits (both modes): boundaries, several thresholds at
once, caps, budget, versions, idempotency."""

from datetime import timedelta

from carbon.incentives import manage, points
from carbon.incentives.models import CreditEvaluation, Reward, Voucher
from marketplace.core.db import db
from tests.carbon.incentives.helpers import (
    T0,
    balance,
    held_g,
    issued,
    make_users,
    points_rule,
    reevaluate_all,
    rule,
    trade,
)


def test_threshold_boundaries_and_several_at_once(app_ctx, drain_jobs):
    r = points_rule(every_kg=10, amount=100)
    buyer, seller = make_users(2)
    trade(drain_jobs, 1, buyer, seller, 19_998)  # 9,999 g each: just below 10 kg
    assert balance(buyer) == 0 and issued(buyer) == []
    trade(drain_jobs, 2, buyer, seller, 2)  # exactly 10,000 g
    assert balance(buyer) == 100
    assert [held_g(x) for x in issued(buyer)] == [[10000]]
    trade(drain_jobs, 3, buyer, seller, 60_000)  # 40 kg: crosses 20, 30, 40 at once
    rewards = issued(buyer, r["id"])  # one reward per credit, the crossings its units
    assert [held_g(x) for x in rewards] == [[10000], [20000, 30000, 40000]]
    assert [(x.units, x.points, x.period_key) for x in rewards] == [
        (1, 100, "tx:2"), (3, 300, "tx:3")]
    assert balance(buyer) == balance(seller) == 400
    assert points.verify() == []


def test_evaluating_twice_issues_nothing_more(app_ctx, drain_jobs):
    points_rule(every_kg=1, amount=5)
    buyer, seller = make_users(2)
    trade(drain_jobs, 1, buyer, seller, 4_000)
    assert balance(buyer) == 10
    reevaluate_all()
    assert balance(buyer) == 10
    assert db.session.query(CreditEvaluation).count() == 2


def test_milestones_amount_and_first_trade(app_ctx, drain_jobs):
    first = rule("milestone", {"event": "first_trade"}, {"kind": "badge", "badge": "first-trade"})
    ten = rule("milestone", {"at_kg": 10}, {"kind": "badge", "badge": "10-kg"})
    buyer, seller = make_users(2)
    trade(drain_jobs, 1, buyer, seller, 2_000)
    assert [x.badge for x in issued(buyer)] == ["first-trade"]
    trade(drain_jobs, 2, buyer, seller, 17_998)  # 9,999 g: not yet
    assert len(issued(buyer, ten["id"])) == 0
    trade(drain_jobs, 3, buyer, seller, 2)
    trade(drain_jobs, 4, buyer, seller, 50_000)
    assert [x.badge for x in issued(buyer)] == ["first-trade", "10-kg"]
    assert len(issued(buyer, first["id"])) == 1


def test_streak_of_consecutive_months(app_ctx, drain_jobs):
    r = rule("streak", {"months": 3}, {"kind": "points", "amount": 50})
    buyer, *sellers = make_users(8)
    months = [(2026, 1), (2026, 2), (2026, 2), (2026, 3), (2026, 5), (2026, 6), (2026, 7)]
    for i, (y, m) in enumerate(months, start=1):
        trade(drain_jobs, i, buyer, sellers[i % 7], 1000, at=T0.replace(year=y, month=m))
    keys = [x.period_key for x in issued(buyer, r["id"])]
    assert keys == ["streak:2026-03", "streak:2026-07"]  # April broke the first run


def test_campaign_multiplier_in_categories_and_window(app_ctx, drain_jobs):
    rule("campaign", {"categories": ["laptop"], "multiplier": 2},
         {"kind": "points", "amount": 10}, valid_from=T0, valid_to=T0 + timedelta(days=7))
    buyer, s1, s2, s3 = make_users(4)
    trade(drain_jobs, 1, buyer, s1, 5_000, category="laptop")  # 2.5 kg → 25 × 2
    trade(drain_jobs, 2, buyer, s2, 5_000, category="smartphone")
    trade(drain_jobs, 3, buyer, s3, 5_000, category="laptop", at=T0 + timedelta(days=7))
    assert balance(buyer) == 50


def test_tree_certificates_every_17_9_kg(app_ctx, drain_jobs):
    """One certificate per credit that plants trees, for all of them (its units)."""
    rule("tree", {}, {"kind": "tree"})
    buyer, seller = make_users(2)
    trade(drain_jobs, 1, buyer, seller, 2 * 17_899)
    assert issued(buyer) == []
    trade(drain_jobs, 2, buyer, seller, 2 * 17_901 + 2)  # to 35.801 kg: two trees
    trade(drain_jobs, 3, buyer, seller, 2 * 17_900)  # to 53.701 kg: a third
    certs = issued(buyer)
    assert [(c.period_key, c.units, held_g(c)) for c in certs] == [
        ("tx:2", 2, [17_900, 35_800]), ("tx:3", 1, [53_700])]
    assert all(c.certificate_id.startswith("TREE-") and c.points == 0 for c in certs)
    assert len({c.certificate_id for c in certs}) == 2


def test_daily_and_monthly_caps(app_ctx, drain_jobs):
    points_rule(every_kg=1, amount=10, caps={"points_per_day": 25, "points_per_month": 45})
    buyer, *sellers = make_users(4)
    trade(drain_jobs, 1, buyer, sellers[0], 4_000)  # 2 kg: 20
    trade(drain_jobs, 2, buyer, sellers[1], 4_000)  # 2 kg: 20 → 5 left today
    assert balance(buyer) == 25
    trade(drain_jobs, 3, buyer, sellers[2], 8_000, at=T0 + timedelta(days=1))  # 40 → 20
    assert balance(buyer) == 45
    trade(drain_jobs, 4, buyer, sellers[0], 8_000, at=T0 + timedelta(days=40))
    assert balance(buyer) == 70  # next month: 25 again


def test_budget_stops_the_rule(app_ctx, drain_jobs):
    r = points_rule(every_kg=1, amount=100, caps={"budget_points": 250})
    users = make_users(4)
    trade(drain_jobs, 1, users[0], users[1], 2_000)  # 100 + 100
    trade(drain_jobs, 2, users[2], users[3], 2_000)  # 50 left: 50, then nothing
    # The two parties are in different partitions (by user), evaluated in either order: the
    # one evaluated first gets the 50 points left.
    assert [balance(u) for u in users[:2]] == [100, 100]
    assert sorted(balance(u) for u in users[2:]) == [0, 50]
    body = manage.view(manage.get(r["id"]))
    assert body["budget_spent"] == 250 and body["budget_exhausted"] is True


def test_new_version_does_not_reissue_past_rewards(app_ctx, drain_jobs):
    r = points_rule(every_kg=10, amount=100)
    buyer, seller = make_users(2)
    trade(drain_jobs, 1, buyer, seller, 24_000)  # 12 kg: g:10000 under v1
    v2 = manage.update(r["id"], {"name": "5 kg", "type": "threshold",
                                 "params": {"every_kg": 5}, "reward": {"kind": "points",
                                                                       "amount": 30}})
    assert v2["version"] == 2 and len(manage.versions(r["id"], 20, None)["items"]) == 2
    trade(drain_jobs, 2, buyer, seller, 18_000)  # 12 → 21 kg: 15 and 20 under v2
    rewards = issued(buyer, r["id"])
    assert [(held_g(x), x.points) for x in rewards] == [
        ([10000], 100), ([15000, 20000], 60)]
    assert {x.rule_version_id for x in rewards[1:]} != {rewards[0].rule_version_id}


def test_inactive_and_out_of_window_rules_issue_nothing(app_ctx, drain_jobs):
    r = points_rule(every_kg=1, amount=1)
    rule("threshold", {"every_kg": 1}, {"kind": "points", "amount": 1000},
         valid_from=T0 + timedelta(days=1))
    manage.set_active(r["id"], False)
    buyer, seller = make_users(2)
    trade(drain_jobs, 1, buyer, seller, 10_000)
    assert balance(buyer) == 0


def test_voucher_reward(app_ctx, drain_jobs):
    rule("milestone", {"event": "first_trade"},
         {"kind": "voucher", "percent_off": 10, "max_off": 2000, "expires_days": 30})
    buyer, seller = make_users(2)
    trade(drain_jobs, 1, buyer, seller, 1_000)
    (reward,) = issued(buyer)
    voucher = db.session.get(Voucher, reward.voucher_id)
    assert voucher.user_id == buyer and voucher.percent_off == 10 and voucher.status == "available"
    assert db.session.query(Reward).count() == 2  # the seller too
