"""Where image bytes live, behind one interface: local files or S3-compatible storage.

``STORAGE_URL`` picks the backend: unset or ``file:///dir`` stores files under a directory
(default ``instance/uploads``; the app serves them); ``s3://bucket/prefix?endpoint=...&region=...``
stores objects through boto3 (any S3-compatible server; credentials from the usual AWS
variables) and the app redirects media requests to short-lived presigned URLs.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from flask import Flask, current_app

from marketplace.core.config import INSTANCE_DIR
from marketplace.core.errors import ServiceUnavailable

PRESIGN_SECONDS = 300
_EXTENSION = "reloop.storage"


class StorageUnavailable(ServiceUnavailable):
    def __init__(self) -> None:
        super().__init__("Image storage is unavailable; try again shortly.",
                         headers={"Retry-After": "5"})


class Storage(Protocol):
    def put(self, key: str, data: bytes, content_type: str) -> None: ...

    def get(self, key: str) -> bytes | None: ...

    def delete(self, key: str) -> None: ...

    def exists(self, key: str) -> bool: ...

    def presigned_url(self, key: str) -> str | None:
        """A URL clients may fetch the object from directly (None: the app serves it)."""


class FileStorage:
    def __init__(self, root: Path):
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        if "/" in key or "\\" in key or key.startswith("."):
            raise ValueError(f"bad storage key {key!r}")
        return self.root / key[:2] / key

    def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self._path(key)
        path.parent.mkdir(exist_ok=True)
        # Write then rename: a reader never sees half a file.
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)

    def get(self, key: str) -> bytes | None:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            return None

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def presigned_url(self, key: str) -> str | None:
        return None


class S3Storage:
    def __init__(self, url: str):
        parts = urlsplit(url)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        self.bucket = parts.netloc
        self.prefix = parts.path.strip("/")
        self.client = boto3.client(
            "s3", endpoint_url=query.get("endpoint"), region_name=query.get("region"),
            config=Config(connect_timeout=5, read_timeout=30, retries={"max_attempts": 3},
                          s3={"addressing_style": "path"}))

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def put(self, key: str, data: bytes, content_type: str) -> None:
        try:
            self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data,
                                   ContentType=content_type)
        except (BotoCoreError, ClientError):
            raise StorageUnavailable() from None

    def get(self, key: str) -> bytes | None:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"].read()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise StorageUnavailable() from None
        except BotoCoreError:
            raise StorageUnavailable() from None

    def delete(self, key: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self._key(key))
        except (BotoCoreError, ClientError):
            raise StorageUnavailable() from None

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(key))
            return True
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
                return False
            raise StorageUnavailable() from None
        except BotoCoreError:
            raise StorageUnavailable() from None

    def presigned_url(self, key: str) -> str | None:
        return self.client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": self._key(key)},
            ExpiresIn=PRESIGN_SECONDS)


def from_url(url: str | None) -> Storage:
    if not url:
        return FileStorage(INSTANCE_DIR / "uploads")
    if url.startswith("file://"):
        return FileStorage(Path(urlsplit(url).path))
    return S3Storage(url)


def init_app(app: Flask) -> None:
    app.extensions[_EXTENSION] = from_url(app.config.get("STORAGE_URL"))


def storage() -> Storage:
    return current_app.extensions[_EXTENSION]
