"""``flask carbon ...`` commands."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from carbon.estimator import estimate_csv

carbon_cli = AppGroup("carbon", help="Carbon estimates and ledger. The ledger and listings "
                      "features add their commands at start-up.")


@carbon_cli.command("estimate-batch")
@click.argument("in_csv", type=click.Path(exists=True, dir_okay=False))
@click.argument("out_csv", type=click.Path(dir_okay=False, writable=True))
def estimate_batch_command(in_csv: str, out_csv: str) -> None:
    """Estimate embodied footprints for every row of IN_CSV into OUT_CSV.

    Bad rows are reported with their line number and skipped; the exit code is 1 if any was.
    """
    try:
        report = estimate_csv(in_csv, out_csv)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    for bad in report["errors"]:
        problems = "; ".join(f"{field}: {', '.join(msgs)}"
                             for field, msgs in bad["errors"].items())
        click.echo(f"line {bad['line']}: skipped: {problems}", err=True)
    click.echo(f"wrote {report['rows_written']} rows to {out_csv}; "
               f"skipped {report['rows_skipped']}")
    if report["rows_skipped"]:
        raise SystemExit(1)


def register(app) -> None:
    app.cli.add_command(carbon_cli)
