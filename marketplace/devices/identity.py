"""Device identities: IMEIs (Luhn-checked) and serial numbers, kept only as keyed hashes;
admins mark them reported stolen."""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from marketplace.core import audit
from marketplace.core.db import db
from marketplace.core.dbtypes import utcnow
from marketplace.devices.models import DeviceIdentity

IMEI_CATEGORIES = frozenset({"smartphone", "tablet", "smartwatch"})
_SEPARATORS = re.compile(r"[\s\-./]")
SERIAL_RE = re.compile(r"^[A-Z0-9]{4,64}$")


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def normalize(kind: str, value: str) -> str:
    """The canonical form hashed: separators removed; an IMEI's digits in ASCII (a keyboard
    may type fullwidth or Arabic-Indic digits: the same IMEI must hash the same, or a stolen
    device could be listed again), a serial in upper case."""
    value = _SEPARATORS.sub("", value or "")
    if kind == "imei":
        return "".join(str(unicodedata.decimal(ch)) if ch.isdecimal() else ch for ch in value)
    return value.upper()


def imei_errors(value: str) -> list[str]:
    v = normalize("imei", value)
    if not re.fullmatch(r"[0-9]{15}", v):
        return ["An IMEI has 15 digits."]
    if not luhn_ok(v):
        return ["Not a valid IMEI (check digit)."]
    return []


def serial_errors(value: str) -> list[str]:
    if not SERIAL_RE.fullmatch(normalize("serial", value)):
        return ["4 to 64 letters and digits (spaces and dashes are ignored)."]
    return []


def digest(kind: str, value: str) -> str:
    key = current_app.config["DEVICE_ID_SECRET"].encode()
    msg = f"{kind}:{normalize(kind, value)}".encode()
    return hmac.new(key, msg, hashlib.sha256).hexdigest()


def find(kind: str, value: str) -> DeviceIdentity | None:
    return db.session.scalar(select(DeviceIdentity).where(
        DeviceIdentity.digest == digest(kind, value)))


def get_or_create(kind: str, value: str) -> DeviceIdentity:
    """The identity of this IMEI / serial number (created on first sight). Does not commit."""
    identity = find(kind, value)
    if identity is not None:
        return identity
    identity = DeviceIdentity(kind=kind, digest=digest(kind, value))
    try:
        with db.session.begin_nested():
            db.session.add(identity)
    except IntegrityError:  # created concurrently
        identity = find(kind, value)
    return identity


def refuse_listing(identity: DeviceIdentity, seller_id: int) -> None:
    """Record in the audit log that a stolen device was offered (commits: the refusal that
    follows rolls nothing of it back)."""
    db.session.rollback()
    audit.record("device.listing_refused", "device_identity", identity.id, actor_id=seller_id,
                 details={"reason": "reported_stolen"})
    db.session.commit()


def set_stolen(kind: str, value: str, stolen: bool, admin_id: int) -> DeviceIdentity:
    """Mark (or clear) an identity as reported stolen; audited. Commits."""
    identity = get_or_create(kind, value)
    identity.stolen_at = utcnow() if stolen else None
    audit.record("device.reported_stolen" if stolen else "device.stolen_cleared",
                 "device_identity", identity.id, actor_id=admin_id, details={"kind": kind})
    db.session.commit()
    return identity
