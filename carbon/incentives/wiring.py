"""Wiring of incentives: the API and the outbox handlers that evaluate and reverse rewards."""

from __future__ import annotations

from flask import Flask

from carbon.incentives import batch, evaluate, gauges, personal_data, points, reversal, views
from carbon.ledger import verify
from marketplace.core import metrics, outbox
from marketplace.core import personal_data as registry
from marketplace.core.http.api import api


def register(app: Flask) -> None:
    api.register_blueprint(views.blp)
    outbox.register_handler(app, evaluate.TOPIC, batch.evaluate, queue="incentives",
                            batch=True, partitions=app.config["INCENTIVE_PARTITIONS"],
                            linger_ms=app.config["INCENTIVE_LINGER_MS"],
                            batch_size=app.config["INCENTIVE_BATCH_SIZE"])
    outbox.register_handler(app, reversal.TOPIC, reversal.reverse_record, queue="incentives")
    verify.register_check(app, "points transactions sum to zero and balances match their lines",
                          points.check)
    registry.register_exporter(app, "points", personal_data.export_points)
    registry.register_exporter(app, "rewards", personal_data.export_rewards)
    metrics.register_gauges(app, gauges.gauges)
