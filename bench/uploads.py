"""Uploads: ``POST /api/v1/uploads`` per second, and the peak memory of one worker process
re-encoding a 24-megapixel image.

``python bench/uploads.py [--uploads N] [--megapixels 12]``: uploads go through the Flask test
client (in-process, SQLite, local file storage in a temporary directory, thumbnails made
inline by the outbox job as in the embedded mode, so each upload's time includes its
thumbnail). The memory figure comes from a fresh interpreter (``--memory-child FILE``) that
imports the app's modules, reads the image (made by the parent), notes its RSS, re-encodes the
image and makes its thumbnail, and reports its peak RSS over that work (VmHWM, reset before
it; Pillow's buffers are C allocations that tracemalloc does not see). Prints the load average
before and after: the machine may be shared.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np
from PIL import Image

from marketplace.accounts import services as accounts
from marketplace.app import create_app
from marketplace.core.db import db
from marketplace.uploads import imaging


def photo(megapixels: float, seed: int = 0) -> bytes:
    """A camera-like JPEG (smooth gradients plus sensor noise, quality 92, with EXIF/GPS), so
    that its size and decoding cost resemble a phone photo's."""
    width = int((megapixels * 1e6 * 4 / 3) ** 0.5)
    height = int(width * 3 / 4)
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    base = np.stack([x / width * 200, y / height * 200, (x + y) / (width + height) * 255], -1)
    pixels = np.clip(base + rng.normal(0, 12, base.shape), 0, 255).astype(np.uint8)
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x8825] = {1: "N", 2: (48.0, 51.0, 24.0), 3: "E", 4: (2.0, 21.0, 7.0)}
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "JPEG", quality=92, exif=exif)
    return out.getvalue()


def status_mib(field: str) -> float:
    """VmRSS (now) or VmHWM (peak) of this process, MiB (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def reset_peak() -> None:
    """Reset VmHWM to the current RSS (Linux >= 4.0), so the peak measured is the work's."""
    Path("/proc/self/clear_refs").write_text("5")


def memory_child(path: str) -> None:
    data = Path(path).read_bytes()
    imaging.register_decoders()
    before = status_mib("VmRSS")  # the interpreter, the app's modules and the input bytes
    reset_peak()
    t = time.perf_counter()
    encoded = imaging.reencode(data, 150_000_000)
    reencode_s = time.perf_counter() - t
    thumb, _ = imaging.thumbnail(encoded.data)
    print(json.dumps({"input_bytes": len(data), "output_bytes": len(encoded.data),
                      "size": [encoded.width, encoded.height], "thumb_bytes": len(thumb),
                      "peak_rss_before_mib": round(before, 1),
                      "peak_rss_after_mib": round(status_mib("VmHWM"), 1),
                      "reencode_seconds": round(reencode_s, 3)}))


def bench_uploads(n: int, megapixels: float) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.sqlite3",
                          "STORAGE_URL": f"file://{tmp}/media", "LOG_LEVEL": "ERROR",
                          "REDIS_URL": None, "RATELIMIT_ENABLED": False})
        with app.app_context():
            db.create_all()
            accounts.create_or_promote_admin("bench@reloop.test", "bench-password-123")
        client = app.test_client()
        token = client.post("/api/v1/auth/tokens", json={
            "email": "bench@reloop.test", "password": "bench-password-123"}).get_json()["token"]
        headers = {"Authorization": f"Bearer {token}"}
        images = [photo(megapixels, seed) for seed in range(3)]
        samples = []
        for i in range(n + 1):
            data = images[i % len(images)]
            t = time.perf_counter()
            resp = client.post("/api/v1/uploads", headers=headers,
                               data={"file": (io.BytesIO(data), "p.jpg", "image/jpeg")},
                               content_type="multipart/form-data")
            if i:  # the first is a warm-up
                samples.append(time.perf_counter() - t)
            assert resp.status_code == 201, resp.get_json()
        total = sum(samples)
        print(f"uploads of {megapixels:g} MP JPEGs ({len(images[0]) / 1e6:.1f} MB), one process:"
              f" {n / total:.2f} uploads/s, median {statistics.median(samples) * 1000:.0f} ms,"
              f" max {max(samples) * 1000:.0f} ms (re-encode + store + thumbnail job)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uploads", type=int, default=20)
    parser.add_argument("--megapixels", type=float, default=12.0)
    parser.add_argument("--memory-megapixels", type=float, default=24.0)
    parser.add_argument("--memory-child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        memory_child(args.memory_child)
        return
    print(f"load average before: {os.getloadavg()[0]:.2f} (cores: {os.cpu_count()})")
    bench_uploads(args.uploads, args.megapixels)
    with tempfile.NamedTemporaryFile(suffix=".jpg") as f:
        f.write(photo(args.memory_megapixels))
        f.flush()
        out = subprocess.run([sys.executable, __file__, "--memory-child", f.name],
                             capture_output=True, text=True, check=True).stdout
    m = json.loads(out)
    print(f"one worker re-encoding a {args.memory_megapixels:g} MP JPEG "
          f"({m['input_bytes'] / 1e6:.1f} MB -> {m['output_bytes'] / 1e6:.1f} MB, "
          f"{m['size'][0]}x{m['size'][1]}): peak RSS {m['peak_rss_after_mib']:.0f} MiB "
          f"(RSS before: {m['peak_rss_before_mib']:.0f} MiB; +"
          f"{m['peak_rss_after_mib'] - m['peak_rss_before_mib']:.0f} MiB), re-encode "
          f"{m['reencode_seconds']:.2f} s")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
