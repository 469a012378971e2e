"""``flask seed``: demo data for the embedded default (idempotent)."""

from __future__ import annotations

import click
from sqlalchemy import select

from marketplace import seeds
from marketplace.accounts import services as accounts
from marketplace.accounts.models import User
from marketplace.core.db import db

DEMO_USERS = (
    ("admin@reloop.test", "reloop-admin-demo", "Reloop Admin", "admin"),
    ("alice@reloop.test", "alice-demo-password", "Alice", "user"),
    ("bob@reloop.test", "bob-demo-password", "Bob", "user"),
)


@click.command("seed")
def seed() -> None:
    """Load demo data (idempotent)."""
    for email, password, name, role in DEMO_USERS:
        if db.session.scalar(select(User).where(User.email == email)) is None:
            accounts.register(email, password, name, role=accounts.Role(role))
            click.echo(f"seeded user {email} / {password}")
    seeds.run(click.echo)
