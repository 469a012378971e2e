"""Opaque keyset cursors: base64url of JSON ``[sort value, id]``, validated on decode."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from typing import Any

from marketplace.core.errors import InvalidInput


def encode(value: Any, last_id: int) -> str:
    raw = json.dumps([value, last_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


MAX_BIGINT = 2**63 - 1


def as_int(raw: Any) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise ValueError("not an integer")
    if not -MAX_BIGINT <= raw <= MAX_BIGINT:
        raise ValueError("out of range")
    return raw


def decode(cursor: str, parse_value: Callable[[Any], Any]) -> tuple[Any, int]:
    """``(value, id)``; InvalidInput (422, field ``cursor``) for anything malformed."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        if not isinstance(data, list) or len(data) != 2:
            raise ValueError("not a pair")
        return parse_value(data[0]), as_int(data[1])
    except (ValueError, TypeError, UnicodeError, binascii.Error, OverflowError):
        raise InvalidInput("The cursor is not valid for this request.",
                           {"cursor": ["Not a valid cursor."]}) from None
