"""HTTP API of the address book (the caller's own addresses only)."""

from __future__ import annotations

from marketplace.addresses import services
from marketplace.addresses.schemas import (
    AddressInputSchema,
    AddressPageSchema,
    AddressPatchSchema,
    AddressSchema,
)
from marketplace.core.http.auth import current_user
from marketplace.core.http.blueprint import Blueprint
from marketplace.core.http.pagination import PageArgsSchema

blp = Blueprint("addresses", __name__, url_prefix="/api/v1",
                description="The caller's address book (shipping addresses)")


@blp.route("/users/me/addresses", methods=["GET"])
@blp.auth()
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, AddressPageSchema)
def list_addresses(args):
    """The caller's addresses, newest first by id."""
    return services.list_addresses(current_user(), args["limit"], args.get("cursor"))


@blp.route("/users/me/addresses", methods=["POST"])
@blp.auth()
@blp.idempotent()
@blp.arguments(AddressInputSchema)
@blp.response(201, AddressSchema)
@blp.errors(409)
def create_address(data):
    """Add an address; the first one (or one sent with ``is_default: true``) is the
    default."""
    return services.create(current_user(), data)


@blp.route("/users/me/addresses/<int:address_id>", methods=["GET"])
@blp.auth()
@blp.conditional()
@blp.response(200, AddressSchema)
@blp.errors(404)
def get_address(address_id):
    """One of the caller's addresses (anyone else's: 404)."""
    return services.get_own(address_id, current_user().id)


@blp.route("/users/me/addresses/<int:address_id>", methods=["PATCH"])
@blp.auth()
@blp.arguments(AddressPatchSchema(partial=True))
@blp.response(200, AddressSchema)
@blp.errors(404, 409)
def update_address(data, address_id):
    """Change an address (validated again as a whole); ``is_default: true`` makes it the
    default."""
    return services.update_address(address_id, current_user(), data)


@blp.route("/users/me/addresses/<int:address_id>", methods=["DELETE"])
@blp.auth()
@blp.response(204)
@blp.errors(404)
def delete_address(address_id):
    """Delete an address (trades keep their own copy of it)."""
    services.delete(address_id, current_user())
