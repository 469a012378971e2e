"""``bulk.insert_ignore``: the per-request insert that skips rows whose keys exist."""

from datetime import UTC, datetime

from sqlalchemy import func, select

from carbon.ledger import bulk
from carbon.ledger.models import PendingCredit
from marketplace.core.db import db
from tests.carbon.ledger.helpers import make_users


def _rows():
    return db.session.execute(select(PendingCredit.trade_id, PendingCredit.user_id,
                                     PendingCredit.amount_g)
                              .order_by(PendingCredit.trade_id, PendingCredit.user_id)).all()


def test_rows_whose_keys_exist_are_skipped_within_a_call_and_across_calls(app_ctx):
    a, b = make_users(2)
    now = datetime.now(UTC)
    bulk.insert_ignore(PendingCredit, [
        {"trade_id": 1, "user_id": a, "amount_g": 10, "created_at": now},
        {"trade_id": 1, "user_id": a, "amount_g": 99, "created_at": now},  # same keys
        {"trade_id": 1, "user_id": b, "amount_g": 20, "created_at": now}], "trade_id", "user_id")
    bulk.insert_ignore(PendingCredit, [
        {"trade_id": 1, "user_id": b, "amount_g": 77, "created_at": now},  # exists
        {"trade_id": 2, "user_id": a, "amount_g": 30, "created_at": now}], "trade_id", "user_id")
    db.session.commit()
    assert _rows() == sorted([(1, a, 10), (1, b, 20), (2, a, 30)])


def test_no_rows_insert_nothing(app_ctx):
    bulk.insert_ignore(PendingCredit, [], "trade_id", "user_id")
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(PendingCredit)) == 0
