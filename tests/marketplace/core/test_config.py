from pathlib import Path

import pytest

from marketplace.core.config import SETTINGS, ConfigError, finalize, from_env
from marketplace.core.dbtypes import json_loads


def test_defaults_without_environment():
    values = finalize(from_env({}))
    assert values["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")
    assert values["REDIS_URL"] is None
    assert values["PLATFORM_FEE_BPS"] == 500 and values["PORT"] == 5000


@pytest.mark.parametrize("url", ["postgres://u:p@db:5432/x", "postgresql://u:p@db/x"])
def test_provider_postgres_urls_get_a_driver(url):
    assert from_env({"DATABASE_URL": url})["SQLALCHEMY_DATABASE_URI"].startswith(
        "postgresql+psycopg://u:p@db")


@pytest.mark.parametrize("name,value", [
    ("PORT", "eighty"), ("PORT", "70000"), ("PLATFORM_FEE_BPS", "-1"),
    ("DATABASE_URL", "mysql://x"), ("REDIS_URL", "http://x"), ("LOG_LEVEL", "LOUD"),
    ("STRIPE_API_BASE", "localhost:1234"), ("RATELIMIT_ENABLED", "maybe"),
])
def test_bad_values_fail_naming_the_variable(name, value):
    with pytest.raises(ConfigError, match=f"^{name}:"):
        from_env({name: value})


def test_postgres_requires_a_secret_key():
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        finalize(from_env({"DATABASE_URL": "postgresql://x/y"}))


def test_readme_documents_every_variable():


    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text()
    missing = [s.env for s in SETTINGS if f"`{s.env}`" not in readme]
    assert not missing, f"README env table lacks {missing}"


def test_pool_size_applies_to_postgres_only():
    pg = finalize({**from_env({"DATABASE_URL": "postgresql://u@h/db", "SECRET_KEY": "s",
                               "DATABASE_POOL_SIZE": "2", "DATABASE_MAX_OVERFLOW": "0"})})
    assert pg["SQLALCHEMY_ENGINE_OPTIONS"] == {"hide_parameters": True,
                                                "json_deserializer": json_loads,
                                                "pool_size": 2, "max_overflow": 0}
    lite = finalize(from_env({"DATABASE_URL": "sqlite:////tmp/x.db"}))
    assert lite["SQLALCHEMY_ENGINE_OPTIONS"] == {"hide_parameters": True,
                                                  "json_deserializer": json_loads}
