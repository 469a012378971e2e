"""Liveness and readiness: ``GET /healthz`` and ``GET /readyz``.

``/healthz`` is the liveness probe: it answers from the process alone (no database, no Redis),
so a slow dependency never gets healthy workers restarted. ``/readyz`` is the readiness probe:
it checks the database and Redis and answers 503 when either is down, so a load balancer
stops sending traffic without restarting anything.
"""

from __future__ import annotations

import logging

import marshmallow as ma
from sqlalchemy import text

from marketplace.core.db import db
from marketplace.core.http.blueprint import Blueprint
from marketplace.core.jobs import redis_connection

log = logging.getLogger("marketplace.core.health")
blp = Blueprint("health", __name__, description="Service health")


class LivenessSchema(ma.Schema):
    status = ma.fields.String(metadata={"description": "ok"})


class ReadinessSchema(ma.Schema):
    status = ma.fields.String(metadata={"description": "ok or unavailable"})
    database = ma.fields.String(metadata={"description": "ok or down"})
    queue = ma.fields.String(metadata={"description": "ok, inline (no Redis) or down"})


def check() -> dict[str, str]:
    result = {"status": "ok", "database": "ok", "queue": "inline"}
    try:
        db.session.execute(text("SELECT 1"))
        db.session.rollback()
    except Exception:
        log.warning("database health check failed", exc_info=True)
        db.session.rollback()
        result["database"] = "down"
    conn = redis_connection()
    if conn is not None:
        try:
            conn.ping()
            result["queue"] = "ok"
        except Exception:
            log.warning("redis health check failed", exc_info=True)
            result["queue"] = "down"
    if "down" in result.values():
        result["status"] = "unavailable"
    return result


_LIVE = {"status": "ok"}


@blp.route("/healthz", methods=["GET"])
@blp.response(200, LivenessSchema)
def healthz():
    """Liveness: the process serves requests (touches no database or Redis)."""
    return _LIVE


@blp.route("/readyz", methods=["GET"])
@blp.response(200, ReadinessSchema)
@blp.alt_response(503, schema=ReadinessSchema, description="A dependency is down",
                  headers={"Retry-After": {"description": "Seconds to wait before retrying",
                                           "schema": {"type": "integer"}}})
def readyz():
    """Readiness: the database and the queue (Redis) answer."""
    result = check()
    if result["status"] == "ok":
        return result, 200
    return result, 503, {"Retry-After": "5"}
