"""Uploads, the same tests on both storage backends: metadata removed, orientation applied,
thumbnails by job, bad files refused with nothing stored, unreferenced uploads purged."""

from __future__ import annotations

import io
import zlib
from datetime import timedelta

import pillow_heif
import pytest
from PIL import Image
from sqlalchemy import func, select, update

from marketplace.core.db import db
from marketplace.core.dbtypes import utcnow
from marketplace.uploads import services
from marketplace.uploads.models import Upload
from tests.factories import assert_error_shape, create_listing, make_user
from tests.marketplace.uploads.conftest import encoded, fetch, jpeg_with_gps, upload


def _count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Upload))


def test_jpeg_with_gps_comes_back_without_exif_and_upright(app, client, backend, drain_jobs):
    _, h = make_user(client)
    original = jpeg_with_gps()
    resp = upload(client, h, original)
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert set(body) >= {"id", "url", "thumb_url", "width", "height"}
    # Orientation 6 (rotate 90°) applied: the 640x480 sensor image is 480x640 upright.
    assert (body["width"], body["height"]) == (480, 640)
    status, data = fetch(client, body["url"])
    assert status == 200
    assert data != original and b"Exif" not in data and b"PhoneMaker" not in data
    img = Image.open(io.BytesIO(data))
    assert img.format == "JPEG" and img.size == (480, 640)
    assert dict(img.getexif()) == {} and "exif" not in img.info
    # The blue mark (top-left band of the sensor image) is now on the right edge, upright.
    assert img.convert("RGB").getpixel((470, 10))[2] > 200
    assert img.convert("RGB").getpixel((10, 10))[0] > 200


def test_thumbnail_exists_after_the_job(app, client, backend, drain_jobs):
    _, h = make_user(client)
    body = upload(client, h, jpeg_with_gps(size=(1600, 1200), orientation=1)).get_json()
    drain_jobs()
    got = client.get(f"/api/v1/uploads/{body['id']}", headers=h).get_json()
    assert got["thumb_ready"] is True and got["attached"] is False
    status, data = fetch(client, body["thumb_url"])
    assert status == 200
    thumb = Image.open(io.BytesIO(data))
    assert max(thumb.size) == 320 and thumb.size == (320, 240)
    assert dict(thumb.getexif()) == {}
    assert len(backend.keys()) == 2


def test_formats_png_webp_heic(app, client, backend, drain_jobs):
    _, h = make_user(client)
    png = upload(client, h, encoded("PNG", mode="RGBA", color=(0, 255, 0, 128)),
                 "a.png", "image/png")
    assert png.status_code == 201 and png.get_json()["url"].endswith(".png")
    webp = upload(client, h, encoded("WEBP"), "a.webp", "image/webp")
    assert webp.status_code == 201 and webp.get_json()["url"].endswith(".jpg")
    heic = io.BytesIO()
    pillow_heif.register_heif_opener()
    Image.new("RGB", (120, 80), "blue").save(heic, "HEIF")
    resp = upload(client, h, heic.getvalue(), "IMG_0001.HEIC", "image/heic")
    assert resp.status_code == 201, resp.get_json()
    assert (resp.get_json()["width"], resp.get_json()["height"]) == (120, 80)
    status, data = fetch(client, resp.get_json()["url"])
    assert status == 200 and Image.open(io.BytesIO(data)).format == "JPEG"


def _bomb_png(width=20_000, height=20_000) -> bytes:
    """A valid PNG header claiming 400 megapixels, a few hundred bytes long."""
    def chunk(kind, data):
        return (len(data).to_bytes(4, "big") + kind + data
                + zlib.crc32(kind + data).to_bytes(4, "big"))
    ihdr = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 0, 0, 0, 0])
    raw = zlib.compress(b"\0" * (width // 8 + 1) * 10)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


@pytest.mark.parametrize("name,data,code,word", [
    ("empty.jpg", b"", 422, "empty"),
    ("invoice.jpg", b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n", 415, "image"),
    ("anim.gif", None, 415, "image"),
    ("cut.jpg", "truncated", 422, "truncated"),
    ("bomb.png", "bomb", 422, "megapixels"),
])
def test_bad_files_are_4xx_and_nothing_is_stored(app, client, backend, name, data, code, word):
    _, h = make_user(client)
    if data is None:
        data = encoded("GIF")
    elif data == "truncated":
        data = jpeg_with_gps(size=(800, 600))[:3000]
    elif data == "bomb":
        data = _bomb_png()
    resp = upload(client, h, data, name)
    body = assert_error_shape(resp, code)
    assert word in body["message"].lower()
    assert _count(app) == 0 and backend.keys() == set()


def test_too_large_is_413(app, client, backend, monkeypatch):
    _, h = make_user(client)
    monkeypatch.setitem(app.config, "UPLOAD_MAX_BYTES", 50_000)
    data = jpeg_with_gps(size=(100, 100)) + b"\0" * 60_000
    body = assert_error_shape(upload(client, h, data), 413)
    assert body["message"]
    assert _count(app) == 0 and backend.keys() == set()


def test_missing_file_field_is_422(app, client, backend):
    _, h = make_user(client)
    resp = client.post("/api/v1/uploads", headers=h, data={"other": "x"},
                       content_type="multipart/form-data")
    assert_error_shape(resp, 422)


def test_unreferenced_uploads_are_purged_after_a_day(app, client, backend, drain_jobs):
    seller, h = make_user(client)
    old = upload(client, h, jpeg_with_gps()).get_json()
    kept = upload(client, h, jpeg_with_gps()).get_json()
    fresh = upload(client, h, jpeg_with_gps()).get_json()
    drain_jobs()
    create_listing(client, h, photo_ids=[kept["id"]])
    with app.app_context():
        two_days_ago = utcnow() - timedelta(days=2)
        db.session.execute(update(Upload).where(Upload.id.in_([old["id"], kept["id"]]))
                           .values(unattached_since=two_days_ago, created_at=two_days_ago))
        db.session.commit()
        assert services.purge_unreferenced() == 1
        left = set(db.session.scalars(select(Upload.id)))
    assert left == {kept["id"], fresh["id"]}
    assert fetch(client, old["url"])[0] == 404
    assert fetch(client, kept["url"])[0] == 200
    assert len(backend.keys()) == 4  # two images and their thumbnails


def test_media_of_unknown_key_is_404(app, client, backend):
    assert_error_shape(client.get("/api/v1/media/nope.jpg"), 404)


def test_missing_thumbnails_are_made_again_by_the_periodic_job(app, client, backend,
                                                                 drain_jobs):
    _, h = make_user(client)
    body = upload(client, h, jpeg_with_gps()).get_json()
    drain_jobs()
    with app.app_context():  # as if the job had been lost with a worker
        upload_row = db.session.get(Upload, body["id"])
        backend.store.delete(upload_row.thumb_key)
        upload_row.thumb_ready = False
        upload_row.created_at = utcnow() - timedelta(minutes=5)
        db.session.commit()
    assert fetch(client, body["thumb_url"])[0] == 404
    with app.app_context():
        assert services.retry_thumbnails(timedelta(seconds=60)) == 1
    drain_jobs()
    assert client.get(f"/api/v1/uploads/{body['id']}", headers=h).get_json()["thumb_ready"]
    assert fetch(client, body["thumb_url"])[0] == 200
