"""HTTP API for uploads and the media they serve."""

from __future__ import annotations

from flask import Response, current_app, redirect

from marketplace.core.http import guards
from marketplace.core.http.auth import current_user
from marketplace.core.http.blueprint import Blueprint
from marketplace.core.http.etag import ETAG_HEADER_DOC
from marketplace.core.http.limiter import limiter
from marketplace.uploads import services
from marketplace.uploads.schemas import UploadFileSchema, UploadSchema, upload_out

blp = Blueprint("uploads", __name__, url_prefix="/api/v1",
                description="Image uploads (re-encoded, metadata removed) and their media")


def _upload_limit() -> str:
    return current_app.config["UPLOAD_LIMIT_PER_USER"]


@blp.route("/uploads", methods=["POST"])
@guards.allow_body("UPLOAD_MAX_BYTES")  # the app's default body limit is for JSON; 413 above
@blp.auth()
@blp.idempotent()  # (outside the limit: a replay decodes nothing)
@limiter.limit(_upload_limit, key_func=lambda: f"upload-user:{current_user().id}")
@blp.arguments(UploadFileSchema, location="files")
@blp.response(201, UploadSchema)
@blp.errors(413, 415, 422, 503)
@blp.rate_limited()
def create_upload(files):
    """Upload one image (multipart field ``file``): decoded, oriented, re-encoded without EXIF;
    its thumbnail is made in the background. Refer to it by id (e.g. a listing's photo_ids)
    within a day or it is deleted."""
    return upload_out(services.create(current_user().id, files["file"].read()))


@blp.route("/uploads/<int:upload_id>", methods=["GET"])
@blp.auth()
@blp.conditional()
@blp.response(200, UploadSchema, headers=ETAG_HEADER_DOC)
@blp.errors(404)
def get_upload(upload_id):
    """One of the caller's uploads (e.g. to see whether its thumbnail is ready). Its ETag is a
    hash of the upload as shown: If-None-Match gets a 304 while it has not changed."""
    return upload_out(services.get_own(upload_id, current_user().id))


@blp.route("/media/<string:key>", methods=["GET"])
@blp.response(200, description="The image bytes (or a redirect to object storage)")
@blp.alt_response(302, description="Redirect to a short-lived object-storage URL")
@blp.errors(404)
def get_media(key):
    """An uploaded image or thumbnail, by the key in its URL. Public (listing photos)."""
    data, url, content_type = services.media(key)
    if url is not None:
        return redirect(url, 302)
    resp = Response(data, mimetype=content_type)
    resp.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp
