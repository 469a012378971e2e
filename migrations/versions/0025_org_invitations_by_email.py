"""organisation invitations: addressed to an email until a verified account accepts them

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-04 22:05:00

Until now an invitation by email was matched, when sent, to an account registered with that
address (``user_id`` set), verified or not, so anyone who registered the address first could
accept it; and every membership kept a copy of the member's email. From now on an invitation
by email stays addressed to the email (``user_id`` NULL) until an account that has verified
the address accepts it, and a membership keeps no email.

Upgrade: pending invitations that carry an email become invitations by email (an invitation
made by user id kept the user's email too and cannot be told apart: its user accepts it as
before once their address is verified); memberships already accepted lose their email copy.
Downgrade: the schema is unchanged, so there is nothing to undo (the cleared emails are not
restored).
"""
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("UPDATE organisation_members SET user_id = NULL "
               "WHERE status = 'invited' AND email IS NOT NULL")
    op.execute("UPDATE organisation_members SET email = NULL "
               "WHERE status <> 'invited' AND user_id IS NOT NULL")


def downgrade() -> None:
    pass
