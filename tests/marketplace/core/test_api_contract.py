"""The API contract, checked on the app's own OpenAPI document: one page shape for every
collection, one money shape, Idempotency-Key on creating POSTs, operationIds, Retry-After
only where it means something, CORS, conditional GETs and offline docs."""

from __future__ import annotations

import re

import pytest

from marketplace.app import create_app
from marketplace.core.http.api import api
from tests.factories import create_listing, make_user

# Collection-style GETs (no path parameter at the end) that are not lists of records: one
# resource each, or a fixed set (the footprint categories are reference data, not records).
SINGLE_RESOURCES = {
    "/healthz", "/readyz", "/api/v1/users/me", "/api/v1/carbon/account",
    "/api/v1/carbon/summary",
    "/api/v1/footprints/categories", "/api/v1/footprints/methodology",
    "/api/v1/users/me/payout-balances", "/api/v1/users/me/payout-account",
    "/api/v1/rewards", "/api/v1/users/me/privacy",
    "/api/v1/trades/{trade_id}/shipment",
    "/api/v1/trades/{trade_id}/handover-code",
    "/api/v1/trades/{trade_id}/dispute", "/api/v1/trades/{trade_id}/return",
    # One device's passport: its history is that device's few trades, not a growing list.
    "/api/v1/listings/{listing_id}/passport",
    # Organisations, impact, statements (issue 19): reports and key sets, not collections.
    "/api/v1/organisations/{org_id}/carbon/account", "/api/v1/organisations/{org_id}/impact",
    "/api/v1/impact", "/api/v1/carbon/statements/keys", "/api/v1/leaderboards/people",
    "/api/v1/leaderboards/organisations", "/api/v1/leaderboards/opt-in",
    "/api/v1/users/me/notification-settings",
}
# Fixed reference data (a dozen categories, versioned with the methodology), not records.
REFERENCE_DATA = {"/api/v1/footprints/categories"}
# Lists the issue names explicitly: each must be a page whatever its path looks like.
KNOWN_LISTS = {
    "/api/v1/carbon/entries", "/api/v1/users/me/notifications",
    "/api/v1/trades/{trade_id}/reviews", "/api/v1/users/{user_id}/reviews",
    "/api/v1/trades/{trade_id}/events", "/api/v1/rewards/catalog",
    "/api/v1/admin/rewards/catalog", "/api/v1/admin/users", "/api/v1/listings",
    "/api/v1/trades", "/api/v1/offers", "/api/v1/users/me/sessions",
    "/api/v1/admin/disputes", "/api/v1/admin/reports",
    "/api/v1/reports", "/api/v1/admin/audit", "/api/v1/disputes/{dispute_id}/entries",
}
# Creating POSTs without an Idempotency-Key, and why: no caller to scope a key to.
NOT_IDEMPOTENT = {
    "/api/v1/auth/register": "anonymous; a retry is a 409 on the same email",
    "/api/v1/auth/tokens": "anonymous login; a retry issues another revocable token",
}
MONEY_NAME = re.compile(
    r"^(amount|price|platform_fee|fee|seller_payable|refunded_amount|discount|"
    r"amount_charged|amount_off|max_off|min_price|accrued|pending|transferred|failed|"
    r"shipping_price)$")


# The shared money schemas (NonNegativeMoneyIn: a request amount that may be 0, e.g. free
# shipping).
MONEY_SCHEMAS = ("Money", "MoneyIn", "NonNegativeMoneyIn")

# Integer fields named like money that are reward points, not money.
POINTS = {"RewardIn.amount", "Reward.amount"}


@pytest.fixture(scope="module")
def spec(app):
    return app.test_client().get("/api/openapi.json").get_json()


def _resolve(spec, schema):
    while isinstance(schema, dict) and "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _ref_name(schema) -> str | None:
    return schema["$ref"].rsplit("/", 1)[-1] if isinstance(schema, dict) and "$ref" in schema \
        else None


def _operations(spec):
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            if isinstance(op, dict) and "responses" in op:
                yield path, method, op


def _json_schema(response):
    return (response.get("content") or {}).get("application/json", {}).get("schema")


def test_every_list_endpoint_uses_the_shared_page_schema(spec):
    pages = 0
    for path, method, op in _operations(spec):
        if method != "get":
            continue
        schema = _json_schema(op["responses"].get("200", {}))
        if schema is None:
            continue
        resolved = _resolve(spec, schema)
        if path in REFERENCE_DATA:
            continue
        assert resolved.get("type") != "array", f"{path}: a bare array, not a page"
        is_collection = not path.endswith("}") and path not in SINGLE_RESOURCES
        if is_collection or path in KNOWN_LISTS or "items" in resolved.get("properties", {}):
            props = resolved.get("properties", {})
            assert set(props) == {"items", "next_cursor"}, f"{path}: {sorted(props)}"
            assert _ref_name(schema).endswith("Page"), path
            assert props["items"]["type"] == "array" and "$ref" in props["items"]["items"]
            assert props["next_cursor"].get("nullable") is True, path
            names = {p["name"] for p in op.get("parameters", [])}
            assert {"limit", "cursor"} <= names, f"{path}: {names}"
            pages += 1
    assert pages >= len(KNOWN_LISTS)


