"""Aggregated threshold rewards (both modes): one reward row per (credit, rule, user) whose
units are the thresholds crossed; partial and full reversals; idempotent re-evaluation."""

import time
from dataclasses import replace

from sqlalchemy import func, select

from carbon.incentives import points, rewards
from carbon.incentives.evaluate import TOPIC
from carbon.incentives.models import CreditEvaluation, IncentiveRuleVersion, Reward
from marketplace.core.db import db
from marketplace.core.outbox import OutboxMessage, processing
from marketplace.core.outbox.registry import registry
from tests.carbon.incentives.helpers import (
    T0,
    balance,
    completion,
    held_g,
    issued,
    make_users,
    points_rule,
    reevaluate_all,
    refund_and_drain,
    rule,
    trade,
)


def _rows(user_id):
    return list(db.session.scalars(select(Reward).where(Reward.user_id == user_id)
                                   .order_by(Reward.id)))


def test_crossings_of_one_credit_are_one_reward(app_ctx, drain_jobs):
    r = points_rule(every_kg=5, amount=10)
    buyer, seller = make_users(2)
    trade(drain_jobs, 1, buyer, seller, 62_000)  # 31 kg each: 5, 10, … 30 kg
    (reward,) = _rows(buyer)
    assert (reward.rule_id, reward.period_key, reward.units, reward.points) == (
        r["id"], "tx:1", 6, 60)
    assert (reward.first_g, reward.last_g, reward.step_g, reward.skipped_g) == (
        5_000, 30_000, 5_000, None)
    assert reward.status == "issued" and reward.revoked_units == 0
    assert balance(buyer) == balance(seller) == 60
    trade(drain_jobs, 2, buyer, seller, 20_000)  # 31 → 41 kg: 35 and 40
    assert [(x.units, x.points, held_g(x)) for x in _rows(buyer)] == [
        (6, 60, [5_000, 10_000, 15_000, 20_000, 25_000, 30_000]), (2, 20, [35_000, 40_000])]
    assert balance(buyer) == 80 and points.verify() == []


def test_caps_clip_the_units_in_order(app_ctx, drain_jobs):
    points_rule(every_kg=1, amount=10, caps={"points_per_day": 25})
    buyer, seller = make_users(2)
    trade(drain_jobs, 1, buyer, seller, 8_000)  # 4 kg: 10 + 10 + 5, the fourth clipped out
    (reward,) = _rows(buyer)
    assert (reward.units, reward.points, reward.last_g) == (3, 25, 3_000)
    refund_and_drain(drain_jobs, 1, "re_1", 5_000, 10_000)  # half: 2 kg left, 3 kg unit goes
    (reward,) = _rows(buyer)
    assert (reward.status, reward.revoked_units, reward.revoked_points) == (
        "partly_revoked", 1, 5)
    assert balance(buyer) == 20 and points.verify() == []


def test_partial_refunds_then_the_rest_revoke_units_then_the_reward(app_ctx, drain_jobs):
    points_rule(every_kg=5, amount=10)
    buyer, seller = make_users(2)
    trade(drain_jobs, 1, buyer, seller, 60_000)  # 30 kg each: 6 units, 60 points
    refund_and_drain(drain_jobs, 1, "re_1", 2_000, 10_000)  # 20 %: 24 kg left, 25 and 30 revoked
    (reward,) = issued(buyer)
    assert (reward.status, reward.units, reward.revoked_units, reward.revoked_points) == (
        "partly_revoked", 6, 2, 20)
    assert held_g(reward) == [5_000, 10_000, 15_000, 20_000]
    assert balance(buyer) == balance(seller) == 40
    refund_and_drain(drain_jobs, 1, "re_2", 8_000, 10_000)  # the rest: everything revoked
    (reward,) = _rows(buyer)
    assert (reward.status, reward.revoked_units, reward.revoked_points) == ("revoked", 6, 60)
    assert issued(buyer) == [] and balance(buyer) == balance(seller) == 0
    assert points.verify() == []


