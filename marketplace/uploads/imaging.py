"""Decode, check and re-encode an image with Pillow: only pixels survive (no EXIF, no GPS, no
text chunks, no original bytes); orientation is applied; thumbnails.

Checks, in order: empty file (422); a format we do not take (415: a PDF named ``.jpg``, a GIF);
more pixels than allowed, read from the header before any decoding (422: decompression bombs);
a file that does not decode to the end (422: truncated or corrupt).
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import pillow_heif
from PIL import Image, ImageOps, UnidentifiedImageError

from marketplace.core.errors import DomainError, InvalidInput

ACCEPTED = {"JPEG": "JPEG", "PNG": "PNG", "WEBP": "WebP", "HEIF": "HEIC/HEIF"}
THUMB_EDGE = 320
JPEG_QUALITY = 85


class UnsupportedImage(DomainError):
    status = 415


def register_decoders() -> None:
    """HEIC/HEIF through pillow-heif (called once at start-up)."""
    pillow_heif.register_heif_opener()


@dataclass(frozen=True)
class Encoded:
    data: bytes
    content_type: str
    ext: str
    width: int
    height: int


def _file_error(message: str) -> InvalidInput:
    return InvalidInput(message, {"file": [message]})


def _too_many(width: int, height: int, max_pixels: int) -> InvalidInput:
    return _file_error(f"The image is {width}x{height} pixels ({width * height / 1e6:.1f} "
                       f"megapixels); at most {max_pixels / 1e6:.1f} megapixels are accepted.")


def _open(data: bytes, max_pixels: int) -> Image.Image:
    if not data:
        raise _file_error("The file is empty.")
    try:
        with warnings.catch_warnings():
            # We check the pixel count ourselves, below, before decoding.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:  # Pillow's own guard (> 2x its limit)
        raise _file_error(f"The image has too many pixels ({exc}); at most "
                          f"{max_pixels / 1e6:.1f} megapixels are accepted.") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        img = None
    if img is None or img.format not in ACCEPTED:
        kinds = ", ".join(ACCEPTED.values())
        raise UnsupportedImage(f"The file is not an image we accept ({kinds}).",
                               {"file": [f"Not a {kinds} image."]})
    width, height = img.size
    if width * height > max_pixels or width < 1 or height < 1:
        raise _too_many(width, height, max_pixels)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img.load()
    except (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError):
        raise _file_error("The image is truncated or corrupt; it could not be decoded.") \
            from None
    return img


def _alpha_kept(img: Image.Image) -> Image.Image:
    """The image with its transparency as an alpha channel: a palette, grey or RGB image
    whose transparency is metadata (a PNG's tRNS: a transparent palette index or colour key)
    would lose it with the metadata."""
    if "transparency" not in img.info or img.mode not in ("P", "L", "RGB"):
        return img
    converted = img.convert("RGBA")
    img.close()
    return converted


def _encode(img: Image.Image) -> tuple[bytes, str, str]:
    """JPEG, or PNG when the image has an alpha channel (``_alpha_kept``)."""
    out = io.BytesIO()
    if img.mode in ("RGBA", "LA", "PA"):
        img = img.convert("RGBA")
        img.save(out, "PNG", optimize=False)
        return out.getvalue(), "image/png", "png"
    if img.mode != "RGB":
        img = img.convert("RGB")
    img.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    return out.getvalue(), "image/jpeg", "jpg"


def reencode(data: bytes, max_pixels: int) -> Encoded:
    """The upload's pixels, upright, re-encoded without any metadata."""
    img = _open(data, max_pixels)
    upright = ImageOps.exif_transpose(img)  # applies Orientation; a new image, no EXIF kept
    if upright is not img:
        img.close()  # one full-size bitmap at a time (24 MP RGB: 72 MB each)
    upright = _alpha_kept(upright)  # before the metadata, which holds a tRNS, is dropped
    upright.info.clear()
    encoded, content_type, ext = _encode(upright)
    return Encoded(encoded, content_type, ext, upright.width, upright.height)


def thumbnail(data: bytes) -> tuple[bytes, str]:
    """A thumbnail (longest edge ``THUMB_EDGE``) of an image we re-encoded ourselves."""
    img = Image.open(io.BytesIO(data))
    img.thumbnail((THUMB_EDGE, THUMB_EDGE))
    img.info.clear()
    encoded, content_type, _ = _encode(img)
    return encoded, content_type
