"""Prometheus metrics: ``GET /metrics`` (text format).

- Request count and latency histogram by endpoint (the URL rule, e.g.
  ``/api/v1/listings/<int:listing_id>``; ``<unmatched>`` when no route matched), method (a
  method outside the standard seven is ``other``: clients choose it, so the label values
  stay bounded) and status, recorded after every request. With
  ``PROMETHEUS_MULTIPROC_DIR`` set (gunicorn.conf.py sets it for its workers), prometheus_client
  runs in multiprocess mode: every worker writes its samples to files there and a scrape, served
  by any worker, adds them all up.
- Gauges read at scrape time from the database and Redis (outbox backlog, queue depth,
  webhook lag, failing payouts, credits and rewards written). The platform does not know the
  features: each contributes its gauges explicitly with ``register_gauges(app, fn)`` in its
  wiring, where ``fn()`` returns ``Gauge`` samples. A failing contributor is logged and
  skipped (the scrape still answers) and counted in ``reloop_metrics_collector_errors``.
- Served only with ``Authorization: Bearer $METRICS_TOKEN``; with ``METRICS_TOKEN`` unset the
  endpoint does not exist (404).
"""

from __future__ import annotations

import hmac
import logging
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from flask import Flask, Response, abort, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily

from marketplace.core.logs import route

log = logging.getLogger("marketplace.core.metrics")

REQUESTS = Counter("reloop_http_requests", "HTTP requests served",
                   ("method", "endpoint", "status"))
LATENCY = Histogram("reloop_http_request_duration_seconds", "HTTP request latency",
                    ("method", "endpoint", "status"),
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0))

_EXTENSION = "reloop.metrics_gauges"


@dataclass(frozen=True)
class Gauge:
    """One sample of a scrape-time gauge."""

    name: str
    help: str
    value: float
    labels: dict[str, str] = field(default_factory=dict)


GaugeSource = Callable[[], Iterable[Gauge]]


def register_gauges(app: Flask, source: GaugeSource) -> None:
    """Add ``source`` to what ``/metrics`` reads at scrape time (in an app context)."""
    app.extensions.setdefault(_EXTENSION, []).append(source)


class _ScrapeCollector:
    def __init__(self, sources: list[GaugeSource]):
        self.sources = sources

    def collect(self):
        families: dict[str, GaugeMetricFamily] = {}
        errors = 0
        for source in self.sources:
            try:
                samples = list(source())
            except Exception:
                log.warning("metrics source %s failed", getattr(source, "__qualname__", source),
                            exc_info=True)
                errors += 1
                continue
            for s in samples:
                fam = families.get(s.name)
                if fam is None:
                    fam = families[s.name] = GaugeMetricFamily(
                        s.name, s.help, labels=sorted(s.labels))
                fam.add_metric([s.labels[k] for k in sorted(s.labels)], s.value)
        err = GaugeMetricFamily("reloop_metrics_collector_errors",
                                "Gauge sources that failed during this scrape")
        err.add_metric([], errors)
        yield from families.values()
        yield err


# Methods a client may send are not a closed set (gunicorn accepts any token): any other is
# counted as "other", so the label values stay bounded (routes x methods x statuses).
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_MAX_CHILDREN = 4096
# (method, endpoint, status) -> (request counter, latency histogram): ``labels()`` validates
# and locks on every call; the children never change once made.
_children: dict[tuple[str, str, int], tuple] = {}


def _observe(method: str, endpoint: str, status: int, seconds: float) -> None:
    key = (method if method in _METHODS else "other", endpoint, status)
    pair = _children.get(key)
    if pair is None:
        labels = (key[0], endpoint, str(status))
        pair = (REQUESTS.labels(*labels), LATENCY.labels(*labels))
        if len(_children) < _MAX_CHILDREN:
            _children[key] = pair
    pair[0].inc()
    pair[1].observe(seconds)


def init_app(app: Flask) -> None:
    def _start() -> None:
        g.metrics_started = time.perf_counter()

    # Before every other hook: requests that the input guard or the fail-closed limiter
    # refuse (413, 422, 503) are counted too.
    app.before_request_funcs.setdefault(None, []).insert(0, _start)

    @app.after_request
    def _record(response):
        started = g.pop("metrics_started", None)
        if started is not None:
            _observe(request.method, route(), response.status_code,
                     time.perf_counter() - started)
        return response

    app.add_url_rule("/metrics", "metrics", _metrics, methods=["GET"])


def _authorized() -> bool:
    expected = current_app.config.get("METRICS_TOKEN")
    if not expected:
        abort(404)
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(),
                                                              expected.encode())


def _metrics():
    if not _authorized():
        return Response("A valid bearer token is required.\n", status=401,
                        headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
                        mimetype="text/plain")
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(REQUESTS)
        registry.register(LATENCY)
    registry.register(_ScrapeCollector(current_app.extensions.get(_EXTENSION, [])))
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)
