"""Configuration, read from environment variables only and parsed strictly.

Every setting has one entry in ``SETTINGS``; the README's table is generated from the same
facts. A bad value stops start-up with a ``ConfigError`` naming the variable.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

INSTANCE_DIR = Path(__file__).resolve().parents[2] / "instance"


class ConfigError(RuntimeError):
    """Raised at start-up when an environment variable has a bad value."""


def _int(lo: int | None = None, hi: int | None = None) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        try:
            value = int(raw.strip())
        except ValueError:
            raise ValueError(f"expected an integer, got {raw!r}") from None
        if lo is not None and value < lo or hi is not None and value > hi:
            raise ValueError(f"must be between {lo} and {hi}, got {value}")
        return value

    return parse


def _float(lo: float, hi: float) -> Callable[[str], float]:
    def parse(raw: str) -> float:
        try:
            value = float(raw.strip())
        except ValueError:
            raise ValueError(f"expected a number, got {raw!r}") from None
        if not lo <= value <= hi:
            raise ValueError(f"must be between {lo} and {hi}, got {value}")
        return value

    return parse


def _database_url(raw: str) -> str:
    url = raw.strip()
    # Hosting providers hand out postgres:// URLs; SQLAlchemy wants an explicit driver.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    if url.startswith(("postgresql+", "sqlite:")):
        return url
    raise ValueError("must be a postgresql:// (or postgres://) or sqlite:// URL")


def _redis_url(raw: str) -> str:
    url = raw.strip()
    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise ValueError("must be a redis://, rediss:// or unix:// URL")
    return url


def _log_level(raw: str) -> str:
    level = raw.strip().upper()
    if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
        raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
    return level


def _str(raw: str) -> str:
    if not raw.strip():
        raise ValueError("must not be empty")
    return raw.strip()


def _url(raw: str) -> str:
    url = raw.strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise ValueError("must be an http:// or https:// URL")
    return url


def _smtp_url(raw: str) -> str:
    url = raw.strip()
    scheme, _, rest = url.partition("://")
    if scheme not in ("smtp", "smtps") or not rest or rest.startswith(("/", ":", "@")):
        raise ValueError("must be an smtp://host:port or smtps://host:port URL")
    return url


def _email(raw: str) -> str:
    value = raw.strip()
    address = value.rsplit("<", 1)[-1].rstrip(">")
    if "@" not in address or any(c.isspace() for c in address) or "\n" in value:
        raise ValueError(f"{value!r} is not an email address (`Name <addr@host>` or `addr@host`)")
    return value


def _words(raw: str) -> tuple[str, ...]:
    return tuple(w for w in (part.strip() for part in raw.split(",")) if w)


def _origins(raw: str) -> tuple[str, ...]:
    origins = _words(raw)
    for origin in origins:
        if origin != "*" and (not origin.startswith(("http://", "https://"))
                              or origin.count("/") != 2):
            raise ValueError(f"{origin!r} is not an origin like https://app.example.org")
    return origins


def _floors(raw: str) -> dict[str, int]:
    """``category=cents,...``: per-category credit price floors in euro cents."""
    floors = {}
    for part in _words(raw):
        category, _, cents = part.partition("=")
        try:
            floors[category.strip()] = _int(0, 10**9)(cents)
        except ValueError as exc:
            raise ValueError(f"{part!r}: {exc}") from None
        if not category.strip():
            raise ValueError(f"{part!r}: expected category=cents")
    return floors


def _bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"expected true or false, got {raw!r}")


@dataclass(frozen=True)
class Setting:
    env: str
    key: str
    parse: Callable[[str], Any]
    default: Any
    doc: str


SETTINGS: tuple[Setting, ...] = (
    Setting("DATABASE_URL", "SQLALCHEMY_DATABASE_URI", _database_url, None,
            "Database URL. `postgresql://` / `postgres://` or `sqlite:///path`. "
            "Default: SQLite file `instance/reloop.sqlite3`."),
    Setting("DATABASE_POOL_SIZE", "DATABASE_POOL_SIZE", _int(1, 1000), 5,
            "PostgreSQL connections each process keeps open (SQLAlchemy pool size)."),
    Setting("DATABASE_MAX_OVERFLOW", "DATABASE_MAX_OVERFLOW", _int(0, 1000), 10,
            "Extra PostgreSQL connections a process may open under bursts, beyond the pool."),
    Setting("REDIS_URL", "REDIS_URL", _redis_url, None,
            "Redis URL for RQ queues and rate-limit storage. Unset: jobs run in-process "
            "and limits are kept in memory."),
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
             "payment_intent.canceled", "charge.refunded"),
            "Comma-separated Stripe event types the webhook endpoint is subscribed to; start-up "
            "fails if one has no handler."),
    Setting("CORS_ORIGINS", "CORS_ORIGINS", _origins, (),
            "Comma-separated browser origins allowed to call the API (CORS), e.g. "
            "`https://app.example.org`. Default: none."),
    Setting("PLATFORM_FEE_BPS", "PLATFORM_FEE_BPS", _int(0, 10_000), 500,
            "Platform fee in basis points of the price, taken from the seller's side."),
    Setting("LOG_LEVEL", "LOG_LEVEL", _log_level, "INFO", "Log level."),
    Setting("PORT", "PORT", _int(1, 65535), 5000, "Port `make run` serves on."),
    Setting("TOKEN_TTL_DAYS", "TOKEN_TTL_DAYS", _int(1, 3650), 30,
            "Lifetime of API tokens in days."),
    Setting("LOGIN_LIMIT_PER_EMAIL", "LOGIN_LIMIT_PER_EMAIL", _str, "10 per minute",
            "Failed logins allowed per email (Flask-Limiter notation)."),
    Setting("LOGIN_LIMIT_PER_ADDRESS", "LOGIN_LIMIT_PER_ADDRESS", _str, "100 per minute",
            "Login attempts allowed per client address."),
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
    Setting("INCENTIVE_PARTITIONS", "INCENTIVE_PARTITIONS", _int(1, 1024), 16,
            "Partitions of rule evaluation (by user): each is drained by one worker at a time, "
            "so workers evaluate different users in parallel without waiting on each other."),
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
    # hide_parameters: SQL parameters (password hashes, token hashes) never reach a log line.
    engine_options: dict[str, Any] = {"pool_pre_ping": True, "hide_parameters": True}
    if is_postgres:  # SQLite's pool is per file and thread: these do not apply
        engine_options.update(pool_size=values["DATABASE_POOL_SIZE"],
                              max_overflow=values["DATABASE_MAX_OVERFLOW"])
    engine_options.update(values.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    values["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options
    values["RATELIMIT_STORAGE_URI"] = values.get("REDIS_URL") or "memory://"
    values["RATELIMIT_HEADERS_ENABLED"] = True
    # Redis down: login fails closed (503, core.http.limiter.fail_closed); the other limits
    # (registration per address) fall back to per-process in-memory counters.
    values["RATELIMIT_IN_MEMORY_FALLBACK_ENABLED"] = True
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
