"""Simulation (numpy, vectorised) matches the real per-credit evaluation on the same data."""

import random
from datetime import timedelta

import numpy as np
from sqlalchemy import func, select

from carbon.incentives import manage
from carbon.incentives.models import Reward
from carbon.incentives.rules import validate_rule
from carbon.incentives.simulate import History, load_history, simulate_arrays
from marketplace.core.db import db
from tests.carbon.incentives.helpers import T0, completion, make_users

DRAFTS = [
    {"type": "threshold", "params": {"every_kg": 3}, "reward": {"kind": "points",
                                                                "amount": 10}},
    {"type": "threshold", "params": {"every_kg": 2}, "reward": {"kind": "points", "amount": 7},
     "caps": {"points_per_day": 15, "points_per_month": 40}},
    {"type": "threshold", "params": {"every_kg": 1}, "reward": {"kind": "points", "amount": 5},
     "caps": {"budget_points": 333}},
    {"type": "milestone", "params": {"at_kg": 5}, "reward": {"kind": "badge", "badge": "5kg"}},
    {"type": "milestone", "params": {"event": "first_trade"},
     "reward": {"kind": "points", "amount": 50}},
    {"type": "streak", "params": {"months": 2}, "reward": {"kind": "points", "amount": 20}},
    {"type": "campaign", "params": {"categories": ["laptop"], "multiplier": 1.5},
     "reward": {"kind": "points", "amount": 10}, "valid_from": T0 + timedelta(days=20),
     "valid_to": T0 + timedelta(days=120)},
    {"type": "tree", "params": {}, "reward": {"kind": "tree"}},
]


def _definition(draft):
    return validate_rule({"name": "draft", "valid_from": None, "valid_to": None, **draft})


def test_simulation_matches_evaluation(app, app_ctx, drain_jobs, monkeypatch):
    """Every draft live at once over the same credits (rules do not interact), then each
    simulated over the resulting history: same rewards, points and users."""
    monkeypatch.setitem(app.config, "INCENTIVE_PAIR_LIMIT", 2)  # real anti-gaming
    monkeypatch.setitem(app.config, "INCENTIVE_REWARDED_TRADES_PER_DAY", 2)
    rng = random.Random(7)
    users = make_users(8)
    rules = [manage.create({"name": f"draft {i}", **d}) for i, d in enumerate(DRAFTS)]
    at = T0
    for trade_id in range(1, 61):  # in time order, as the ledger credits them
        at += timedelta(hours=rng.choice([1, 5, 30, 200]))
        buyer, seller = rng.sample(users, 2)
        completion(trade_id, buyer, seller, rng.randrange(200, 6_000),
                   category=rng.choice(["laptop", "smartphone"]), completed_at=at)
    db.session.commit()
    drain_jobs()
    db.session.expire_all()
    history = load_history()
    assert not history.eligible.all()  # anti-gaming flagged some; the simulation knows
    for draft, rule in zip(DRAFTS, rules, strict=True):
        predicted = simulate_arrays(history, _definition(draft))
        rewards = db.session.scalars(select(Reward).where(Reward.rule_id == rule["id"])).all()
        assert predicted["rewards"] == sum(r.units for r in rewards) > 0, draft
        assert predicted["points_cost"] == sum(r.points for r in rewards), draft
        if "budget_points" in draft.get("caps", {}):
            # A budget is spent in evaluation order, which follows credit order within a
            # user's partition but not across partitions (they are evaluated in parallel):
            # the same total, never more, but not necessarily the same people.
            assert sum(r.points for r in rewards) <= draft["caps"]["budget_points"]
        else:
            assert predicted["users_rewarded"] == len({r.user_id for r in rewards}), draft
        assert predicted["accounts"] == len(users)
    assert db.session.scalar(select(func.sum(Reward.units))) == sum(
        simulate_arrays(history, _definition(d))["rewards"] for d in DRAFTS)


def test_simulate_arrays_by_hand():
    # Two users: 0 → 4 kg, 12 kg (crosses 10 once); 1 → 25 kg at once (10 and 20).
    h = History(user=np.array([1, 1, 2]), t=np.array([0, 10, 5]),
                g=np.array([4_000, 8_000, 25_000]), category=np.zeros(3, dtype=np.int32),
                eligible=np.ones(3, dtype=bool), categories=["other"])
    rule = _definition(DRAFTS[0] | {"params": {"every_kg": 10}})
    out = simulate_arrays(h, rule)
    assert (out["rewards"], out["points_cost"], out["users_rewarded"]) == (3, 30, 2)
    assert out["rewards_per_user"] == {"1": 1, "2": 1}
    empty = History(*(np.array([], dtype=np.int64) for _ in range(3)),
                    np.array([], dtype=np.int32), np.array([], dtype=bool), [])
    assert simulate_arrays(empty, rule)["rewards"] == 0


def test_simulation_counts_the_kinds_a_rule_names_over_the_running_total_of_all():
    # User 1: a 8 kg trade, then a 4 kg recycling credit (the total crosses 10 kg on the
    # recycling one); user 2: a 15 kg recycling credit. Recycling-only rule: two rewards;
    # trade-only rule: none (the trade crossed nothing); every kind: two.
    h = History(user=np.array([1, 1, 2]), t=np.array([0, 10, 5]),
                g=np.array([8_000, 4_000, 15_000]), category=np.zeros(3, dtype=np.int32),
                eligible=np.ones(3, dtype=bool), categories=["other"],
                recycling=np.array([False, True, True]))
    for kinds, rewards in ((["recycling"], 2), (["trade"], 0), (["trade", "recycling"], 2)):
        rule = _definition(DRAFTS[0] | {"params": {"every_kg": 10, "credit_kinds": kinds}})
        assert simulate_arrays(h, rule)["rewards"] == rewards, kinds
    # Without kinds (trades only), a recycling-only rule rewards nothing.
    trades = History(h.user, h.t, h.g, h.category, h.eligible, h.categories)
    rule = _definition(DRAFTS[0] | {"params": {"every_kg": 10, "credit_kinds": ["recycling"]}})
    assert simulate_arrays(trades, rule)["rewards"] == 0
