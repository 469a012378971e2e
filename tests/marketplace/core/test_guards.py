"""Bad input never reaches the database: body size, JSON nesting, NUL and lone surrogates."""

from __future__ import annotations

import io
import json

import pytest
from flask import request

from marketplace.app import create_app
from marketplace.core.http import guards
from tests import factories
from tests.factories import assert_error_shape


def test_body_over_the_limit_is_413_before_parsing(client):
    body = b'{"email": "' + b"a" * (1024 * 1024 + 10) + b'"}'
    resp = client.post("/api/v1/auth/register", data=body,
                       headers={"Content-Type": "application/json"})
    assert_error_shape(resp, 413)


def test_chunked_body_without_content_length_is_413(client):
    # What a WSGI server hands over for a chunked upload: no CONTENT_LENGTH, an input stream
    # that ends where the body ends.
    stream = io.BytesIO(b'{"email": "' + b"a" * (2 * 1024 * 1024) + b'"}')
    resp = client.post("/api/v1/auth/register", input_stream=stream,
                       headers={"Content-Type": "application/json",
                                "Transfer-Encoding": "chunked"},
                       environ_overrides={"wsgi.input_terminated": True})
    assert resp.request.content_length is None  # chunked: werkzeug ignores the length
    assert_error_shape(resp, 413)
    assert stream.tell() <= 1024 * 1024 + 64 * 1024  # not read in full


def test_limit_is_a_setting_and_a_view_may_allow_more(app_config):
    app = create_app({**app_config, "MAX_CONTENT_LENGTH": 2048})

    @app.post("/upload")
    @guards.allow_body(1024 * 1024)
    def upload():
        return {"size": len(request.get_data())}

    client = app.test_client()
    assert_error_shape(client.post("/api/v1/auth/register", data=b"x" * 4096), 413)
    resp = client.post("/upload", data=b"x" * 100_000)
    assert resp.status_code == 200 and resp.get_json() == {"size": 100_000}


def test_deep_json_is_400(client):
    for depth in (guards.MAX_JSON_DEPTH + 1, 1_000, 100_000):
        body = "[" * depth + "]" * depth
        resp = client.post("/api/v1/auth/register", data=body,
                           headers={"Content-Type": "application/json"})
        body = assert_error_shape(resp, 400)
        assert "nested" in body["message"]


def test_moderate_nesting_is_left_to_the_schema(client):
    nested = {"a": {"b": {"c": 1}}}
    resp = client.post("/api/v1/auth/register", json={"email": nested})
    assert_error_shape(resp, 422)


@pytest.mark.parametrize("bad", ["a\x00b", "\ud800", "x\udfffy"])
def test_unstorable_text_in_a_body_names_the_field(client, bad):
    resp = client.post("/api/v1/auth/register",
                       data=json.dumps({"email": "a@b.co", "password": "long enough pw",
                                        "display_name": bad}),
                       headers={"Content-Type": "application/json"})
    body = assert_error_shape(resp, 422)
    assert body["errors"] == {"display_name": [guards.BAD_TEXT_MESSAGE]}


def test_nul_in_the_login_email_is_422_not_500(client):
    resp = client.post("/api/v1/auth/tokens", json={"email": "a\x00@b.co", "password": "x"})
    assert assert_error_shape(resp, 422)["errors"] == {"email": [guards.BAD_TEXT_MESSAGE]}


def test_nested_fields_and_keys_are_named(client, user_headers):
    body = factories.listing_body(location={"city": "Lyon\x00", "country": "FR"})
    resp = client.post("/api/v1/listings", json=body, headers=user_headers)
    assert assert_error_shape(resp, 422)["errors"] == {
        "location": {"city": [guards.BAD_TEXT_MESSAGE]}}
    resp = client.post("/api/v1/listings", json={"ti\x00tle": "x"}, headers=user_headers)
    assert assert_error_shape(resp, 422)["errors"] == {"ti\ufffdtle": [guards.BAD_TEXT_MESSAGE]}


@pytest.mark.parametrize("query", ["q=phone%00", "brand=%00", "q=%ED%A0%80x"])
def test_search_query_args(client, query):
    resp = client.get(f"/api/v1/listings?{query}")
    if "%ED" in query:  # invalid UTF-8 is decoded as U+FFFD by werkzeug: storable, searched
        assert resp.status_code == 200
        return
    body = assert_error_shape(resp, 422)
    assert set(body["errors"]) == {query.split("=")[0]}


def test_headers(client, user_headers):
    resp = client.get("/api/v1/users/me", headers={**user_headers, "X-Thing": "a\x00b"})
    assert assert_error_shape(resp, 422)["errors"] == {"X-Thing": [guards.BAD_TEXT_MESSAGE]}


def test_a_bare_json_string_body_is_a_schema_level_error(client):
    resp = client.post("/api/v1/footprints/estimate", data='"a\\u0000b"',
                       headers={"Content-Type": "application/json"})
    assert assert_error_shape(resp, 422)["errors"] == {"_schema": [guards.BAD_TEXT_MESSAGE]}


@pytest.mark.parametrize("body", ['{"email": %s, "password": "x"}', '{"email": "a@b.c", '
                                  '"password": "x", "extra": [1, %s]}'])
def test_an_integer_longer_than_pythons_limit_is_400_not_500(client, user_headers, body):
    # Python's json refuses integers of more than 4,300 digits with a ValueError that is not
    # a decode error; webargs let it through as a 500 (login needs no authentication).
    big = "1" * 5000
    for path, headers in (("/api/v1/auth/tokens", {}), ("/api/v1/reports", user_headers)):
        resp = client.post(path, data=body % big,
                           headers={**headers, "Content-Type": "application/json"})
        assert assert_error_shape(resp, 400)["errors"] == {"json": ["Invalid JSON body."]}


def test_a_deep_body_of_another_type_with_an_idempotency_key_is_not_a_500(client,
                                                                            user_headers):
    # The key's fingerprint parses any body as JSON; the guard bounds nesting of JSON bodies
    # only, so a deep text/plain body reached Python's parser (RecursionError).
    headers = {**user_headers, "Content-Type": "text/plain"}
    without = client.post("/api/v1/reports", data=b"[" * 100_000, headers=headers)
    resp = client.post("/api/v1/reports", data=b"[" * 100_000,
                       headers={**headers, "Idempotency-Key": "deep-text-body"})
    assert_error_shape(resp, without.status_code)
    assert 400 <= resp.status_code < 500
