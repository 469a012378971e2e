"""Signatures of outbound webhooks, in the manner of Stripe's.

Header ``Reloop-Signature: t=<unix seconds>,v1=<hex>`` where ``hex`` is
``HMAC-SHA256(secret, "<t>.<raw body>")``. A receiver recomputes it over the raw body with the
endpoint's secret, compares in constant time, and rejects a ``t`` older than its tolerance
(5 minutes by default) so a captured delivery cannot be replayed later.
"""

from __future__ import annotations

import hashlib
import hmac
import time

HEADER = "Reloop-Signature"
TOLERANCE_SECONDS = 300


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def verify(secret: str, header: str, body: bytes, tolerance: int = TOLERANCE_SECONDS,
           now: float | None = None) -> bool:
    """True if ``header`` signs ``body`` with ``secret`` within ``tolerance`` seconds."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        t = int(parts["t"])
    except (ValueError, KeyError):
        return False
    if abs((time.time() if now is None else now) - t) > tolerance:
        return False
    expected = sign(secret, body, t).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))
