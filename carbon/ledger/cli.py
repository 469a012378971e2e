"""``flask carbon verify-ledger``."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from carbon.ledger import verify


@click.command("verify-ledger")
@with_appcontext
def verify_ledger() -> None:
    """Recompute every balance from the lines, check each transaction sums to zero and that
    users were credited exactly the completed trades' avoided emissions net of refunds.
    Exits non-zero on any mismatch."""
    report = verify.run()
    click.echo(report.render())
    if not report.ok:
        raise SystemExit(1)
