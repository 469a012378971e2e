"""HTTP API for listings, search and admin moderation."""

from __future__ import annotations

from flask import jsonify, request

from marketplace.core.http import respcache
from marketplace.core.http.auth import current_user, optional_user
from marketplace.core.http.blueprint import Blueprint
from marketplace.listings import cache, search, services, visibility
from marketplace.listings.schemas import (
    ListingInputSchema,
    ListingPageSchema,
    ListingPatchSchema,
    ListingSchema,
    PassportSchema,
    SearchArgsSchema,
    dump_page,
)

blp = Blueprint("listings", __name__, url_prefix="/api/v1",
                description="Listings of used devices, with avoided emissions, and search")

_OPTIONAL_AUTH = [{}, {"bearerAuth": []}]
_IF_MATCH = {"in": "header", "name": "If-Match", "required": False,
             "schema": {"type": "string"},
             "description": "The listing's ETag; the change is refused (412) if it moved on"}
_ETAG_HEADER = {"ETag": {"description": "Version of the listing, for If-Match",
                         "schema": {"type": "string"}}}


def _with_etag(listing, status: int = 200):
    return listing, status, {"ETag": listing.etag}


@blp.route("/listings", methods=["POST"])
@blp.auth(verified=True)
@blp.idempotent()
@blp.arguments(ListingInputSchema)
@blp.response(201, ListingSchema, headers=_ETAG_HEADER)
@blp.errors(403, 409)
def create_listing(data):
    """List a used device for sale; its avoided emissions are estimated."""
    return _with_etag(services.create(current_user(), data), 201)


@blp.route("/listings", methods=["GET"])
@blp.cached(cache.search_key, "SEARCH_CACHE_SECONDS")
@blp.read_only()
@blp.arguments(SearchArgsSchema, location="query")
@blp.response(200, ListingPageSchema)
def search_listings(args):
    """Search active listings: filters, sorts, cursor pagination. A page may be up to
    SEARCH_CACHE_SECONDS old (a shared copy)."""
    if cache.search_shareable():
        respcache.share()
    return jsonify(dump_page(search.search(args)))


@blp.route("/listings/<int:listing_id>", methods=["GET"])
@blp.cached(cache.detail_key, "LISTING_CACHE_SECONDS")
@blp.read_only()
@blp.doc(security=_OPTIONAL_AUTH)
@blp.conditional()
@blp.response(200, ListingSchema, headers=_ETAG_HEADER)
@blp.errors(404)
def get_listing(listing_id):
    """A listing: public unless withdrawn or suspended (then its seller and admins only)."""
    listing = visibility.get_public(listing_id, optional_user())
    if visibility.public_to_all(listing):
        respcache.share()
    return _with_etag(listing)


@blp.route("/listings/<int:listing_id>/passport", methods=["GET"])
@blp.doc(security=_OPTIONAL_AUTH)
@blp.response(200, PassportSchema)
@blp.errors(404)
def get_listing_passport(listing_id):
    """The listed device's passport: its completed trades on Reloop (date, category,
    condition, avoided grams; no personal data), when the seller identified it."""
    return services.device_passport(listing_id, optional_user())


@blp.route("/listings/<int:listing_id>", methods=["PATCH"])
@blp.auth()
@blp.doc(parameters=[_IF_MATCH])
@blp.arguments(ListingPatchSchema(partial=True))
@blp.response(200, ListingSchema, headers=_ETAG_HEADER)
@blp.errors(403, 404, 409, 412)
def update_listing(data, listing_id):
    """Change a listing (seller only). Device changes re-estimate the footprint."""
    listing = services.update_listing(listing_id, current_user(), data, request.if_match)
    return _with_etag(listing)


@blp.route("/listings/<int:listing_id>", methods=["DELETE"])
@blp.auth()
@blp.response(204)
@blp.errors(403, 404, 409)
def withdraw_listing(listing_id):
    """Withdraw a listing (seller only): kept, but gone from search and public view."""
    services.withdraw(listing_id, current_user())
