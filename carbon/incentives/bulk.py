"""PostgreSQL: a batch's rewards and everything they entail in one statement.

``issue`` inserts the reward rows (``ON CONFLICT DO NOTHING`` on (rule, user, key)) and, from
the rows actually inserted, in data-modifying CTEs: the points transactions (``reward:<id>``,
idempotent), their lines against the issuance account, the users' balances (accounts locked
by the caller) and the spent points of budgeted rules (rows locked by the caller). Rows travel
as one JSON document (``json_populate_recordset`` on the table's row type): one parameter,
serialised by orjson (``core.dbtypes.json_dumps``), whatever the batch size (typed arrays of
text or JSON cost the driver a regular expression per quote of every element: most of a
batch's time).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, text

from marketplace.core.db import db
from marketplace.core.dbtypes import json_dumps, utcnow

from .models import Reward, RewardStatus


def document(rows: list[dict[str, Any]] | list[list[Any]]) -> str:
    """``rows`` as one JSON document (datetimes in ISO 8601)."""
    return json_dumps(rows)


def source(table: Table, param: str = "doc") -> str:
    """A FROM item yielding the rows of JSON document ``:param`` typed as ``table``'s rows
    (keys absent from a row are NULL)."""
    return f"json_populate_recordset(NULL::{table.name}, CAST(:{param} AS json))"


SQL = """
WITH r AS (
  INSERT INTO incentive_rewards ({cols}, status, issued_at, revoked_units, revoked_points)
  SELECT {cols}, CAST(:status AS VARCHAR), CAST(:now AS TIMESTAMPTZ), 0, 0 FROM {source}
  ON CONFLICT (rule_id, user_id, period_key) DO NOTHING
  RETURNING id, rule_id, rule_version_id, user_id, period_key, kind, points, trade_id),
t AS (
  INSERT INTO points_transactions (idempotency_key, kind, meta, created_at)
  SELECT 'reward:' || r.id, 'reward', json_build_object(
    'rule_id', r.rule_id, 'rule_version_id', r.rule_version_id,
    'period_key', r.period_key, 'trade_id', r.trade_id), CAST(:now AS TIMESTAMPTZ)
  FROM r WHERE r.kind = 'points' ORDER BY r.id
  ON CONFLICT (idempotency_key) DO NOTHING RETURNING id, idempotency_key),
acct AS (
  SELECT * FROM unnest(CAST(:users AS BIGINT[]), CAST(:accounts AS BIGINT[]))
  AS acct(user_id, account_id)),
l AS (
  INSERT INTO points_lines (transaction_id, account_id, amount)
  SELECT t.id, x.account_id, x.amount FROM t
  JOIN r ON t.idempotency_key = 'reward:' || r.id
  JOIN acct ON acct.user_id = r.user_id
  CROSS JOIN LATERAL (VALUES (1, acct.account_id, r.points),
                             (2, CAST(:sys AS BIGINT), -r.points)) AS x(n, account_id, amount)
  ORDER BY t.id, x.n
  RETURNING account_id, amount),
b AS (
  UPDATE points_accounts AS p SET balance = p.balance + d.total
  FROM (SELECT account_id, sum(amount) AS total FROM l
        WHERE account_id <> CAST(:sys AS BIGINT) GROUP BY account_id) AS d
  WHERE p.id = d.account_id RETURNING p.id),
s AS (
  UPDATE incentive_rules AS i SET spent_points = i.spent_points + d.total
  FROM (SELECT rule_id, sum(points) AS total FROM r
        WHERE rule_id = ANY(CAST(:budgeted AS BIGINT[])) GROUP BY rule_id) AS d
  WHERE i.id = d.rule_id RETURNING i.id)
SELECT id, rule_id, user_id, period_key FROM r
"""


# Rows carry only the columns that vary (issuing.issue leaves out NULLs and constants: a
# missing key is NULL in ``json_populate_recordset``); status, issue time and the revoked
# counts of a new reward are the statement's.
_COLS = ("rule_id, rule_version_id, user_id, period_key, kind, points, badge, certificate_id, "
         "source_transaction_id, trade_id, occurred_at, units, first_g, last_g, step_g, "
         "skipped_g")
_SQL = text(SQL.format(cols=_COLS, source=source(Reward.__table__)))


def issue(rows: list[dict[str, Any]], accounts: dict[int, int], issuance: int,
          budgeted: list[int]) -> list[Any]:
    """Insert ``rows`` (reward columns, NULL ones and constants left out: ``_COLS``) and post
    their points; the inserted rewards' (id, rule_id, user_id, period_key)."""
    users = sorted(accounts)
    params = dict(doc=document(rows), now=utcnow(), users=users, status=RewardStatus.ISSUED.value,
                  accounts=[accounts[u] for u in users], sys=issuance, budgeted=budgeted)
    return db.session.execute(_SQL, params).all()
