"""The ``flask carbon`` command group."""

from __future__ import annotations

from flask.cli import AppGroup

from carbon.ledger.cli import verify_ledger

carbon_cli = AppGroup("carbon", help="Carbon estimates and the carbon ledger.")
carbon_cli.add_command(verify_ledger)
