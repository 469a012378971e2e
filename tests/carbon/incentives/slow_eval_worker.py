"""A worker whose rule evaluations linger after reading budgets: ``python -m
tests.carbon.incentives.slow_eval_worker QUEUE ...``. For the budget race test only: each batch
sleeps ``SLOW_EVAL_SECONDS`` between computing its rewards (budgets read) and writing them, so
batches of different partitions overlap."""

import os
import sys
import time

from carbon.incentives import batch
from workers.worker import run


def main() -> None:
    delay = float(os.environ.get("SLOW_EVAL_SECONDS", "0.3"))
    write = batch._Batch.write

    def slow_write(self, evaluations, rows):
        time.sleep(delay)
        return write(self, evaluations, rows)

    batch._Batch.write = slow_write
    run(sys.argv[1:], burst=True, cron=False, simple=True)


if __name__ == "__main__":
    main()
