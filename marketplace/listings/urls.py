"""Photo URLs given as strings must point at public hosts: not this machine, not a private
network, not a cloud metadata service (169.254.169.254), which a client or a proxy fetching
them could be made to reach."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from marshmallow import ValidationError

_LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".localdomain", ".home.arpa", ".lan")
_LOCAL_NAMES = {"localhost", "localhost.localdomain", "metadata.google.internal"}


def is_public_host(host: str) -> bool:
    host = host.strip("[]").rstrip(".").lower()
    if not host or host in _LOCAL_NAMES or host.endswith(_LOCAL_SUFFIXES):
        return False
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return True  # a name: it has a TLD (checked by the URL field)
    return ip.is_global and not ip.is_multicast


def public_url(value: str) -> None:
    """Marshmallow validator."""
    if not is_public_host(urlsplit(value).hostname or ""):
        raise ValidationError("Must be a URL on a public host (not localhost, a private "
                              "network or a link-local address).")
