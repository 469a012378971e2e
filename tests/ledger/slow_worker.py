"""A ledger worker whose credit batches take a while: ``python -m tests.ledger.slow_worker``.

For the kill test only: each batch sleeps ``SLOW_BATCH_SECONDS`` inside its transaction, after
posting and before commit, so a SIGKILL lands in the middle of one.
"""

import os
import time

from marketplace import outbox


def main() -> None:
    from carbon.ledger import posting
    from workers.worker import run

    delay = float(os.environ.get("SLOW_BATCH_SECONDS", "0.5"))

    def slow_credits(records):
        posting.post_credits(records)
        time.sleep(delay)

    outbox._HANDLERS["trade.completed"] = outbox.Handler(slow_credits, "ledger", batch=True)
    run(["ledger"], burst=True, cron=False, simple=True)


if __name__ == "__main__":
    main()
