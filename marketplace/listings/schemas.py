"""Request and response schemas for listings and search."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import ValidationError, validate, validates_schema

from carbon.estimator import CHANNELS, validate_fields
from carbon.estimator.parameters import CATEGORY_NAMES, CONDITIONS
from carbon.schemas import EstimateSchema
from marketplace.core.http.fastdump import compile_dumper
from marketplace.core.money import MAX_AMOUNT
from marketplace.core.money_schemas import (
    CurrencyField,
    MoneyInSchema,
    MoneySchema,
    NonNegativeMoneyInSchema,
)
from marketplace.devices.schemas import IdentityFieldsMixin, check_identity
from marketplace.listings.models import DEVICE_FIELDS, MAX_PHOTOS, ListingStatus
from marketplace.listings.urls import public_url


class LocationSchema(ma.Schema):
    city = ma.fields.String(allow_none=True, validate=validate.Length(min=1, max=100))
    country = ma.fields.String(
        allow_none=True, validate=validate.Regexp(
            r"^[A-Z]{2}$", error="Must be an ISO 3166-1 alpha-2 country code (e.g. FR)."))


def _device_number(**kwargs):
    return ma.fields.Float(allow_none=True, allow_nan=False, **kwargs)


class PhotoSchema(ma.Schema):
    id = ma.fields.Integer()
    url = ma.fields.String()
    thumb_url = ma.fields.String()
    width = ma.fields.Integer()
    height = ma.fields.Integer()


class ListingInputSchema(IdentityFieldsMixin, ma.Schema):
    """Body of POST (all required fields) and PATCH (loaded with partial=True)."""

    title = ma.fields.String(required=True, validate=validate.Length(min=3, max=120))
    description = ma.fields.String(required=True, validate=validate.Length(max=5000))
    category = ma.fields.String(required=True, validate=validate.OneOf(CATEGORY_NAMES))
    brand = ma.fields.String(required=True, validate=validate.Length(min=1, max=100))
    model = ma.fields.String(required=True, validate=validate.Length(min=1, max=200))
    storage_gb = _device_number()
    ram_gb = _device_number()
    screen_inches = _device_number()
    release_year = ma.fields.Integer(allow_none=True, strict=True)
    condition = ma.fields.String(required=True, validate=validate.OneOf(CONDITIONS))
    battery_health_pct = _device_number()
    channel = ma.fields.String(validate=validate.OneOf(CHANNELS), metadata={
        "description": "How the device reaches the buyer, for its trade-route emissions: "
                       "parcel (default), local_pickup, or refurbished (only for a "
                       "professional refurbisher or a device refurbished before sale)"})
    price = ma.fields.Nested(MoneyInSchema, required=True)
    shipping_price = ma.fields.Nested(NonNegativeMoneyInSchema, metadata={
        "description": "Shipping charged on top of the price, in the price's currency "
                       "(amount 0: free shipping; default 0)"})
    local_pickup = ma.fields.Boolean(metadata={
        "description": "The buyer may collect the device in person in the listing's city "
                       "(default false); needs location.city"})
    photos = ma.fields.List(
        ma.fields.URL(schemes={"https"}, require_tld=True,
                      validate=[validate.Length(max=2048), public_url]),
        validate=validate.Length(max=MAX_PHOTOS),
        metadata={"description": f"0-{MAX_PHOTOS} https URLs on public hosts (prefer "
                                 "photo_ids)"})
    photo_ids = ma.fields.List(
        ma.fields.Integer(strict=True, validate=validate.Range(min=1)),
        validate=validate.Length(max=MAX_PHOTOS),
        metadata={"description": "Ids of the caller's uploads (POST /uploads), in display "
                                 "order; replaces the listing's uploaded photos"})
    location = ma.fields.Nested(LocationSchema, allow_none=True)
    organisation_id = ma.fields.Integer(strict=True, allow_none=True, validate=validate.Range(
        1, 2**63 - 1), metadata={"description": "List on behalf of this organisation (you must "
                                              "be its owner or buyer; 422 otherwise)"})

    @validates_schema
    def _identity(self, data, **kwargs):
        check_identity(data, data.get("category"))

    @validates_schema(skip_on_field_errors=False)
    def _plausible_device(self, data, partial=False, **kwargs):
        # Only complete bodies here; PATCH merges with the stored listing in the service.
        if partial:
            return
        values = {f: data.get(f) for f in DEVICE_FIELDS}
        if "category" not in data or "condition" not in data:
            return  # already reported as missing or invalid
        errors = validate_fields(values)
        if errors:
            raise ValidationError(errors)


class ListingPatchSchema(ListingInputSchema):
    """PATCH body: any subset of the listing's fields (use with ``partial=True``)."""


