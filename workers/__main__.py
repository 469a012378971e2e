"""``python -m workers [--burst] [--fork] [--no-cron] [QUEUE ...]``

By default a worker loads the app once and runs jobs in its own process (RQ's SimpleWorker),
keeping its database connection pool: jobs are small and many (outbox drains). Each job has a
time limit (RQ's job timeout, enforced in-process with SIGALRM), so a stuck job cannot hold the
worker. ``--fork`` runs each job in a forked work horse instead (RQ's default Worker), for
jobs that might crash the interpreter.
"""

from __future__ import annotations

import argparse

from workers.worker import run


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m workers", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("queues", nargs="*", help="queues to serve (default: all)")
    parser.add_argument("--burst", action="store_true", help="quit when the queues are empty")
    parser.add_argument("--fork", action="store_true",
                        help="fork a work horse per job (default: run jobs in-process)")
    parser.add_argument("--simple", action="store_true",
                        help="run jobs in-process (the default; kept for old scripts)")
    parser.add_argument("--no-cron", action="store_true", help="do not run periodic jobs")
    args = parser.parse_args()
    run(args.queues or None, burst=args.burst, cron=not args.no_cron, simple=not args.fork)


if __name__ == "__main__":
    main()
