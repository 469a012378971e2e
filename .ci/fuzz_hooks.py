"""schemathesis hooks for .ci/fuzz.py: put NUL bytes where the database would meet them.

``--generation-allow-x00`` only allows NUL in generated strings, and Hypothesis rarely picks
it in a short run. Two requests in three get a NUL inserted into one of its strings (a query,
path or JSON body value, or a JSON key), rotating, so that a short, time-bounded run still
sends many of them.
"""

from __future__ import annotations

import itertools
from typing import Any

import schemathesis

_counter = itertools.count()


def _strings(node: Any, path: tuple = ()) -> list[tuple]:
    """Paths to the strings of a JSON-like value (``("key",)`` for a dict key itself)."""
    found: list[tuple] = []
    if isinstance(node, str):
        found.append(path)
    elif isinstance(node, dict):
        for key, value in node.items():
            if isinstance(key, str):
                found.append((*path, ("key", key)))
            found.extend(_strings(value, (*path, key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found.extend(_strings(value, (*path, index)))
    return found


def _poison(container: Any, path: tuple) -> Any:
    if not path:
        return container[: len(container) // 2] + "\x00" + container[len(container) // 2:]
    head, rest = path[0], path[1:]
    if isinstance(head, tuple):  # a dict key
        key = head[1]
        container[key[: len(key) // 2] + "\x00" + key[len(key) // 2:]] = container.pop(key)
        return container
    container[head] = _poison(container[head], rest)
    return container


@schemathesis.hook
def before_call(context, case, **kwargs):
    """One call in three goes out as generated; the others get a NUL in one string value of
    their query, path or JSON body (or, one in six, in a JSON key), rotating through them:
    one at a time, so the other values stay valid and the poisoned one gets as far as it can
    (an enum with a NUL is refused by the schema long before the database)."""
    n = next(_counter)
    if n % 3 == 0:
        return
    targets = []
    for where in ("query", "path_parameters", "body"):
        value = getattr(case, where, None)
        if where == "body" and isinstance(value, str):
            targets.append((where, ()))
        elif isinstance(value, dict | list):
            keys = n % 6 == 2 and where == "body"
            targets += [(where, p) for p in _strings(value)
                        if p and isinstance(p[-1], tuple) == keys]
    if targets:
        where, path = targets[(n // 3) % len(targets)]
        setattr(case, where, _poison(getattr(case, where), path))