class ListingSchema(ma.Schema):
    id = ma.fields.Integer()
    seller_id = ma.fields.Integer()
    status = ma.fields.String(metadata={"enum": [s.value for s in ListingStatus]})
    title = ma.fields.String()
    description = ma.fields.String()
    category = ma.fields.String()
    brand = ma.fields.String()
    model = ma.fields.String()
    storage_gb = ma.fields.Float(allow_none=True)
    ram_gb = ma.fields.Float(allow_none=True)
    screen_inches = ma.fields.Float(allow_none=True)
    release_year = ma.fields.Integer(allow_none=True)
    condition = ma.fields.String()
    battery_health_pct = ma.fields.Float(allow_none=True)
    channel = ma.fields.String(metadata={"enum": list(CHANNELS)})
    price = ma.fields.Nested(MoneySchema)
    shipping_price = ma.fields.Nested(MoneySchema, metadata={
        "description": "Charged on top of the price when shipped (0: free shipping)"})
    local_pickup = ma.fields.Boolean()
    photos = ma.fields.List(ma.fields.String())
    photo_uploads = ma.fields.List(ma.fields.Nested(PhotoSchema))
    location = ma.fields.Nested(LocationSchema, allow_none=True)
    footprint = ma.fields.Nested(EstimateSchema)
    device_identity_kind = ma.fields.String(allow_none=True, metadata={
        "enum": ["imei", "serial", None],
        "description": "How the seller identified the device (the number is never shown); "
                       "null: not identified"})
    previous_owners = ma.fields.Integer(metadata={
        "description": "Owners who sold this physical device on Reloop before (identified "
                       "devices; see GET /listings/{id}/passport)"})
    organisation_id = ma.fields.Integer(allow_none=True)
    suspension_reason = ma.fields.String(allow_none=True)
    created_at = ma.fields.AwareDateTime()
    updated_at = ma.fields.AwareDateTime()


SORTS = ("newest", "price_asc", "price_desc", "avoided_desc")


class SearchArgsSchema(ma.Schema):
    q = ma.fields.String(validate=validate.Length(min=1, max=200),
                         metadata={"description": "Full text over title, description, brand "
                                                  "and model"})
    category = ma.fields.String(validate=validate.OneOf(CATEGORY_NAMES))
    brand = ma.fields.String(validate=validate.Length(min=1, max=100))
    condition = ma.fields.List(ma.fields.String(validate=validate.OneOf(CONDITIONS)),
                               metadata={"description": "Repeatable"})
    min_price = ma.fields.Integer(validate=validate.Range(min=0, max=MAX_AMOUNT), metadata={
        "description": "Minor units of `currency` (required with it)"})
    max_price = ma.fields.Integer(validate=validate.Range(min=0, max=MAX_AMOUNT), metadata={
        "description": "Minor units of `currency` (required with it)"})
    # Only listings priced in this currency; required with min_price, max_price and the
    # price sorts (prices in different currencies are never compared).
    currency = CurrencyField()
    min_avoided_kg = ma.fields.Float(allow_nan=False, validate=validate.Range(min=0, max=1e6))
    seller_id = ma.fields.Integer(validate=validate.Range(min=1))
    city = ma.fields.String(validate=validate.Length(min=1, max=100))
    country = ma.fields.String(validate=validate.Regexp(r"^[A-Za-z]{2}$"))
    sort = ma.fields.String(load_default="newest", validate=validate.OneOf(SORTS), metadata={
        "description": "price_asc / price_desc need `currency`"})
    limit = ma.fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))
    cursor = ma.fields.String(validate=validate.Length(min=1, max=200),
                              metadata={"description": "Opaque; next_cursor of the page before"})

    @validates_schema
    def _price_range(self, data, **kwargs):
        lo, hi = data.get("min_price"), data.get("max_price")
        if lo is not None and hi is not None and lo > hi:
            raise ValidationError("Must not be greater than max_price.", "min_price")
        priced = lo is not None or hi is not None or data.get("sort", "").startswith("price")
        if priced and not data.get("currency"):
            raise ValidationError("Required with min_price, max_price and the price sorts: "
                                  "prices are compared within one currency.", "currency")


class ListingPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(ListingSchema))
    next_cursor = ma.fields.String(allow_none=True)


class PassportEntrySchema(ma.Schema):
    date = ma.fields.Date()
    category = ma.fields.String()
    condition = ma.fields.String()
    avoided_g = ma.fields.Integer(metadata={"description": "Avoided emissions credited, g CO2e"})


class PassportSchema(ma.Schema):
    identified = ma.fields.Boolean()
    previous_owners = ma.fields.Integer()
    known_age_years = ma.fields.Float(allow_none=True, metadata={
        "description": "The youngest the device can be, from its history (null: no history)"})
    history = ma.fields.List(ma.fields.Nested(PassportEntrySchema), metadata={
        "description": "Completed trades of this device, oldest first; no personal data"})


# Search pages are the hottest list: serialized by a dumper compiled from the schema (same
# output as ListingPageSchema().dump, without marshmallow's per-field work; the schema still
# documents the response).
dump_page = compile_dumper(ListingPageSchema)
