"""Request and response schemas of uploads."""

from __future__ import annotations

import marshmallow as ma


class UploadFileSchema(ma.Schema):
    file = ma.fields.Raw(required=True, metadata={
        "type": "string", "format": "binary",
        "description": "One image: JPEG, PNG, WebP or HEIC/HEIF"})


class UploadSchema(ma.Schema):
    id = ma.fields.Integer()
    url = ma.fields.String(metadata={"description": "The re-encoded image (path on this API)"})
    thumb_url = ma.fields.String(metadata={
        "description": "Its thumbnail (404 until the background job has made it)"})
    width = ma.fields.Integer()
    height = ma.fields.Integer()
    content_type = ma.fields.String(metadata={"enum": ["image/jpeg", "image/png"]})
    thumb_ready = ma.fields.Boolean()
    attached = ma.fields.Boolean(metadata={
        "description": "Whether something refers to it; unattached uploads are deleted after "
                       "a day"})


def upload_out(upload) -> dict:
    return {**upload.public(), "content_type": upload.content_type,
            "thumb_ready": upload.thumb_ready, "attached": upload.attached_type is not None}
