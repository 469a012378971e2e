"""A PNG whose transparency is metadata (tRNS: a transparent palette index, or a grey or RGB
colour key) keeps it: re-encoded as a PNG with an alpha channel, never flattened to JPEG."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tests.factories import make_user
from tests.marketplace.uploads.conftest import fetch, upload


def _palette_png() -> bytes:
    img = Image.new("P", (40, 40), 0)
    img.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    img.paste(1, (0, 0, 20, 40))  # left half red (index 1), right half transparent (index 0)
    out = io.BytesIO()
    img.save(out, "PNG", transparency=0)
    return out.getvalue()


def _colour_key_png(mode: str, key) -> bytes:
    img = Image.new(mode, (40, 40), key)  # right half the transparent colour key
    img.paste((255, 0, 0) if mode == "RGB" else 200, (0, 0, 20, 40))
    out = io.BytesIO()
    img.save(out, "PNG", transparency=key)
    return out.getvalue()


@pytest.mark.parametrize("data", [_palette_png(), _colour_key_png("RGB", (0, 0, 0)),
                                  _colour_key_png("L", 0)], ids=["palette", "rgb", "grey"])
def test_a_png_with_a_transparent_index_or_colour_key_stays_transparent(
        app, client, backend, drain_jobs, data):
    _, h = make_user(client)
    resp = upload(client, h, data, "logo.png", "image/png")
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["content_type"] == "image/png" and body["url"].endswith(".png"), body
    status, stored = fetch(client, body["url"])
    assert status == 200
    img = Image.open(io.BytesIO(stored)).convert("RGBA")
    assert img.getpixel((30, 20))[3] == 0  # transparent, as sent
    assert img.getpixel((5, 20))[3] == 255  # opaque, as sent
    drain_jobs()  # the thumbnail keeps it too
    got = client.get(f"/api/v1/uploads/{body['id']}", headers=h).get_json()
    status, thumb = fetch(client, got["thumb_url"])
    assert status == 200 and Image.open(io.BytesIO(thumb)).convert("RGBA").getpixel(
        (30, 20))[3] == 0
