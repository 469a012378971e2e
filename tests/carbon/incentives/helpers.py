"""Helpers for incentives tests: rules, credits through the ledger's outbox records (the
trades feature does not exist on this branch), rewards held."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from carbon.incentives import manage, points
from carbon.incentives.models import HELD, CreditEvaluation, Reward
from marketplace.accounts.models import User
from marketplace.accounts.services import Role
from marketplace.core import outbox
from marketplace.core.db import db
from marketplace.core.outbox import OutboxMessage
from tests.carbon.ledger.helpers import PASSWORD, completion, make_users, refund
from tests.factories import login

__all__ = ["PASSWORD", "completion", "make_users", "refund"]

T0 = datetime(2026, 1, 5, 12, tzinfo=UTC)


def rule(type_, params, reward, **extra):
    body = {"name": f"{type_} rule", "type": type_, "params": params, "reward": reward,
            **extra}
    return manage.create(body)


def points_rule(every_kg=10, amount=100, **extra):
    return rule("threshold", {"every_kg": every_kg}, {"kind": "points", "amount": amount},
                **extra)


def trade(drain_jobs, trade_id, buyer, seller, grams, at=T0, category="smartphone"):
    """Complete a trade (its outbox record), commit and run the jobs: credit, evaluation."""
    completion(trade_id, buyer, seller, grams, category=category, completed_at=at)
    db.session.commit()
    drain_jobs()
    db.session.expire_all()


def refund_and_drain(drain_jobs, trade_id, refund_id, refunded, amount):
    """Refund part of a trade (its outbox record), commit and run the jobs."""
    refund(trade_id, refund_id, refunded, amount)
    db.session.commit()
    drain_jobs()
    db.session.expire_all()


def reevaluate_all():
    """Apply every rule-evaluation record again (as a replay would): must change nothing."""
    ids = list(db.session.scalars(select(OutboxMessage.id)
                                  .where(OutboxMessage.topic == "incentives.evaluate")))
    db.session.execute(OutboxMessage.__table__.update().values(processed_at=None))
    db.session.commit()
    outbox.process(ids)
    db.session.expire_all()


def issued(user_id, rule_id=None):
    q = select(Reward).where(Reward.user_id == user_id,
                             Reward.status.in_(HELD)).order_by(Reward.id)
    if rule_id is not None:
        q = q.where(Reward.rule_id == rule_id)
    return list(db.session.scalars(q))


def held_g(reward):
    """The thresholds (grams) a reward still stands for: its key's for a per-threshold one,
    its units' (less revoked ones) for an aggregated one."""
    if reward.step_g is not None:
        return reward.thresholds()[:reward.units - reward.revoked_units]
    return [int(reward.period_key.split(":")[1])]


def balance(user_id):
    return points.balance(user_id)


def flags(user_id):
    return [e.flag for e in db.session.scalars(
        select(CreditEvaluation).where(CreditEvaluation.user_id == user_id)
        .order_by(CreditEvaluation.id))]


def headers_for(client, app, user_id):
    with app.app_context():
        email = db.session.get(User, user_id).email
    return login(client, email, PASSWORD)


def admin_headers(client, app):
    with app.app_context():
        (admin,) = make_users(1, role=Role.ADMIN)
    return headers_for(client, app, admin)
