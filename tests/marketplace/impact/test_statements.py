"""Signed carbon statements: verify offline with the published key; one byte changed fails;
a later reversal or a revoked key shows when the statement is fetched again."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from marketplace.accounts.models import User
from marketplace.core.config import ConfigError, from_env
from marketplace.core.db import db
from marketplace.impact import signing
from tests.carbon.ledger.helpers import PASSWORD, completion, make_users, refund
from tests.factories import assert_error_shape, login, make_user
from tests.marketplace.organisations.conftest import add_member, create_org

PERIOD = {"from": "2026-01-01", "to": "2027-01-01"}


def _b64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _verify(jwk: dict, payload: bytes, signature: str) -> bool:
    key = Ed25519PublicKey.from_public_bytes(_b64(jwk["x"]))
    try:
        key.verify(_b64(signature), payload)
    except InvalidSignature:
        return False
    return True


@pytest.fixture
def keys(app, monkeypatch):
    """Fresh key cache for each test (the configured keys are read once per app)."""
    app.extensions.pop("reloop.statement_keys", None)
    yield app.config
    app.extensions.pop("reloop.statement_keys", None)


def _credited_user(client, app, drain_jobs):
    with app.app_context():
        me, other = make_users(2)
        completion(1, me, other, 12_000, completed_at=datetime(2026, 3, 1, tzinfo=UTC))
        completion(2, other, me, 3_001, completed_at=datetime(2026, 4, 1, tzinfo=UTC))
        db.session.commit()
        email = db.session.get(User, me).email
    drain_jobs()
    return me, login(client, email, PASSWORD)


def test_statement_verifies_and_fails_after_one_byte_changed(client, app, drain_jobs, keys):
    me, headers = _credited_user(client, app, drain_jobs)
    resp = client.post("/api/v1/carbon/statements", headers=headers, json=PERIOD)
    assert resp.status_code == 201, resp.get_json()
    st = resp.get_json()
    assert {"id", "key_id", "payload", "signature"} <= set(st) and st["status"] == "valid"
    jwks = client.get("/api/v1/carbon/statements/keys").get_json()["keys"]
    jwk = next(k for k in jwks if k["kid"] == st["key_id"])
    assert (jwk["kty"], jwk["crv"], jwk["dev"]) == ("OKP", "Ed25519", True)
    payload = st["payload"].encode()
    assert _verify(jwk, payload, st["signature"])
    for i in (0, len(payload) // 2, len(payload) - 1):
        tampered = bytearray(payload)
        tampered[i] ^= 0x01
        assert not _verify(jwk, bytes(tampered), st["signature"])
    sig = bytearray(_b64(st["signature"]))
    sig[5] ^= 0x01
    assert not _verify(jwk, payload, base64.urlsafe_b64encode(bytes(sig)).decode())
    body = json.loads(st["payload"])
    assert body["account"] == {"kind": "user", "id": me}
    assert body["period"] == {"from": "2026-01-01T00:00:00+00:00",
                              "to": "2027-01-01T00:00:00+00:00"}
    assert body["net_g"] == 6_000 + 1_500 and body["credited_trades"] == 2
    assert body["ledger"]["entries"] == 2
    assert body["ledger"]["first_entry_id"] < body["ledger"]["last_entry_id"]
    assert st["payload"] == json.dumps(body, sort_keys=True, separators=(",", ":"))

    # Fetched again later: the same signed text, and a reversal marks it superseded.
    url = f"/api/v1/carbon/statements/{st['id']}"
    again = client.get(url).get_json()
    assert (again["payload"], again["signature"], again["status"]) == (
        st["payload"], st["signature"], "valid")
    with app.app_context():
        refund(1, "re_1", 1000, 1000)
        db.session.commit()
    drain_jobs()
    again = client.get(url).get_json()
    assert again["status"] == "superseded" and again["superseded"] is True
    assert again["current_net_g"] == 1_500 and again["payload"] == st["payload"]
    assert_error_shape(client.get("/api/v1/carbon/statements/cs_nope"), 404)

    # The key revoked: not published any more, and the statement says so.
    keys["CARBON_STATEMENT_REVOKED_KIDS"] = (st["key_id"],)
    try:
        assert client.get(url).get_json()["status"] == "revoked_key"
        assert client.get("/api/v1/carbon/statements/keys").get_json() == {"keys": []}
        assert_error_shape(client.post("/api/v1/carbon/statements", headers=headers,
                                       json=PERIOD), 503)
    finally:
        keys["CARBON_STATEMENT_REVOKED_KIDS"] = ()


def test_configured_keys_and_organisation_statements(client, app, drain_jobs, keys):
    seeds = [Ed25519PrivateKey.generate() for _ in range(2)]
    raw = [k.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption()) for k in seeds]
    env = {"CARBON_STATEMENT_KEYS": ",".join(
        f"k{i}={base64.urlsafe_b64encode(r).decode().rstrip('=')}" for i, r in enumerate(raw))}
    parsed = from_env(env)["CARBON_STATEMENT_KEYS"]
    assert [k for k, _ in parsed] == ["k0", "k1"]
    for bad in ("k0=short", "=abc", "k0=" + "A" * 43 + ",k0=" + "A" * 43):
        with pytest.raises(ConfigError, match="CARBON_STATEMENT_KEYS"):
            from_env({"CARBON_STATEMENT_KEYS": bad})
    keys["CARBON_STATEMENT_KEYS"] = parsed
    try:
        published = client.get("/api/v1/carbon/statements/keys").get_json()["keys"]
        assert [k["kid"] for k in published] == ["k0", "k1"]
        assert published[0]["x"] == base64.urlsafe_b64encode(seeds[0].public_key().public_bytes(
            Encoding.Raw, PublicFormat.Raw)).decode().rstrip("=")
        owner, o = make_user(client, "Owner")
        org = create_org(client, o)
        viewer, v = make_user(client, "Viewer")
        add_member(client, o, org["id"], viewer, v, "viewer")
        _, x = make_user(client, "Stranger")
        body = {**PERIOD, "organisation_id": org["id"]}
        assert_error_shape(client.post("/api/v1/carbon/statements", headers=x, json=body), 404)
        assert_error_shape(client.post("/api/v1/carbon/statements", headers=v, json=body), 403)
        st = client.post("/api/v1/carbon/statements", headers=o, json=body).get_json()
        assert st["key_id"] == "k0" and json.loads(st["payload"])["account"] == {
            "kind": "organisation", "id": org["id"]}
        assert signing.b64url(b"x") == "eA"
        assert _verify(published[0], st["payload"].encode(), st["signature"])
        assert_error_shape(client.post("/api/v1/carbon/statements", headers=o, json={
            "from": "2026-05-01", "to": "2026-01-01"}), 422)
    finally:
        keys["CARBON_STATEMENT_KEYS"] = None
