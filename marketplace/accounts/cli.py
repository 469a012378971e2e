"""``flask users ...``: account administration."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from marketplace.accounts import services

users_cli = AppGroup("users", help="Manage user accounts.")


@users_cli.command("create-admin")
@click.argument("email")
@click.option("--password-stdin", is_flag=True,
              help="Read the password from standard input (first line).")
def create_admin(email: str, password_stdin: bool) -> None:
    """Create an admin account, or promote an existing user to admin."""
    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else None
    if password is not None and len(password) < 10:
        raise click.ClickException("the password must be at least 10 characters")
    try:
        user, created = services.create_or_promote_admin(email, password)
    except ValueError as exc:
        raise click.ClickException(f"{exc} (use --password-stdin)") from None
    click.echo(f"{'created' if created else 'promoted'} admin {user.email} (id {user.id})")