def test_every_money_field_uses_the_shared_money_schema(spec):
    schemas = spec["components"]["schemas"]
    assert set(_resolve(spec, {"$ref": "#/components/schemas/Money"})["properties"]) == {
        "amount", "currency"}
    checked = 0
    for name, schema in schemas.items():
        for field, prop in (schema.get("properties") or {}).items():
            if (not MONEY_NAME.match(field) or name in MONEY_SCHEMAS
                    or f"{name}.{field}" in POINTS):
                continue
            target = prop.get("items", prop) if prop.get("type") == "array" else prop
            if "allOf" in target:
                target = target["allOf"][0]
            if "anyOf" in target:  # nullable: [{$ref}, {nullable object}]
                target = next(s for s in target["anyOf"] if "$ref" in s)
            assert _ref_name(target) in MONEY_SCHEMAS, f"{name}.{field}: {prop}"
            checked += 1
    assert checked >= 5


def test_every_creating_post_documents_idempotency_key(spec):
    for path, method, op in _operations(spec):
        if method != "post" or "201" not in op["responses"] or path in NOT_IDEMPOTENT:
            continue
        names = {p["name"] for p in op.get("parameters", [])}
        assert "Idempotency-Key" in names, path
        assert "Idempotent-Replayed" in op["responses"]["201"].get("headers", {}), path


def test_operation_ids_are_present_and_unique(spec):
    ids = [op.get("operationId") for _, _, op in _operations(spec)]
    assert all(ids) and len(ids) == len(set(ids))


def test_retry_after_is_documented_on_429_and_503_only(spec):
    for path, _, op in _operations(spec):
        for code, response in op["responses"].items():
            has = "Retry-After" in (response.get("headers") or {})
            assert has == (code in ("429", "503")), (path, code)


def test_retry_after_is_not_sent_on_success(client):
    _, seller = make_user(client)
    created = client.post("/api/v1/listings", json={
        "title": "Pixel 7", "description": "Works", "category": "smartphone",
        "brand": "Google", "model": "Pixel 7", "condition": "good",
        "price": {"amount": 20000, "currency": "EUR"}}, headers=seller)
    assert created.status_code == 201 and "Retry-After" not in created.headers


def test_conditional_get_of_a_listing_is_304(client):
    _, seller = make_user(client)
    listing = create_listing(client, seller)
    first = client.get(f"/api/v1/listings/{listing['id']}")
    etag = first.headers["ETag"]
    again = client.get(f"/api/v1/listings/{listing['id']}", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b"" and again.headers["ETag"] == etag
    changed = client.patch(f"/api/v1/listings/{listing['id']}", json={"title": "New title"},
                           headers={**seller, "If-Match": etag})
    assert changed.status_code == 200
    fresh = client.get(f"/api/v1/listings/{listing['id']}", headers={"If-None-Match": etag})
    assert fresh.status_code == 200 and fresh.headers["ETag"] != etag


def test_docs_assets_are_served_by_the_app(client):
    page = client.get("/api/docs")
    assert page.status_code == 200 and b"/api/docs-assets/swagger-ui-bundle.js" in page.data
    assert b"cdn" not in page.data.lower()
    asset = client.get("/api/docs-assets/swagger-ui-bundle.js")
    assert asset.status_code == 200 and len(asset.data) > 100_000
    assert client.get("/api/docs-assets/../../pyproject.toml").status_code == 404


@pytest.fixture(scope="module")
def cors_app(app, app_config):
    saved = (api._app, api.config, api.spec)
    yield create_app({**app_config, "CORS_ORIGINS": ("https://app.example.org",)})
    api._app, api.config, api.spec = saved


def test_cors_preflight_from_an_allowed_origin(cors_app):
    client = cors_app.test_client()
    resp = client.options("/api/v1/listings", headers={
        "Origin": "https://app.example.org", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "Authorization, Content-Type, Idempotency-Key"})
    assert resp.status_code == 200
    assert resp.headers["Access-Control-Allow-Origin"] == "https://app.example.org"
    allowed = resp.headers["Access-Control-Allow-Headers"].lower()
    assert {"authorization", "content-type", "idempotency-key"} <= {
        h.strip() for h in allowed.split(",")}
    assert "POST" in resp.headers["Access-Control-Allow-Methods"]
    get = client.get("/healthz", headers={"Origin": "https://app.example.org"})
    assert get.headers["Access-Control-Allow-Origin"] == "https://app.example.org"
    assert "X-Request-ID" in get.headers["Access-Control-Expose-Headers"]


def test_cors_refuses_other_origins_and_is_off_by_default(cors_app, client):
    other = cors_app.test_client().options("/api/v1/listings", headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    assert "Access-Control-Allow-Origin" not in other.headers
    default = client.options("/api/v1/listings", headers={
        "Origin": "https://app.example.org", "Access-Control-Request-Method": "POST"})
    assert "Access-Control-Allow-Origin" not in default.headers


# Objects whose keys are data, not a shape: field errors by field name, and the methodology
# document's tables keyed by category.
# AuditEntry.details: what each kind of administrative action records (varies by action).
FREE_FORM = {"Error.errors", "Methodology.model", "Methodology.categories",
             "Methodology.flat_baseline_kgco2e", "Methodology.data", "AuditEntry.details"}


def test_no_free_form_objects_where_the_shape_is_known(spec):
    loose = []
    for name, schema in spec["components"]["schemas"].items():
        for field, prop in (schema.get("properties") or {}).items():
            untyped = prop.get("type") == "object" and "properties" not in prop and (
                prop.get("additionalProperties", {}) == {})
            if untyped and f"{name}.{field}" not in FREE_FORM:
                loose.append(f"{name}.{field}")
    assert loose == []
