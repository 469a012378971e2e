"""Jobs for the worker tests (importable by worker subprocesses)."""

import time
from pathlib import Path


def sleep_for(seconds: float) -> None:
    time.sleep(seconds)


def touch(path: str) -> None:
    Path(path).write_text("done")
