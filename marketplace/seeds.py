"""Demo data beyond users, extended as features land."""

from __future__ import annotations

from collections.abc import Callable


def run(echo: Callable[[str], None]) -> None:
    """Nothing beyond the demo users yet (listings arrive with the listings feature)."""
    return None