def test_full_refund_revokes_the_aggregated_reward(app_ctx, drain_jobs):
    points_rule(every_kg=5, amount=10)
    rule("threshold", {"every_kg": 5}, {"kind": "badge", "badge": "five-kg"})
    buyer, seller = make_users(2)
    trade(drain_jobs, 1, buyer, seller, 40_000)  # 20 kg: 4 units of each rule
    assert [(x.kind, x.units) for x in _rows(buyer)] == [("points", 4), ("badge", 4)]
    refund_and_drain(drain_jobs, 1, "re_1", 10_000, 10_000)
    assert [(x.status, x.revoked_units, x.revoked_points) for x in _rows(buyer)] == [
        ("revoked", 4, 40), ("revoked", 4, 0)]
    assert balance(buyer) == 0 and points.verify() == []
    trade(drain_jobs, 2, buyer, seller, 12_000)  # 6 kg: 5 kg earned again
    assert [held_g(x) for x in issued(buyer)] == [[5_000], [5_000]]


def test_thresholds_still_held_are_not_earned_twice(app_ctx, drain_jobs):
    points_rule(every_kg=5, amount=10)
    buyer, seller = make_users(2)
    trade(drain_jobs, 1, buyer, seller, 8_000)  # 4 kg: nothing
    trade(drain_jobs, 2, buyer, seller, 16_000)  # 4 → 12 kg: 5 and 10 (trade 2's reward)
    refund_and_drain(drain_jobs, 1, "re_1", 10_000, 10_000)  # trade 1 reversed: 8 kg, 10 kept
    trade(drain_jobs, 3, buyer, seller, 10_000)  # 8 → 13 kg: 10 already held
    trade(drain_jobs, 4, buyer, seller, 6_000)  # 13 → 16 kg: 15
    assert [held_g(x) for x in issued(buyer)] == [[5_000, 10_000], [15_000]]
    assert balance(buyer) == 30


def test_evaluating_again_changes_nothing(app_ctx, drain_jobs):
    points_rule(every_kg=1, amount=5)
    rule("threshold", {"every_kg": 2}, {"kind": "badge", "badge": "two-kg"})
    buyer, seller = make_users(2)
    trade(drain_jobs, 1, buyer, seller, 10_000)
    before = [(x.id, x.units, x.points) for x in _rows(buyer)]
    assert [u for _, u, _ in before] == [5, 2]
    reevaluate_all()
    assert [(x.id, x.units, x.points) for x in _rows(buyer)] == before
    assert db.session.scalar(select(func.count()).select_from(Reward)) == 4
    assert balance(buyer) == 25 and points.verify() == []


def test_a_lingering_drain_still_evaluates_everything_once(app, app_ctx, drain_jobs,
                                                           monkeypatch):
    assert app.config["INCENTIVE_LINGER_MS"] == 0  # the default: no wait
    handlers = registry(app).handlers
    monkeypatch.setitem(handlers, TOPIC, replace(handlers[TOPIC], linger_ms=150))
    points_rule(every_kg=1, amount=1)
    buyer, seller = make_users(2)
    started = time.monotonic()
    for i in range(3):
        completion(i + 1, buyer, seller, 2_000)
        db.session.commit()
    drain_jobs()
    db.session.expire_all()
    assert time.monotonic() - started >= 0.15
    assert balance(buyer) == balance(seller) == 3
    assert db.session.scalar(select(func.count()).select_from(CreditEvaluation)) == 6


def _legacy(r, user, key, status="issued", kind="points"):
    """A per-threshold reward as issued before aggregation (``g:<grams>`` or
    ``tree:<grams>``, no ``step_g``)."""
    version = db.session.scalar(select(IncentiveRuleVersion.id).where(
        IncentiveRuleVersion.rule_id == r["id"]))
    db.session.add(Reward(rule_id=r["id"], rule_version_id=version, user_id=user,
                          period_key=key, kind=kind, points=10 if kind == "points" else 0,
                          status=status, source_transaction_id=0, occurred_at=T0,
                          certificate_id=f"TREE-OLD{user}{key}" if kind == "tree" else None))
    db.session.commit()


