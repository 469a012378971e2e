"""``reward.earned``: one event (one notification, one email) per credit and person, listing
every reward the credit earned them (both modes)."""

from sqlalchemy import select

from carbon.incentives.announce import describe
from carbon.incentives.models import Reward
from marketplace.accounts.models import User
from marketplace.core import events
from marketplace.core.db import db
from marketplace.core.mail import OutboundEmail
from marketplace.core.outbox import OutboxMessage
from marketplace.notifications.models import Notification
from marketplace.notifications.schemas import NotificationSchema
from tests.carbon.incentives.helpers import (
    T0,
    completion,
    make_users,
    points_rule,
    reevaluate_all,
    rule,
    trade,
)


def _earned():
    """The ``reward.earned`` events written, in order: (users, data)."""
    return [(r.payload["users"], r.payload["data"]) for r in db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.topic == events.TOPIC)
        .order_by(OutboxMessage.id)) if r.payload["kind"] == "reward.earned"]


def _rules():
    points_rule(every_kg=5, amount=10)
    rule("milestone", {"event": "first_trade"}, {"kind": "badge", "badge": "first-trade"})


def test_one_event_per_credit_and_person_lists_every_reward(app_ctx, drain_jobs):
    _rules()
    buyer, seller = make_users(2)
    trade(drain_jobs, 1, buyer, seller, 62_000)  # 31 kg each: 6 thresholds and the badge
    earned = _earned()
    assert sorted(users for users, _ in earned) == [[buyer], [seller]]
    data = dict((users[0], d) for users, d in earned)[buyer]
    ids = {(r.kind, r.user_id): r.id for r in db.session.scalars(select(Reward))}
    assert data == {
        "trade_id": 1, "points": 60, "reward": "60 points and the badge first-trade",
        "rewards": [
            {"reward_id": ids[("points", buyer)], "kind": "points", "points": 60, "units": 6,
             "badge": None},
            {"reward_id": ids[("badge", buyer)], "kind": "badge", "points": 0, "units": 1,
             "badge": "first-trade"}]}
    # One notification and one email each, saying all of it.
    notes = list(db.session.scalars(select(Notification).where(
        Notification.kind == "reward.earned", Notification.user_id == buyer)))
    assert [(n.title, n.body) for n in notes] == [
        ("Rewards earned", "You earned 60 points and the badge first-trade.")]
    shown = NotificationSchema().dump(notes[0])["data"]  # as the API shows it
    assert {k: shown[k] for k in data} == data
    email = db.session.get(User, buyer).email
    mails = list(db.session.scalars(select(OutboundEmail).where(
        OutboundEmail.to_addr == email, OutboundEmail.subject == "Reloop: Rewards earned")))
    assert len(mails) == 1 and "60 points and the badge first-trade" in mails[0].body
    # A replay of the evaluations issues nothing and announces nothing more.
    reevaluate_all()
    assert len(_earned()) == 2
    # A later credit earning only points: one event for it, alone.
    trade(drain_jobs, 2, buyer, seller, 20_000)  # 31 → 41 kg: 35 and 40
    later = [d for users, d in _earned()[2:] if users == [buyer]]
    assert [(d["trade_id"], d["points"], d["reward"], len(d["rewards"])) for d in later] == [
        (2, 20, "20 points", 1)]


def test_two_credits_in_one_batch_are_two_events(app_ctx, drain_jobs):
    _rules()
    buyer, seller = make_users(2)
    completion(1, buyer, seller, 12_000, completed_at=T0)  # 6 kg each: 5 kg and the badge
    completion(2, buyer, seller, 10_000, completed_at=T0)  # 11 kg: 10 kg
    db.session.commit()
    drain_jobs()
    db.session.expire_all()
    mine = [d for users, d in _earned() if users == [buyer]]
    assert [(d["trade_id"], d["reward"]) for d in mine] == [
        (1, "10 points and the badge first-trade"), (2, "10 points")]
    rows = db.session.scalars(select(Reward).where(Reward.user_id == buyer)).all()
    assert len(rows) == 3  # three rewards, two events: one per credit
    assert sum(len(d["rewards"]) for d in mine) == 3


def test_rewards_in_words():
    p = {"kind": "points", "points": 50, "units": 1, "badge": None}
    assert describe([p]) == "50 points"
    assert describe([p, {**p, "points": 10}]) == "60 points"
    badge = {"kind": "badge", "points": 0, "units": 1, "badge": "first-trade"}
    tree = {"kind": "tree", "points": 0, "units": 1, "badge": None}
    voucher = {"kind": "voucher", "points": 0, "units": 1, "badge": None}
    assert describe([p, badge]) == "50 points and the badge first-trade"
    assert describe([badge, tree, tree, voucher, p]) == (
        "50 points, the badge first-trade, 2 trees planted and a voucher")
    assert describe([{**badge, "units": 3}]) == "the badge first-trade (3 times)"
