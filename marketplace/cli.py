"""``flask`` commands: users, seed, worker, serve, carbon."""

from __future__ import annotations

import sys
import threading

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import select

from marketplace.auth import services as auth_services
from marketplace.auth.models import User
from marketplace.extensions import db

users_cli = AppGroup("users", help="Manage user accounts.")

DEMO_USERS = (
    ("admin@reloop.test", "reloop-admin-demo", "Reloop Admin", "admin"),
    ("alice@reloop.test", "alice-demo-password", "Alice", "user"),
    ("bob@reloop.test", "bob-demo-password", "Bob", "user"),
)


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
        user, created = auth_services.create_or_promote_admin(email, password)
    except ValueError as exc:
        raise click.ClickException(f"{exc} (use --password-stdin)") from None
    click.echo(f"{'created' if created else 'promoted'} admin {user.email} (id {user.id})")


@click.command("seed")
def seed() -> None:
    """Load demo data (idempotent)."""
    for email, password, name, role in DEMO_USERS:
        if db.session.scalar(select(User).where(User.email == email)) is None:
            auth_services.register(email, password, name,
                                   role=auth_services.Role(role))
            click.echo(f"seeded user {email} / {password}")
    from marketplace import seeds

    seeds.run(click.echo)


@click.command("worker")
@click.argument("queues", nargs=-1)
@click.option("--burst", is_flag=True, help="Quit when the queues are empty.")
@click.option("--simple", is_flag=True, help="Run jobs in the worker process (no fork).")
@click.option("--no-cron", is_flag=True, help="Do not run the periodic jobs.")
def worker(queues: tuple[str, ...], burst: bool, simple: bool, no_cron: bool) -> None:
    """Run an RQ worker (and the periodic scheduler) in the app context."""
    from workers.worker import run

    run(list(queues) or None, burst=burst, cron=not no_cron, simple=simple)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=None, help="Default: $PORT (5000).")
def serve(host: str, port: int | None) -> None:
    """Serve the API for development; with no Redis, also run the periodic jobs."""
    from workers.queues import is_inline
    from workers.schedule import run_inline_ticker

    app = current_app._get_current_object()
    if is_inline(app):
        run_inline_ticker(app, threading.Event())
    from werkzeug.serving import run_simple

    run_simple(host, port or app.config["PORT"], app, threaded=True, use_reloader=False)


def register_commands(app: Flask) -> None:
    from carbon.commands import carbon_cli

    app.cli.add_command(users_cli)
    app.cli.add_command(carbon_cli)
    for command in (seed, worker, serve):
        app.cli.add_command(command)
