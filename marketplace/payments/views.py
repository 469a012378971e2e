"""HTTP API for payments: the Stripe webhook and sellers' payout accounts and payouts."""

from __future__ import annotations

from flask import request

from marketplace.core.errors import NotFound
from marketplace.core.http.auth import current_user
from marketplace.core.http.blueprint import Blueprint
from marketplace.payments import payouts, webhooks
from marketplace.payments.schemas import PayoutAccountSchema, PayoutsSchema, WebhookAckSchema

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
    """
    event = webhooks.verify(request.get_data(), request.headers.get("Stripe-Signature"))
    _, created = webhooks.receive(event)
    return {"received": True, "duplicate": not created}


@blp.route("/users/me/payout-account", methods=["PUT"])
@blp.auth()
@blp.arguments(PayoutAccountSchema)
@blp.response(200, PayoutAccountSchema)
def put_payout_account(data):
    """Set the Stripe Connect account that receives the caller's payouts.

    Payouts accrued while the caller had no account are transferred to it.
    """
    return payouts.set_payout_account(current_user().id, data["stripe_account_id"])


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
@blp.response(200, PayoutsSchema)
def my_payouts():
    """The caller's payouts as a seller, and their totals per currency."""
    user_id = current_user().id
    return {"payouts": payouts.payouts_of(user_id), "balances": payouts.balances(user_id)}
