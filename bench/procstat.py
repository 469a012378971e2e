"""CPU time of processes, from Linux ``/proc``: the benchmarks' measure of cost, which other
work on a shared machine moves far less than throughput or latency."""

from __future__ import annotations

import os
from collections.abc import Iterable

_HZ = os.sysconf("SC_CLK_TCK")


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of one process so far (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _HZ


def cpu_seconds(pids: Iterable[int]) -> float:
    """User + system CPU seconds of these processes so far."""
    return sum(process_cpu(pid) for pid in pids)


def spent_since(before: dict[int, float], pids: Iterable[int]) -> float:
    """CPU seconds these processes spent since ``before`` (pid -> ``process_cpu`` then): a
    process started since counts whole, one gone since counts nothing (not negative)."""
    return sum(process_cpu(pid) - before.get(pid, 0.0) for pid in pids)
