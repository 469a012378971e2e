"""Swagger UI's assets, served by the app from the ``swagger-ui-bundle`` package, so
``/api/docs`` works offline (no CDN)."""

from __future__ import annotations

import flask
from swagger_ui_bundle import swagger_ui_path

URL_PREFIX = "/api/docs-assets"

blp = flask.Blueprint("docs_assets", __name__, url_prefix=URL_PREFIX)


@blp.route("/<path:filename>")
def asset(filename: str):
    return flask.send_from_directory(swagger_ui_path, filename, max_age=86_400)
