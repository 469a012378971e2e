"""``python -m workers [--burst] [--simple] [--no-cron] [QUEUE ...]``"""

from __future__ import annotations

import argparse

from workers.worker import run


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m workers", description=__doc__)
    parser.add_argument("queues", nargs="*", help="queues to serve (default: all)")
    parser.add_argument("--burst", action="store_true", help="quit when the queues are empty")
    parser.add_argument("--simple", action="store_true", help="run jobs without forking")
    parser.add_argument("--no-cron", action="store_true", help="do not run periodic jobs")
    args = parser.parse_args()
    run(args.queues or None, burst=args.burst, cron=not args.no_cron, simple=args.simple)


if __name__ == "__main__":
    main()
