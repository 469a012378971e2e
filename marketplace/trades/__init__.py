"""Trades: escrow purchases as an explicit state machine (issue 5).

- ``machine``: the transitions table (from, to, who, effects), as data;
- ``engine``: ``apply`` (lock, check the table, run effects, write the audit event) and the
  effects themselves (Stripe, listing, payout, outbox);
- ``services``: create, read, act, timed transitions (eager job and lazy on read/act);
- ``stripe_events``: the webhook handlers; ``reviews``; ``ledger_check`` (verify-ledger).
"""
