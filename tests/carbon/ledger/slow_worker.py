"""A ledger worker whose credit batches are slow: ``python -m tests.carbon.ledger.slow_worker``.

For the kill test only: each batch sleeps ``SLOW_BATCH_SECONDS`` inside its transaction, after
posting and before commit, so a SIGKILL lands in the middle of one.
"""

import os
import time

from carbon.ledger import posting
from marketplace.app import create_app
from marketplace.core import outbox
from workers.worker import run, use_app


def main() -> None:
    delay = float(os.environ.get("SLOW_BATCH_SECONDS", "0.5"))

    def slow_credits(records):
        posting.post_credits(records)
        time.sleep(delay)

    app = create_app()
    outbox.registry(app).handlers["trade.completed"] = outbox.Handler(slow_credits, "ledger",
                                                                      batch=True)
    use_app(app)
    run(["ledger"], burst=True, cron=False, simple=True)


if __name__ == "__main__":
    main()
