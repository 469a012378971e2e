"""HTTP API for payments: the Stripe webhook and sellers' payout accounts and payouts."""

from __future__ import annotations

import hashlib

from flask import current_app, request

from marketplace.core.errors import NotFound
from marketplace.core.http.auth import current_user
from marketplace.core.http.blueprint import Blueprint
from marketplace.core.http.limiter import limiter
from marketplace.core.http.pagination import PageArgsSchema
from marketplace.payments import connect, payouts, webhooks
from marketplace.payments.schemas import (
    BalancesSchema,
    OnboardingLinkSchema,
    OnboardingSchema,
    PayoutAccountSchema,
    PayoutPageSchema,
    WebhookAckSchema,
)

blp = Blueprint("payments", __name__, url_prefix="/api/v1",
                description="Payments: Stripe webhooks, payout accounts and payouts")


@blp.route("/payments/stripe/webhook", methods=["POST"])
@blp.response(200, WebhookAckSchema)
@blp.errors(400, 503)
@blp.doc(parameters=[{"in": "header", "name": "Stripe-Signature", "required": True,
                      "schema": {"type": "string"}}])
def stripe_webhook():
    """Receive a Stripe event (signed with the endpoint's secret).

    Each event is stored once by its id and applied once; a repeated delivery is
    acknowledged without effect, and events of types Reloop does not handle are stored and
    acknowledged.

    Exempt from ``Idempotency-Key``: Stripe does not send one and deduplicates by event id,
    which is what this endpoint keys on (a redelivered event is acknowledged as a duplicate).
    """
    event = webhooks.verify(request.get_data(), request.headers.get("Stripe-Signature"))
    _, created = webhooks.receive(event)
    return {"received": True, "duplicate": not created}


def _password_limit() -> str:
    return current_app.config["LOGIN_LIMIT_PER_EMAIL"]


def _token_key() -> str:
    """Wrong passwords counted per bearer token (whoever holds a token cannot guess the
    password here faster than at login)."""
    raw = request.headers.get("Authorization", "")
    return "onboarding-token:" + hashlib.sha256(raw.encode()).hexdigest()


@blp.route("/users/me/payout-account/onboarding", methods=["POST"])
@limiter.limit(_password_limit, key_func=_token_key,
               deduct_when=lambda response: response.status_code == 403)
@blp.auth()
@blp.idempotent()
@blp.arguments(OnboardingSchema)
@blp.response(201, OnboardingLinkSchema)
@blp.errors(403, 503)
@blp.rate_limited()
def start_payout_onboarding(data):
    """Start (or continue) Stripe Connect onboarding; needs the caller's password again.

    Returns a Stripe-hosted link where the caller enters their payout details. Wrong
    passwords are limited per token as failed logins are per email (429). The payout
    account is set when Stripe reports the account ready (``account.updated`` webhook),
    never from a client: there is no way to type an account id. Payouts accrued meanwhile
    are then transferred to it.
    """
    return connect.start(current_user(), data["password"],
                         request.url_root.rstrip("/") + "/api/v1/users/me/payout-account")


@blp.route("/users/me/payout-account", methods=["GET"])
@blp.auth()
@blp.response(200, PayoutAccountSchema)
@blp.errors(404)
def get_payout_account():
    """The caller's payout account."""
    account = payouts.payout_account(current_user().id)
    if account is None:
        raise NotFound("You have no payout account yet.")
    return account


@blp.route("/users/me/payouts", methods=["GET"])
@blp.auth()
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, PayoutPageSchema)
def my_payouts(args):
    """The caller's payouts as a seller, newest first by id, a page at a time (totals per
    currency: ``GET /users/me/payout-balances``)."""
    return payouts.payouts_of(current_user().id, args["limit"], args.get("cursor"))


@blp.route("/users/me/payout-balances", methods=["GET"])
@blp.auth()
@blp.response(200, BalancesSchema)
def my_payout_balances():
    """The caller's payout totals per currency (accrued, pending, transferred, failed), by
    currency code."""
    return {"balances": payouts.balances(current_user().id)}
