"""The one path to Stripe: a configured ``stripe.StripeClient`` and the calls trades need.

Every call that creates or moves money takes an idempotency key derived from our own rows
(``trade_key(7, "create")`` → ``trade-7-create``, ``trade_key(7, "refund", 2)`` →
``trade-7-refund-2``, ``payout_key(12)`` → ``payout-12-transfer``), so a call retried by the
library, by RQ or by a client can never charge, refund or transfer twice. Stripe keeps keys for
24 hours; the state stored on our rows covers anything older.

Errors become domain errors that the API renders in the standard shape:

- network failures, timeouts, Stripe 5xx and rate limits → ``PaymentProviderUnavailable`` (503,
  ``Retry-After``): nothing was decided, the caller rolls back and the client (or job) retries;
- card errors → ``PaymentDeclined`` (402), with Stripe's ``code`` / ``decline_code``;
- a request Stripe refuses (bad state, amount too large, idempotency key reused with other
  parameters) → ``PaymentRejected`` (409);
- bad credentials or no key configured → ``PaymentProviderUnavailable`` (503), logged as an error.

Configuration (app config): ``STRIPE_API_KEY``, ``STRIPE_API_BASE`` (e.g. localstripe), and
optionally ``STRIPE_TIMEOUT`` ((connect, read) seconds, default (5, 30)) and
``STRIPE_MAX_NETWORK_RETRIES`` (default 2: the library retries connection errors, 409s and 5xx
with the same idempotency key, so retries are safe).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import stripe
from flask import current_app

from marketplace.core.errors import Conflict, PaymentRequired, ServiceUnavailable

log = logging.getLogger("marketplace.payments.stripe")

DEFAULT_TIMEOUT = (5.0, 30.0)
DEFAULT_MAX_NETWORK_RETRIES = 2
RETRY_AFTER_SECONDS = "10"

T = TypeVar("T")


class PaymentProviderUnavailable(ServiceUnavailable):
    """Stripe could not be reached (or answered 5xx / 429): retry later; nothing happened."""

    def __init__(self, message: str = "The payment provider is unavailable; try again shortly.",
                 errors: dict[str, Any] | None = None):
        super().__init__(message, errors, headers={"Retry-After": RETRY_AFTER_SECONDS})


class PaymentDeclined(PaymentRequired):
    """The card (or other payment method) was declined."""

    def __init__(self, message: str, code: str | None = None, decline_code: str | None = None):
        errors = {k: v for k, v in (("code", code), ("decline_code", decline_code)) if v}
        super().__init__(message, errors)
        self.code = code
        self.decline_code = decline_code


class PaymentRejected(Conflict):
    """Stripe refused the request (the object's state, the amount, a reused key...)."""

    def __init__(self, message: str, code: str | None = None):
        super().__init__(message, {"code": code} if code else {})
        self.code = code


def trade_key(trade_id: int, action: str, n: int | None = None) -> str:
    """Idempotency key for a Stripe call made for a trade: ``trade-<id>-<action>[-<n>]``."""
    return f"trade-{trade_id}-{action}" + ("" if n is None else f"-{n}")


def payout_key(payout_id: int) -> str:
    return f"payout-{payout_id}-transfer"


def transfer_group(trade_id: int) -> str:
    return f"trade-{trade_id}"


def client(app=None) -> stripe.StripeClient:
    """The app's ``StripeClient`` (built once per app and configuration)."""
    app = app or current_app._get_current_object()
    api_key = app.config.get("STRIPE_API_KEY")
    if not api_key:
        log.error("STRIPE_API_KEY is not set: payments are disabled")
        raise PaymentProviderUnavailable("Payments are not configured.")
    base = app.config.get("STRIPE_API_BASE")
    timeout = tuple(app.config.get("STRIPE_TIMEOUT") or DEFAULT_TIMEOUT)
    retries = app.config.get("STRIPE_MAX_NETWORK_RETRIES", DEFAULT_MAX_NETWORK_RETRIES)
    key = (api_key, base, timeout, retries)
    cached = app.extensions.get("reloop_stripe")
    if cached is not None and cached[0] == key:
        return cached[1]
    built = stripe.StripeClient(
        api_key,
        base_addresses={"api": base} if base else None,
        max_network_retries=retries,
        http_client=stripe.RequestsClient(timeout=timeout),
    )
    app.extensions["reloop_stripe"] = (key, built)
    return built


def _call(what: str, func: Callable[[], T]) -> T:
    try:
        return func()
    except stripe.CardError as exc:
        raise PaymentDeclined(exc.user_message or "The card was declined.", exc.code,
                              getattr(exc.error, "decline_code", None)) from exc
    except (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError) as exc:
        log.warning("stripe %s failed: %s", what, exc)
        raise PaymentProviderUnavailable() from exc
    except (stripe.AuthenticationError, stripe.PermissionError) as exc:
        log.error("stripe %s: credentials refused: %s", what, exc)
        raise PaymentProviderUnavailable() from exc
    except (stripe.InvalidRequestError, stripe.IdempotencyError) as exc:
        log.warning("stripe %s rejected: %s", what, exc)
        raise PaymentRejected(exc.user_message or "The payment provider refused the request.",
                              exc.code) from exc
    except stripe.StripeError as exc:  # anything newer the library may add
        log.error("stripe %s failed unexpectedly: %r", what, exc)
        raise PaymentProviderUnavailable() from exc


def _metadata(trade_id: int, metadata: Mapping[str, Any] | None) -> dict[str, str]:
    out = {str(k): str(v) for k, v in (metadata or {}).items()}
    out["trade_id"] = str(trade_id)
    return out


def create_payment_intent(amount: int, currency: str, trade_id: int, idempotency_key: str,
                          metadata: Mapping[str, Any] | None = None) -> stripe.PaymentIntent:
    """A PaymentIntent of ``amount`` minor units, captured automatically on confirmation,
    with ``metadata.trade_id`` so webhooks find their trade."""
    params: dict[str, Any] = {
        "amount": int(amount),
        "currency": currency.lower(),
        "capture_method": "automatic",
        "metadata": _metadata(trade_id, metadata),
    }
    return _call("create payment intent", lambda: client().v1.payment_intents.create(
        params=params, options={"idempotency_key": idempotency_key}))  # type: ignore[arg-type]


def cancel_payment_intent(pi_id: str, idempotency_key: str) -> stripe.PaymentIntent:
    return _call("cancel payment intent", lambda: client().v1.payment_intents.cancel(
        pi_id, options={"idempotency_key": idempotency_key}))


def retrieve_payment_intent(pi_id: str) -> stripe.PaymentIntent:
    return _call("retrieve payment intent",
                 lambda: client().v1.payment_intents.retrieve(pi_id))


def refund(pi_id: str, amount: int | None, idempotency_key: str,
           metadata: Mapping[str, Any] | None = None) -> stripe.Refund:
    """Refund ``amount`` minor units of a PaymentIntent's charge (all of it when None)."""
    params: dict[str, Any] = {"payment_intent": pi_id}
    if amount is not None:
        params["amount"] = int(amount)
    if metadata:
        params["metadata"] = {str(k): str(v) for k, v in metadata.items()}
    return _call("refund", lambda: client().v1.refunds.create(
        params=params, options={"idempotency_key": idempotency_key}))  # type: ignore[arg-type]


def create_transfer(amount: int, currency: str, destination: str, transfer_group: str,
                    idempotency_key: str, metadata: Mapping[str, Any] | None = None,
                    source_transaction: str | None = None) -> stripe.Transfer:
    """Move ``amount`` minor units to a connected account (separate charges and transfers).

    ``source_transaction`` (a charge id) ties the transfer to the charge's funds, so it does
    not fail while those funds are still pending.
    """
    params: dict[str, Any] = {
        "amount": int(amount),
        "currency": currency.lower(),
        "destination": destination,
        "transfer_group": transfer_group,
    }
    if metadata:
        params["metadata"] = {str(k): str(v) for k, v in metadata.items()}
    if source_transaction:
        params["source_transaction"] = source_transaction
    return _call("create transfer", lambda: client().v1.transfers.create(
        params=params, options={"idempotency_key": idempotency_key}))  # type: ignore[arg-type]


def create_connected_account(metadata: Mapping[str, Any], idempotency_key: str) -> stripe.Account:
    """An Express connected account for a seller (Connect onboarding)."""
    params: dict[str, Any] = {
        "type": "express",
        "capabilities": {"transfers": {"requested": True}},
        "metadata": {str(k): str(v) for k, v in metadata.items()},
    }
    return _call("create connected account", lambda: client().v1.accounts.create(
        params=params, options={"idempotency_key": idempotency_key}))  # type: ignore[arg-type]


def create_account_link(account_id: str, refresh_url: str, return_url: str) -> stripe.AccountLink:
    """A Stripe-hosted onboarding link for a connected account (single use, short-lived)."""
    params: dict[str, Any] = {"account": account_id, "refresh_url": refresh_url,
                              "return_url": return_url, "type": "account_onboarding"}
    return _call("create account link", lambda: client().v1.account_links.create(
        params=params))  # type: ignore[arg-type]
