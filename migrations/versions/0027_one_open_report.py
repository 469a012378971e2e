"""reports: at most one open report per reporter and subject

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-05 00:30:00

The service refused a second open report of the same subject by the same reporter (409) with
a SELECT before the INSERT, so two concurrent requests could both pass it. Three partial
unique indexes (one per subject column, on open reports only) now guarantee it.

Upgrade: open duplicates made before (all but the oldest open report of a reporter and
subject) are resolved as dismissed, with a note, so that the indexes can be built.
Downgrade: the indexes are dropped (the duplicates stay resolved).

"""
import sqlalchemy as sa
from alembic import op

from marketplace.core.dbtypes import UTCDateTime, utcnow

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None

OPEN = "status = 'open'"
COLUMNS = ("listing_id", "user_id", "message_id")

CLOSE_DUPLICATES = sa.text(
    "UPDATE reports SET status = 'resolved', resolution = 'dismissed', "
    "resolution_note = 'Duplicate of an earlier open report (closed by migration 0027).', "
    "resolved_at = :now "
    "WHERE status = 'open' AND EXISTS (SELECT 1 FROM reports AS earlier "
    "WHERE earlier.status = 'open' AND earlier.reporter_id = reports.reporter_id "
    "AND earlier.subject_type = reports.subject_type "
    "AND COALESCE(earlier.listing_id, earlier.user_id, earlier.message_id) "
    "= COALESCE(reports.listing_id, reports.user_id, reports.message_id) "
    "AND earlier.id < reports.id)").bindparams(sa.bindparam("now", type_=UTCDateTime()))


def _name(column: str) -> str:
    return f"uq_reports_open_{column.removesuffix('_id')}"


def upgrade() -> None:
    op.get_bind().execute(CLOSE_DUPLICATES, {"now": utcnow()})
    for column in COLUMNS:
        op.create_index(_name(column), "reports", ["reporter_id", column], unique=True,
                        postgresql_where=sa.text(OPEN), sqlite_where=sa.text(OPEN))


def downgrade() -> None:
    for column in COLUMNS:
        op.drop_index(_name(column), table_name="reports")
