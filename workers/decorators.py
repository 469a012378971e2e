"""A pre-bound job decorator: ``@job("ledger")`` adds ``.delay(*ids)`` to a function."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ParamSpec, Protocol, TypeVar

from marketplace.core.jobs import DEFAULT_RETRY, QUEUES, enqueue

P = ParamSpec("P")
R = TypeVar("R", covariant=True)


class Job(Protocol[P, R]):
    queue_name: str

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R: ...

    def delay(self, *args: Any) -> str | None: ...


def job(queue: str, *, timeout: int = 300, retry=DEFAULT_RETRY) -> Callable[[Callable], Job]:
    """Mark a function as a job on ``queue``.

    Jobs take ids (plain JSON-able values), load what they need and call a service; they run
    inside an application context provided by the worker (or by the inline runner).
    """
    if queue not in QUEUES:
        raise ValueError(f"unknown queue {queue!r}")

    def decorator(func: Callable) -> Job:
        def delay(*args: Any, job_id: str | None = None) -> str | None:
            return enqueue(func, *args, queue=queue, job_id=job_id, retry=retry,
                           timeout=timeout)

        func.delay = delay  # type: ignore[attr-defined]
        func.queue_name = queue  # type: ignore[attr-defined]
        return func  # type: ignore[return-value]

    return decorator
