"""The Flask application class: Flask, with its per-call coroutine check cached.

Flask passes every hook and view through ``ensure_sync`` on every request (twelve times per
request here: the before/after hooks, the view and flask-smorest's wrappers), and each call
asks ``inspect.iscoroutinefunction``, ~6 function calls deep. The answer never changes for a
given function, so it is remembered (bounded: functions made per request are not kept)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask

_MAX_CACHED = 4096


class App(Flask):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sync_cache: dict[Callable[..., Any], Callable[..., Any]] = {}

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        try:
            return self._sync_cache[func]
        except KeyError:
            pass
        except TypeError:  # unhashable callable
            return super().ensure_sync(func)
        synced = super().ensure_sync(func)
        if len(self._sync_cache) < _MAX_CACHED:
            self._sync_cache[func] = synced
        return synced
