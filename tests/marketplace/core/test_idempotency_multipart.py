"""The fingerprint of a ``multipart/form-data`` body is that of its parts, not of its
boundary (which every client draws anew per request, retries included)."""

from __future__ import annotations

import io

from flask import request

from marketplace.core.http import idempotency

BIG = bytes(range(256)) * 3072  # 768 KiB: werkzeug spools it to a temporary file


def _fingerprint(app, data, boundary=None, path="/api/v1/uploads"):
    """The fingerprint of ``data`` posted as multipart (werkzeug draws a boundary unless
    ``boundary``), and the bytes the view then reads from each file part."""
    content_type = "multipart/form-data" + (f"; boundary={boundary}" if boundary else "")
    if boundary:  # a body of our own, with that boundary
        data = _encode(data, boundary)
    with app.test_request_context(path, method="POST", data=data, content_type=content_type):
        fp = idempotency.fingerprint("POST", request.full_path, idempotency._request_body())
        return fp, {name: f.read() for name, f in request.files.items()}


def _encode(fields, boundary) -> bytes:
    out = b""
    for name, value in fields:
        out += f"--{boundary}\r\n".encode()
        if isinstance(value, tuple):
            content, filename, ctype = value
            out += (f'Content-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                    f"Content-Type: {ctype}\r\n\r\n").encode() + content + b"\r\n"
        else:
            out += f'Content-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
    return out + f"--{boundary}--\r\n".encode()


def test_the_same_parts_under_another_boundary_have_the_same_fingerprint(app):
    parts = [("file", (b"\xff\xd8 jpeg bytes", "photo.jpg", "image/jpeg")), ("note", "hi")]
    first, _ = _fingerprint(app, parts, boundary="aaaaBOUNDARY1")
    again, _ = _fingerprint(app, parts, boundary="zzzzOTHER-2")
    assert first == again
    # Parts of different names in another order: the same request.
    assert _fingerprint(app, parts[::-1], boundary="b3")[0] == first


def test_a_large_file_part_is_hashed_and_still_read_whole_by_the_view(app):
    def post():
        return _fingerprint(app, {"file": (io.BytesIO(BIG), "big.bin", "image/png")})

    (first, read), (again, _) = post(), post()  # two werkzeug boundaries
    assert first == again
    assert read == {"file": BIG}


def test_any_change_to_a_part_changes_the_fingerprint(app):
    base = [("file", (b"one", "a.jpg", "image/jpeg")), ("note", "hi")]
    changed = [
        [("file", (b"two", "a.jpg", "image/jpeg")), ("note", "hi")],  # the bytes
        [("file", (b"one", "b.jpg", "image/jpeg")), ("note", "hi")],  # the filename
        [("file", (b"one", "a.jpg", "image/png")), ("note", "hi")],  # the content type
        [("file", (b"one", "a.jpg", "image/jpeg")), ("note", "ho")],  # a field's value
        [("photo", (b"one", "a.jpg", "image/jpeg")), ("note", "hi")],  # a field's name
        [("file", (b"one", "a.jpg", "image/jpeg"))],  # a part fewer
    ]
    fps = {_fingerprint(app, parts, boundary="B")[0] for parts in [base, *changed]}
    assert len(fps) == 1 + len(changed)
    other_path = _fingerprint(app, base, boundary="B", path="/api/v1/other")[0]
    assert other_path not in fps
