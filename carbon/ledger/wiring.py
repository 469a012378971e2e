"""Wiring of the carbon ledger: its API, the outbox topics it posts from and writes, its
checks and its CLI command."""

from __future__ import annotations

from flask import Flask

from carbon import commands
from carbon.ledger import cli, gauges, personal_data, posting, recycling, verify, views
from marketplace.core import metrics, outbox
from marketplace.core import personal_data as registry
from marketplace.core.http.api import api


def register(app: Flask) -> None:
    api.register_blueprint(views.blp)
    outbox.register_handler(app, posting.COMPLETED_TOPIC, posting.post_credits, queue="ledger",
                            batch=True)
    outbox.register_handler(app, posting.REFUNDED_TOPIC, posting.post_reversals,
                            queue="ledger", batch=True)
    outbox.register_handler(app, recycling.TOPIC, recycling.post_recycling_credits,
                            queue="ledger", batch=True)
    outbox.declare_writes(app, posting.EVALUATE_TOPIC, posting.REVERSE_TOPIC)
    for name, check in verify.LEDGER_CHECKS:
        verify.register_check(app, name, check)
    verify.register_check(app, "recycling credits equal the confirmed handovers",
                          recycling.recycling_credits_match_records)
    commands.carbon_cli.add_command(cli.verify_ledger)
    registry.register_exporter(app, "carbon_ledger", personal_data.export)
    metrics.register_gauges(app, gauges.gauges)
