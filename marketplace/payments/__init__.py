"""Payments: Stripe client, webhooks, payout bookkeeping (groundwork for trades).

- ``stripe_client``: PaymentIntents, refunds and transfers with idempotency keys; provider
  failures as domain errors.
- ``webhooks``: signed events stored once and applied once through ``webhooks.on(type)``.
- ``payouts``: ``schedule_payout`` (in the caller's transaction) and the transfer job.
"""
