"""``flask carbon verify-ledger`` and the immutability of the journal."""

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.exc import DBAPIError

from carbon.incentives.models import PointsAccount
from carbon.ledger import verify
from carbon.ledger.models import LedgerAccount, LedgerLine, LedgerTransaction
from marketplace.core.db import db
from marketplace.core.outbox import OutboxMessage
from tests.carbon.ledger.helpers import completion, make_users, refund


@pytest.fixture
def ledger(app_ctx, drain_jobs):
    buyer, seller = make_users(2)
    for i in range(1, 6):
        completion(i, buyer, seller, 100 * i + 1)
    db.session.commit()
    refund(2, "r", 1, 2)
    db.session.commit()
    drain_jobs()
    return buyer, seller


def _cli(app, *args):
    return app.test_cli_runner().invoke(args=["carbon", "verify-ledger", *args])


def test_verify_passes_on_a_consistent_ledger(app, ledger):
    result = _cli(app)
    assert result.exit_code == 0, result.output
    assert "ledger OK" in result.output and "5 completed trades processed" in result.output


def test_verify_reports_a_wrong_cached_balance(app, ledger):
    db.session.execute(update(LedgerAccount).where(LedgerAccount.user_id == ledger[0])
                       .values(balance_g=LedgerAccount.balance_g + 1))
    db.session.commit()
    result = _cli(app)
    assert result.exit_code == 1 and "cached" in result.output and "MISMATCH" in result.output


def test_verify_reports_an_unbalanced_transaction(app, ledger):
    tx = db.session.scalars(select(LedgerTransaction)).first()
    account = db.session.scalar(select(LedgerAccount.id).where(LedgerAccount.user_id == ledger[0]))
    db.session.add(LedgerLine(transaction_id=tx.id, account_id=account, amount_g=5))
    db.session.commit()
    result = _cli(app)
    assert result.exit_code == 1 and f"transaction {tx.id}" in result.output


def test_verify_reports_a_trade_marked_processed_but_never_credited(app, ledger):
    buyer, seller = ledger
    db.session.add(OutboxMessage(topic="trade.completed", processed_at=db.func.now(), payload={
        "trade_id": 77, "buyer_id": buyer, "seller_id": seller, "avoided_g": 10}))
    db.session.commit()
    result = _cli(app)
    assert result.exit_code == 1 and "trade 77: expected 10 g, credited 0 g" in result.output


def test_checks_are_pluggable(app, ledger, monkeypatch):
    monkeypatch.setitem(app.extensions, "reloop.ledger_checks", dict(verify.checks(app)))

    def _trades(section):
        section.problems.append("trade 1 is not completed in the trades table")

    verify.register_check(app, "trades table agrees", _trades)
    with pytest.raises(ValueError, match="two ledger checks"):
        verify.register_check(app, "trades table agrees", _trades)

    result = _cli(app)
    assert result.exit_code == 1 and "[FAIL] trades table agrees" in result.output


@pytest.mark.services
def test_postgres_rejects_update_and_delete_on_the_journal(ledger):
    statements = [
        "UPDATE ledger_lines SET amount_g = amount_g + 1",
        "DELETE FROM ledger_lines",
        "UPDATE ledger_transactions SET kind = 'credit'",
        "DELETE FROM ledger_transactions",
        "DELETE FROM ledger_accounts",
        "UPDATE ledger_accounts SET user_id = NULL",
    ]
    for sql in statements:
        with pytest.raises(DBAPIError, match="append-only"):
            db.session.execute(text(sql))
        db.session.rollback()
    # The cached balance is the one thing that moves, in the posting transaction.
    db.session.execute(text("UPDATE ledger_accounts SET balance_g = balance_g WHERE false"))
    db.session.rollback()
    assert verify.run().ok


def test_verify_checks_the_points_ledger_too(app, ledger):
    account = db.session.scalar(select(PointsAccount).where(PointsAccount.user_id.is_not(None)))
    if account is None:  # no rule issued points: make the user's account
        account = PointsAccount(code=f"user:{ledger[0]}", user_id=ledger[0], balance=0)
        db.session.add(account)
    account.balance += 7  # a cached balance its lines do not explain
    db.session.commit()
    result = _cli(app)
    assert result.exit_code == 1
    assert "[FAIL] points transactions sum to zero" in result.output
    assert f"points account {account.code}: cached" in result.output
