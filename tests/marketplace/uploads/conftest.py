"""Uploads tests run once per storage backend: local files and S3 (a real S3-compatible
server, moto's server mode, started here on a free port)."""

from __future__ import annotations

import io
import os
import urllib.request
import uuid

import boto3
import pytest
from moto.server import ThreadedMotoServer
from PIL import Image

from marketplace.uploads import storage as storage_module
from tests.stripe_fixtures import free_port

_AWS_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1"}


@pytest.fixture(scope="session")
def moto_endpoint():
    saved = {k: os.environ.get(k) for k in _AWS_ENV}
    os.environ.update(_AWS_ENV)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


class Backend:
    def __init__(self, name, store, client=None, bucket=None):
        self.name, self.store, self.s3, self.bucket = name, store, client, bucket

    def keys(self) -> set[str]:
        if self.name == "s3":
            out = self.s3.list_objects_v2(Bucket=self.bucket)
            return {o["Key"].rsplit("/", 1)[-1] for o in out.get("Contents", [])}
        return {p.name for p in self.store.root.rglob("*") if p.is_file()}


@pytest.fixture(params=["file", "s3"])
def backend(request, app, tmp_path, monkeypatch):
    if request.param == "file":
        store = storage_module.FileStorage(tmp_path / "media")
        be = Backend("file", store)
    else:
        endpoint = request.getfixturevalue("moto_endpoint")
        bucket = f"reloop-{uuid.uuid4().hex[:12]}"
        client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
        client.create_bucket(Bucket=bucket)
        store = storage_module.from_url(f"s3://{bucket}/media?endpoint={endpoint}"
                                        "&region=us-east-1")
        be = Backend("s3", store, client, bucket)
    monkeypatch.setitem(app.extensions, "reloop.storage", store)
    return be


def fetch(client, url: str) -> tuple[int, bytes]:
    """GET a media URL as a browser would: through the app, following a redirect to object
    storage over real HTTP."""
    resp = client.get(url)
    if resp.status_code == 302:
        with urllib.request.urlopen(resp.headers["Location"], timeout=10) as r:
            return r.status, r.read()
    return resp.status_code, resp.get_data()


def jpeg_with_gps(size=(640, 480), orientation=6) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "PhoneMaker"
    exif[0x8825] = {1: "N", 2: (48.0, 51.0, 24.0), 3: "E", 4: (2.0, 21.0, 7.0)}
    img = Image.new("RGB", size, "red")
    img.paste((0, 0, 255), (0, 0, size[0] // 2, size[1] // 4))  # a mark to check orientation
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif, quality=90)
    return out.getvalue()


def encoded(fmt: str, size=(200, 100), mode="RGB", color="green") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, color).save(out, fmt)
    return out.getvalue()


def upload(client, headers, data: bytes, name="photo.jpg", content_type="image/jpeg"):
    return client.post("/api/v1/uploads", headers=headers,
                       data={"file": (io.BytesIO(data), name, content_type)},
                       content_type="multipart/form-data")
