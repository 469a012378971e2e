"""HTTP API for public profiles."""

from __future__ import annotations

from marketplace.core.http.blueprint import Blueprint
from marketplace.profiles import services
from marketplace.profiles.schemas import PublicProfileSchema

blp = Blueprint("profiles", __name__, url_prefix="/api/v1", description="Public profiles")


@blp.route("/users/<int:user_id>", methods=["GET"])
@blp.response(200, PublicProfileSchema)
@blp.errors(404)
def public_profile(user_id):
    """A user's public profile (no email); 404 when private or closed. Carbon totals only
    when the user chose to show them."""
    return services.public_profile(user_id)