def test_older_per_threshold_rewards_are_not_earned_again(app_ctx, drain_jobs):
    r = points_rule(every_kg=5, amount=10)
    buyer, seller = make_users(2)
    _legacy(r, buyer, "g:5000")
    _legacy(r, buyer, "g:10000~r1", status="revoked")  # revoked: earned again
    _legacy(r, seller, "g:10000")
    trade(drain_jobs, 1, buyer, seller, 32_000)  # 16 kg each: 5, 10 and 15 crossed
    new = [x for x in issued(buyer) + issued(seller) if x.step_g is not None]
    assert [(x.user_id, x.units, x.points, x.first_g, x.last_g, x.skipped_g) for x in new] == [
        (buyer, 2, 20, 10_000, 15_000, None), (seller, 2, 20, 5_000, 15_000, [10_000])]
    assert balance(buyer) == balance(seller) == 20


def test_older_per_tree_certificates_are_not_planted_again(app_ctx, drain_jobs):
    r = rule("tree", {"every_kg": 5}, {"kind": "tree"})
    buyer, seller = make_users(2)
    _legacy(r, buyer, "tree:5000", kind="tree")
    _legacy(r, buyer, "tree:10000~r1", status="revoked", kind="tree")  # planted again
    trade(drain_jobs, 1, buyer, seller, 32_000)  # 16 kg each: 5, 10 and 15 crossed
    new = [x for x in issued(buyer) + issued(seller) if x.step_g is not None]
    assert [(x.user_id, x.units, x.first_g, x.last_g, x.skipped_g) for x in new] == [
        (buyer, 2, 10_000, 15_000, None), (seller, 3, 5_000, 15_000, None)]
    assert rewards.summary(buyer)["counts"]["trees"] == 3  # the older one and these two
    assert [(c["trees"], c["cumulative_g"]) for c in rewards.certificates(
        buyer, 10, None)["items"]] == [(2, 15_000), (1, 5_000)]


def test_a_partial_refund_takes_trees_off_the_certificate(app_ctx, drain_jobs):
    rule("tree", {"every_kg": 5}, {"kind": "tree"})
    buyer, seller = make_users(2)
    trade(drain_jobs, 1, buyer, seller, 60_000)  # 30 kg each: one certificate, 6 trees
    (cert,) = issued(buyer)
    assert (cert.kind, cert.units) == ("tree", 6)
    refund_and_drain(drain_jobs, 1, "re_1", 2_000, 10_000)  # 20 %: 24 kg left, 2 trees go
    (cert,) = issued(buyer)
    assert (cert.status, cert.revoked_units) == ("partly_revoked", 2)
    assert [(c["trees"], c["cumulative_g"]) for c in rewards.certificates(
        buyer, 10, None)["items"]] == [(4, 20_000)]
    assert rewards.summary(buyer)["counts"]["trees"] == 4


def test_an_inline_drain_does_not_hand_over(app, app_ctx, monkeypatch):
    """Without Redis (jobs run inline) a partition's drain has nobody to hand over to: it
    drains its partition in place whatever its slice (a drain requested then would run nested
    in this one, and a long backlog would recurse)."""
    points_rule(every_kg=1, amount=1)
    buyer, seller = make_users(2)
    with monkeypatch.context() as m:
        m.setattr(processing, "dispatch", lambda records: None)  # nothing drained at commit
        for i in range(4):
            completion(95_000 + i, buyer, seller, 2_000)
            db.session.commit()
        processing.drain("ledger")
    pending = select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.topic == TOPIC, OutboxMessage.processed_at.is_(None))
    assert db.session.scalar(pending) == 8
    monkeypatch.setitem(app.config, "REDIS_URL", None)
    handlers = registry(app).handlers
    monkeypatch.setitem(handlers, TOPIC, replace(handlers[TOPIC], batch_size=1))
    monkeypatch.setattr(processing, "PARTITION_SLICE_SECONDS", 0.0)
    drained = sum(processing.drain("incentives", p)
                  for p in range(app.config["INCENTIVE_PARTITIONS"]))
    assert drained == 8  # every record by the drains called here, none by nested ones
    assert db.session.scalar(pending) == 0
    assert balance(buyer) == balance(seller) == 4
