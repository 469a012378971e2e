"""The carriers a seller may ship with, and the tracking adapters we have for them.

``ship`` takes a carrier code from ``CARRIERS`` (a display name such as "La Poste" is
accepted and normalised to its code). A carrier with an adapter is *tracked*: the periodic
``poll-shipments`` job asks it for the parcel's events, and delivery starts the confirm
window. Carriers without an adapter are shipped untracked (the confirm window then runs from
shipping, as before). The one adapter today is ``reloop_test``, a carrier whose tracking API
we define (``GET {TEST_CARRIER_URL}/parcels/{tracking_number}/events``), served by a tiny HTTP
server in the tests and usable for a demo; it is accepted only when ``TEST_CARRIER_URL`` is
set. A real carrier is added by writing its ``CarrierAdapter`` and listing it in
``adapter_for``.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

CARRIERS: dict[str, str] = {
    "la_poste": "La Poste", "colissimo": "Colissimo", "chronopost": "Chronopost",
    "mondial_relay": "Mondial Relay", "dhl": "DHL", "dpd": "DPD", "gls": "GLS", "ups": "UPS",
    "fedex": "FedEx", "usps": "USPS", "royal_mail": "Royal Mail", "postnl": "PostNL",
    "deutsche_post": "Deutsche Post", "hermes": "Hermes", "correos": "Correos",
    "poste_italiane": "Poste Italiane", "bpost": "bpost", "sf_express": "SF Express",
    "reloop_test": "Reloop test carrier",
}
TEST_CARRIER = "reloop_test"

# Tracking statuses (ours; adapters map their carrier's onto these).
IN_TRANSIT, DELIVERED, EXCEPTION, RETURNED = "in_transit", "delivered", "exception", "returned"
STATUSES = (IN_TRANSIT, "out_for_delivery", DELIVERED, EXCEPTION, RETURNED)
TIMEOUT_SECONDS = 5


def normalize(raw: str) -> str:
    """``"La Poste"`` → ``la_poste``; an unknown carrier is returned normalised as well (the
    caller checks it against ``CARRIERS``)."""
    code = "_".join(raw.strip().lower().replace("-", " ").split())
    by_name = {name.lower(): c for c, name in CARRIERS.items()}
    return by_name.get(raw.strip().lower(), code)


@dataclass(frozen=True)
class TrackingEvent:
    status: str
    occurred_at: datetime
    description: str = ""
    location: str | None = None


class TrackingUnavailable(Exception):
    """The carrier could not be asked (network, 5xx, bad answer): try again later."""


class CarrierAdapter(Protocol):
    def track(self, tracking_number: str) -> list[TrackingEvent]:
        """The parcel's events, oldest first (empty: not known to the carrier yet)."""


class TestCarrier:
    """The ``reloop_test`` carrier's tracking API (JSON over HTTP)."""

    def __init__(self, base_url: str):
        self.base_url = base_url.rstrip("/")

    def track(self, tracking_number: str) -> list[TrackingEvent]:
        url = f"{self.base_url}/parcels/{urllib.parse.quote(tracking_number, safe='')}/events"
        try:
            with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as resp:
                body = json.load(resp)
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return []
            raise TrackingUnavailable(f"{url}: HTTP {exc.code}") from None
        except (OSError, ValueError) as exc:
            raise TrackingUnavailable(f"{url}: {exc}") from None
        try:
            return sorted((_event(e) for e in body["events"]), key=lambda e: e.occurred_at)
        except (KeyError, TypeError, ValueError) as exc:
            raise TrackingUnavailable(f"{url}: unexpected answer: {exc!r}") from None


def _event(raw: dict) -> TrackingEvent:
    status = raw["status"]
    if status not in STATUSES:
        raise ValueError(f"unknown status {status!r}")
    at = datetime.fromisoformat(raw["occurred_at"].replace("Z", "+00:00"))
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return TrackingEvent(status, at.astimezone(UTC), str(raw.get("description") or "")[:300],
                         (str(raw["location"])[:100] if raw.get("location") else None))


def adapter_for(carrier: str, config) -> CarrierAdapter | None:
    """The carrier's tracking adapter, or None when it is shipped untracked."""
    if carrier == TEST_CARRIER and config.get("TEST_CARRIER_URL"):
        return TestCarrier(config["TEST_CARRIER_URL"])
    return None


def available(carrier: str, config) -> bool:
    return carrier in CARRIERS and (carrier != TEST_CARRIER
                                    or bool(config.get("TEST_CARRIER_URL")))
