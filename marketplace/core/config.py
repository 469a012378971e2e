"""Configuration, read from environment variables only and parsed strictly.

Every setting has one entry in ``SETTINGS``; the README's table is generated from the same
facts (the parsers are in ``config_parsers``). A bad value stops start-up with a
``ConfigError`` naming the variable.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from marketplace.core.config_parsers import (
    ConfigError,
    Setting,
    _bool,
    _database_url,
    _email,
    _float,
    _floors,
    _int,
    _log_level,
    _origins,
    _redis_url,
    _retry_intervals,
    _signing_keys,
    _smtp_url,
    _storage_url,
    _str,
    _url,
    _words,
)
from marketplace.core.dbtypes import json_loads

INSTANCE_DIR = Path(__file__).resolve().parents[2] / "instance"

SETTINGS: tuple[Setting, ...] = (
    Setting("DATABASE_URL", "SQLALCHEMY_DATABASE_URI", _database_url, None,
            "Database URL. `postgresql://` / `postgres://` or `sqlite:///path`. "
            "Default: SQLite file `instance/reloop.sqlite3`."),
    Setting("DATABASE_POOL_SIZE", "DATABASE_POOL_SIZE", _int(1, 1000), 5,
            "PostgreSQL connections each process keeps open (SQLAlchemy pool size)."),
    Setting("DATABASE_MAX_OVERFLOW", "DATABASE_MAX_OVERFLOW", _int(0, 1000), 10,
            "Extra PostgreSQL connections a process may open under bursts, beyond the pool."),
    Setting("DATABASE_PING_IDLE_SECONDS", "DATABASE_PING_IDLE_SECONDS", _int(0, 86400), 10,
            "A pooled PostgreSQL connection idle longer than this is checked (`SELECT 1`) "
            "before use; 0 checks on every use."),
    Setting("DATABASE_PREPARED_STATEMENTS", "DATABASE_PREPARED_STATEMENTS", _bool, True,
            "psycopg prepares a statement on the server after 5 runs on a connection. Set "
            "`false` behind PgBouncer in transaction mode (docs/scaling.md), where the next "
            "transaction may run on another server connection that lacks it."),
    Setting("REDIS_URL", "REDIS_URL", _redis_url, None,
            "Redis URL for RQ queues, rate-limit storage and the response cache. Unset: jobs "
            "run in-process, limits and the response cache are kept in memory."),
    Setting("RESPONSE_CACHE", "RESPONSE_CACHE", _bool, True,
            "Shared copies of public responses (listing detail, search pages) in Redis, or "
            "in memory without it; a write forgets a listing's copy at once "
            "(docs/scaling.md). `false`: every request runs its view."),
    Setting("LISTING_CACHE_SECONDS", "LISTING_CACHE_SECONDS", _int(0, 86_400), 60,
            "Longest a listing's stored detail lives (its changes replace it at once); "
            "0: not cached."),
    Setting("ACCOUNT_CACHE_SECONDS", "ACCOUNT_CACHE_SECONDS", _int(0, 3600), 60,
            "Longest a caller's carbon account page is kept for their token (a posting, a "
            "revocation or a change of the user replaces it at once); 0: not cached."),
    Setting("SEARCH_CACHE_SECONDS", "SEARCH_CACHE_SECONDS", _int(0, 3600), 5,
            "How long a page of search results is served to everyone asking the same query "
            "(it may show a listing's old price or status that long); 0: not cached."),
    Setting("SECRET_KEY", "SECRET_KEY", _str, None,
            "Flask secret key. Required when DATABASE_URL is PostgreSQL (production); a random "
            "per-process key is used otherwise."),
    Setting("STRIPE_API_KEY", "STRIPE_API_KEY", _str, None,
            "Stripe secret API key."),
    Setting("STRIPE_API_BASE", "STRIPE_API_BASE", _url, None,
            "Stripe API base URL, e.g. a local localstripe server. Default: Stripe's own."),
    Setting("STRIPE_WEBHOOK_SECRET", "STRIPE_WEBHOOK_SECRET", _str, None,
            "Secret used to verify `Stripe-Signature` on webhooks."),
    Setting("STRIPE_WEBHOOK_EVENTS", "STRIPE_WEBHOOK_EVENTS", _words,
            ("payment_intent.succeeded", "payment_intent.payment_failed",
             "payment_intent.canceled", "charge.refunded", "account.updated"),
            "Comma-separated Stripe event types the webhook endpoint is subscribed to; start-up "
            "fails if one has no handler."),
    Setting("STRIPE_CONNECT_RETURN_URL", "STRIPE_CONNECT_RETURN_URL", _url, None,
            "Where Stripe sends a seller back after Connect onboarding (your app's page). "
            "Default: the API's `GET /users/me/payout-account`."),
    Setting("STRIPE_CONNECT_REFRESH_URL", "STRIPE_CONNECT_REFRESH_URL", _url, None,
            "Where Stripe sends a seller whose onboarding link expired (your app should start "
            "onboarding again). Default: as the return URL."),
    Setting("CORS_ORIGINS", "CORS_ORIGINS", _origins, (),
            "Comma-separated browser origins allowed to call the API (CORS), e.g. "
            "`https://app.example.org`. Default: none."),
    Setting("PLATFORM_FEE_BPS", "PLATFORM_FEE_BPS", _int(0, 10_000), 500,
            "Platform fee in basis points of the price, taken from the seller's side."),
    Setting("LOG_LEVEL", "LOG_LEVEL", _log_level, "INFO", "Log level."),
    Setting("METRICS_TOKEN", "METRICS_TOKEN", _str, None,
            "Bearer token that `GET /metrics` (Prometheus) requires. Unset: `/metrics` is a 404."),
    Setting("SENTRY_DSN", "SENTRY_DSN", _str, None,
            "Sentry DSN: unhandled errors are reported there, tagged with their request id. "
            "Unset: no reporting."),
    Setting("PORT", "PORT", _int(1, 65535), 5000, "Port `make run` serves on."),
    Setting("TOKEN_TTL_DAYS", "TOKEN_TTL_DAYS", _int(1, 3650), 30,
            "Lifetime of API tokens in days."),
    Setting("LOGIN_LIMIT_PER_EMAIL", "LOGIN_LIMIT_PER_EMAIL", _str, "10 per minute",
            "Failed logins allowed per (email, client address) pair (each attempt counted "
            "before its password is checked, given back if it succeeds), and password checks "
            "per session when changing the password or closing the account (Flask-Limiter "
            "notation). Never per email alone: an attacker could lock the owner out."),
    Setting("LOGIN_LIMIT_PER_ADDRESS", "LOGIN_LIMIT_PER_ADDRESS", _str, "100 per minute",
            "Login attempts allowed per client address."),
    Setting("LOGIN_FAILURES_PER_ADDRESS", "LOGIN_FAILURES_PER_ADDRESS", _str, "30 per minute",
            "Failed logins allowed per client address, whatever the emails tried."),
    Setting("PASSWORD_RESET_LIMIT_PER_ADDRESS", "PASSWORD_RESET_LIMIT_PER_ADDRESS", _str,
            "10 per hour", "Password reset and verification emails requested per client "
            "address."),
    Setting("EXPORT_LIMIT_PER_USER", "EXPORT_LIMIT_PER_USER", _str, "5 per day",
            "Data exports a user may start (each builds a zip kept two days)."),
    Setting("REQUIRE_VERIFIED_EMAIL", "REQUIRE_VERIFIED_EMAIL", _bool, True,
            "Accounts must verify their email before they sell or buy (list, offer, trade); "
            "unverified ones can browse."),
    Setting("EMAIL_VERIFICATION_TTL_HOURS", "EMAIL_VERIFICATION_TTL_HOURS", _int(1, 720), 48,
            "Lifetime of an email verification link."),
    Setting("PASSWORD_RESET_TTL_MINUTES", "PASSWORD_RESET_TTL_MINUTES", _int(5, 1440), 60,
            "Lifetime of a password reset token (single use)."),
    Setting("NOTIFICATION_RETENTION_DAYS", "NOTIFICATION_RETENTION_DAYS", _int(1, 36_500), 365,
            "In-app notifications older than this are deleted by the retention job."),
    Setting("SENT_EMAIL_RETENTION_DAYS", "SENT_EMAIL_RETENTION_DAYS", _int(1, 3650), 30,
            "Sent emails (they hold addresses) older than this are deleted by the retention job."),
    Setting("RETENTION_INTERVAL_SECONDS", "RETENTION_INTERVAL_SECONDS", _int(60, 604_800), 3600,
            "How often the periodic retention job purges expired personal data."),
    Setting("PROXY_HOPS", "PROXY_HOPS", _int(0, 10), 0,
            "Number of trusted reverse proxies in front of the app (for X-Forwarded-For)."),
    Setting("OUTBOX_GRACE_SECONDS", "OUTBOX_GRACE_SECONDS", _int(1, 86_400), 60,
            "Age after which the reconciler requests drains for unprocessed outbox records."),
    Setting("RECONCILE_INTERVAL_SECONDS", "RECONCILE_INTERVAL_SECONDS", _int(5, 86_400), 60,
            "How often the periodic outbox reconciler runs."),
    Setting("OFFER_EXPIRY_INTERVAL_SECONDS", "OFFER_EXPIRY_INTERVAL_SECONDS", _int(5, 86_400),
            300, "How often the periodic job marks lapsed offers expired (expiry is also "
            "enforced on every read and write)."),
    Setting("REESTIMATE_BATCH_SIZE", "REESTIMATE_BATCH_SIZE", _int(1, 100_000), 500,
            "Listings per background job of `flask carbon reestimate`."),
    Setting("REGISTER_LIMIT_PER_ADDRESS", "REGISTER_LIMIT_PER_ADDRESS", _str, "20 per hour",
            "Registrations allowed per client address."),
    Setting("MAX_UNPAID_TRADES_PER_BUYER", "MAX_UNPAID_TRADES_PER_BUYER", _int(1, 1000), 3,
            "Trades a buyer may have awaiting payment at once (each reserves a listing)."),
    Setting("RATELIMIT_ENABLED", "RATELIMIT_ENABLED", _bool, True,
            "Turn rate limiting off (only for load tests)."),
    Setting("OUTBOX_BATCH_SIZE", "OUTBOX_BATCH_SIZE", _int(1, 10_000), 2000,
            "Outbox records per processing job; batch topics (ledger credits) apply a job's "
            "records in one transaction."),
    Setting("TRADE_PAYMENT_WINDOW_SECONDS", "TRADE_PAYMENT_WINDOW_SECONDS", _int(1, 86_400),
            900, "Time a buyer has to pay a new trade before it expires (15 min)."),
    Setting("TRADE_SHIP_WINDOW_SECONDS", "TRADE_SHIP_WINDOW_SECONDS", _int(1, 10**8),
            5 * 86_400, "Time a seller has to ship a paid trade before it is cancelled and "
            "refunded (5 days)."),
    Setting("TRADE_CONFIRM_WINDOW_SECONDS", "TRADE_CONFIRM_WINDOW_SECONDS", _int(1, 10**8),
            14 * 86_400, "Time after shipping before an unconfirmed, undisputed trade is "
            "confirmed automatically (14 days)."),
    Setting("TRADE_DELIVERED_CONFIRM_SECONDS", "TRADE_DELIVERED_CONFIRM_SECONDS",
            _int(1, 10**8), 3 * 86_400, "Time after a tracked parcel's delivery before an "
            "unconfirmed, undisputed trade is confirmed automatically (3 days)."),
    Setting("SHIPMENT_POLL_INTERVAL_SECONDS", "SHIPMENT_POLL_INTERVAL_SECONDS",
            _int(5, 86_400), 900, "How often tracked parcels in transit are polled at their "
            "carrier (the periodic job runs at this interval too)."),
    Setting("TEST_CARRIER_URL", "TEST_CARRIER_URL", _url, None,
            "Base URL of the `reloop_test` carrier's tracking API (tests and demos). Unset: "
            "that carrier is not offered."),
    Setting("TRADE_LAPSES_BEFORE_COOLING_OFF", "TRADE_LAPSES_BEFORE_COOLING_OFF",
            _int(1, 1000), 2, "Unpaid trades (lapsed or cancelled) by one buyer on one listing "
            "within `TRADE_COOLING_OFF_SECONDS` after which that buyer must wait before "
            "buying it again."),
    Setting("TRADE_COOLING_OFF_SECONDS", "TRADE_COOLING_OFF_SECONDS", _int(1, 10**8), 86_400,
            "The cooling-off period (from the last unpaid trade) and its look-back window "
            "(1 day)."),
    Setting("HANDOVER_MAX_ATTEMPTS", "HANDOVER_MAX_ATTEMPTS", _int(1, 100), 5,
            "Wrong handover codes a seller may submit for one trade before a lockout."),
    Setting("HANDOVER_LOCKOUT_SECONDS", "HANDOVER_LOCKOUT_SECONDS", _int(1, 86_400), 900,
            "Length of that lockout (15 min); the code is replaced when it starts."),
    Setting("RETURN_WINDOW_SECONDS", "RETURN_WINDOW_SECONDS", _int(1, 10**8), 14 * 86_400,
            "Time after receipt (delivery once tracked, shipping until then) during which the "
            "buyer of a shipped, unconfirmed trade may request a return (14 days)."),
    Setting("RETURN_ANSWER_WINDOW_SECONDS", "RETURN_ANSWER_WINDOW_SECONDS", _int(1, 10**8),
            3 * 86_400, "Time a seller has to accept or refuse a return before it becomes a "
            "dispute (3 days)."),
    Setting("RETURN_COMPLETION_WINDOW_SECONDS", "RETURN_COMPLETION_WINDOW_SECONDS",
            _int(1, 10**8), 14 * 86_400, "Time after a return is accepted for the seller to "
            "confirm the device is back before the return becomes a dispute (14 days)."),
    Setting("REVIEW_WINDOW_SECONDS", "REVIEW_WINDOW_SECONDS", _int(1, 10**8), 14 * 86_400,
            "Time after completion during which buyer and seller may review each other "
            "(14 days)."),
    Setting("TRADE_ADVANCE_INTERVAL_SECONDS", "TRADE_ADVANCE_INTERVAL_SECONDS",
            _int(1, 86_400), 60, "How often the periodic job applies due timed transitions "
            "(they are also enforced whenever a trade is read or acted on)."),
    Setting("CARBON_BUYER_SHARE", "CARBON_BUYER_SHARE", _float(0.0, 1.0), 0.5,
            "Share of a trade's avoided emissions credited to the buyer; the seller gets the "
            "rest (rounded to whole grams, the two adding up to the trade's grams)."),
    Setting("CREDIT_PRICE_FLOORS", "CREDIT_PRICE_FLOORS", _floors, {},
            "Per-category price floors in euro cents below which a trade earns no carbon "
            "credit, e.g. `laptop=5000,smartphone=2000`; unset categories keep the "
            "methodology's defaults."),
    Setting("INCENTIVE_PARTITIONS", "INCENTIVE_PARTITIONS", _int(1, 1024), 2,
            "Partitions of rule evaluation (by user): each is drained by one worker at a time, "
            "so workers evaluate different users in parallel without waiting on each other. "
            "About one per worker on the `incentives` queue: more partitions split a trickle "
            "into more, smaller claims (docs/benchmarks.md, Credits)."),
    Setting("INCENTIVE_BATCH_SIZE", "INCENTIVE_BATCH_SIZE", _int(1, 50_000), 5000,
            "Rule-evaluation records a partition's drain claims at a time (one transaction; "
            "the points accounts of their users are locked until it commits, about a second "
            "for a full claim). Larger than `OUTBOX_BATCH_SIZE`: a claim's work per user "
            "(lock, cumulative grams, history) is shared by the user's credits in it; a "
            "backlog is evaluated ~15 % faster than with 2,000 (docs/benchmarks.md, Credits)."),
    Setting("INCENTIVE_LINGER_MS", "INCENTIVE_LINGER_MS", _int(0, 5_000), 0,
            "Milliseconds a partition's rule-evaluation drain waits before claiming, so that "
            "under a trickle one claim takes the records of several completions (0: none)."),
    Setting("INCENTIVE_PAIR_LIMIT", "INCENTIVE_PAIR_LIMIT", _int(0, 1000), 2,
            "Trades between the same two users that can earn rewards within "
            "`INCENTIVE_PAIR_WINDOW_DAYS`; further ones are credited but earn no rewards."),
    Setting("INCENTIVE_PAIR_WINDOW_DAYS", "INCENTIVE_PAIR_WINDOW_DAYS", _int(1, 3650), 30,
            "Window of the pair limit, in days."),
    Setting("INCENTIVE_REWARDED_TRADES_PER_DAY", "INCENTIVE_REWARDED_TRADES_PER_DAY",
            _int(0, 100_000), 10,
            "Trades per user and UTC day that can earn rewards; further ones are flagged."),
    Setting("SMTP_URL", "SMTP_URL", _smtp_url, None,
            "SMTP server for outgoing email, `smtp://user:pass@host:587` (STARTTLS when "
            "offered) or `smtps://...`. Unset: emails are written to the log."),
    Setting("MAIL_FROM", "MAIL_FROM", _email, "Reloop <no-reply@reloop.local>",
            "Sender address of outgoing email."),
    Setting("MAX_CONTENT_LENGTH", "MAX_CONTENT_LENGTH", _int(1024, 10**9), 1024 * 1024,
            "Largest request body accepted, in bytes (1 MB); larger bodies, chunked or not, "
            "are refused with 413 before being read."),
    Setting("STORAGE_URL", "STORAGE_URL", _storage_url, None,
            "Where uploaded images are stored: `file:///abs/dir` or "
            "`s3://bucket/prefix?endpoint=http://host:9000&region=eu-west-1` (S3-compatible, "
            "boto3; credentials from the usual AWS variables). Default: `instance/uploads`."),
    Setting("UPLOAD_MAX_BYTES", "UPLOAD_MAX_BYTES", _int(1024, 200 * 2**20), 15 * 2**20,
            "Largest accepted image upload in bytes (413 above); applies to "
            "`POST /uploads` only."),
    Setting("UPLOAD_MAX_PIXELS", "UPLOAD_MAX_PIXELS", _int(10_000, 150_000_000), 50_000_000,
            "Largest accepted image in pixels (width x height; 422 above), checked before "
            "decoding (decompression bombs)."),
    Setting("UPLOAD_LIMIT_PER_USER", "UPLOAD_LIMIT_PER_USER", _str, "120 per hour",
            "Image uploads a user may make (each is decoded and re-encoded: up to ~200 MB "
            "of memory for the largest); then 429."),
    Setting("UPLOAD_UNREFERENCED_TTL_SECONDS", "UPLOAD_UNREFERENCED_TTL_SECONDS",
            _int(60, 10**8), 86_400, "Age after which an upload no listing refers to is "
            "deleted by the periodic `purge-uploads` job (1 day)."),
    Setting("DEVICE_ID_SECRET", "DEVICE_ID_SECRET", _str, None,
            "Key of the HMAC under which device IMEIs and serial numbers are stored (never in "
            "clear). Default: derived from `SECRET_KEY`. Changing it (or `SECRET_KEY` while "
            "it is unset) forgets every known device."),
    Setting("IMPACT_MIN_USERS", "IMPACT_MIN_USERS", _int(1, 100_000), 5,
            "Public impact report (`GET /api/v1/impact`): a month and category cell with "
            "fewer distinct users than this is suppressed (its figures null)."),
    Setting("CARBON_STATEMENT_KEYS", "CARBON_STATEMENT_KEYS", _signing_keys, None,
            "Ed25519 keys signing carbon statements: `kid=<base64url 32-byte private key>`, "
            "comma-separated; the first signs, all are published at "
            "`/api/v1/carbon/statements/keys`. Unset: a development key is generated per "
            "process (kid `dev-...`, labelled; statements it signed cannot be checked after "
            "a restart)."),
    Setting("CARBON_STATEMENT_REVOKED_KIDS", "CARBON_STATEMENT_REVOKED_KIDS", _words, (),
            "Comma-separated kids of revoked statement keys: no longer published or used; "
            "statements they signed are shown with `status: revoked_key`."),
    Setting("MESSAGE_MAX_CHARS", "MESSAGE_MAX_CHARS", _int(1, 10_000), 2000,
            "Longest message in a conversation, in characters."),
    Setting("MESSAGE_LIMIT_PER_USER", "MESSAGE_LIMIT_PER_USER", _str, "30 per minute",
            "Messages a user may send (Flask-Limiter notation), across conversations."),
    Setting("STREAM_MAX_SECONDS", "STREAM_MAX_SECONDS", _int(5, 86_400), 300,
            "Longest life of one `GET /events/stream` response; the client reconnects with "
            "`Last-Event-ID` (bounds how long a deploy waits on open streams)."),
    Setting("WEBHOOK_RETRY_SECONDS", "WEBHOOK_RETRY_SECONDS", _retry_intervals,
            (10, 60, 300, 1800, 7200, 21600),
            "Backoff between attempts of an outbound webhook delivery (comma-separated "
            "seconds; one retry per value, then the delivery is `failed`)."),
    Setting("WEBHOOK_TIMEOUT_SECONDS", "WEBHOOK_TIMEOUT_SECONDS", _int(1, 60), 10,
            "Time an outbound webhook receiver has to answer."),
)


def from_env(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Parse every setting from ``environ``; raise ConfigError naming a bad variable."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for s in SETTINGS:
        raw = environ.get(s.env)
        if raw is None or raw == "":
            values[s.key] = s.default
            continue
        try:
            values[s.key] = s.parse(raw)
        except ValueError as exc:
            raise ConfigError(f"{s.env}: {exc}") from None
    return values


def finalize(values: dict[str, Any]) -> dict[str, Any]:
    """Fill in derived defaults once overrides are applied."""
    if not values.get("SQLALCHEMY_DATABASE_URI"):
        INSTANCE_DIR.mkdir(exist_ok=True)
        values["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{INSTANCE_DIR / 'reloop.sqlite3'}"
    is_postgres = values["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")
    if not values.get("SECRET_KEY"):
        if is_postgres and not values.get("TESTING"):
            raise ConfigError("SECRET_KEY: must be set when running on PostgreSQL")
        values["SECRET_KEY"] = os.urandom(32).hex()
    if not values.get("DEVICE_ID_SECRET"):
        values["DEVICE_ID_SECRET"] = "device-id:" + values["SECRET_KEY"]
    # hide_parameters: SQL parameters (password hashes, token hashes) never reach a log line.
    # No pool_pre_ping: connections idle longer than DATABASE_PING_IDLE_SECONDS are pinged
    # before use instead (core.db.ping_when_idle), saving a round trip on busy requests.
    engine_options: dict[str, Any] = {"hide_parameters": True, "json_deserializer": json_loads}
    if is_postgres:  # SQLite's pool is per file and thread: these do not apply
        engine_options.update(pool_size=values["DATABASE_POOL_SIZE"],
                              max_overflow=values["DATABASE_MAX_OVERFLOW"])
        if not values.get("DATABASE_PREPARED_STATEMENTS", True):
            engine_options["connect_args"] = {"prepare_threshold": None}
    engine_options.update(values.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    values["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options
    values["RATELIMIT_STORAGE_URI"] = values.get("REDIS_URL") or "memory://"
    values["RATELIMIT_HEADERS_ENABLED"] = True
    # Redis down: login fails closed (503, core.http.limiter.fail_closed); the other limits
    # (registration per address) fall back to per-process in-memory counters.
    values["RATELIMIT_IN_MEMORY_FALLBACK_ENABLED"] = True
    # Without SMTP_URL an email is written to the log. Its body (a password-reset or
    # verification code) only in the embedded development setup, never on PostgreSQL, where
    # logs leave the machine.
    values.setdefault("MAIL_LOG_BODIES", not is_postgres)
    values.update(API_SETTINGS)
    return values


API_SETTINGS: dict[str, Any] = {
    "API_TITLE": "Reloop API",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/api",
    "OPENAPI_JSON_PATH": "openapi.json",
    "OPENAPI_SWAGGER_UI_PATH": "/docs",
    # Served by the app itself (core.http.docs_assets): the docs work offline.
    "OPENAPI_SWAGGER_UI_URL": "/api/docs-assets/",
    "API_SPEC_OPTIONS": {
        "info": {"description": "Circular-electronics marketplace with personal carbon accounts."},
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}
        },
    },
    "JSON_SORT_KEYS": False,
}

__all__ = ["API_SETTINGS", "INSTANCE_DIR", "SETTINGS", "ConfigError", "Setting", "finalize",
           "from_env"]
