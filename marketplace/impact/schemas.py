"""Request and response schemas for impact reports, statements and leaderboards."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from carbon.ledger.schemas import Instant
from marketplace.core.http.cursors import MAX_BIGINT
from marketplace.core.money_schemas import MoneySchema
from marketplace.organisations.schemas import KINDS

_GRAMS = "integer grams CO2e"


class RangeArgsSchema(ma.Schema):
    from_ = Instant(data_key="from", load_default=None, metadata={
        "description": "ISO date or date-time (default: the last 12 months)"})
    to = Instant(load_default=None)


class OrgReportArgsSchema(RangeArgsSchema):
    format = ma.fields.String(load_default="json", validate=validate.OneOf(["json", "csv"]),
                              metadata={"description": "json (default) or csv (a download, "
                                                       "one row per direction, category and "
                                                       "currency)"})


class KgRangeSchema(ma.Schema):
    low = ma.fields.Float()
    central = ma.fields.Float()
    high = ma.fields.Float()


class DirectionFiguresSchema(ma.Schema):
    count = ma.fields.Integer(metadata={"description": "Devices"})
    spend = ma.fields.List(ma.fields.Nested(MoneySchema), metadata={
        "description": "Paid (bought) or received (sold), net of refunds, one per currency"})
    avoided_kgco2e = ma.fields.Nested(KgRangeSchema, metadata={
        "description": "Sum of the devices' frozen estimates (bounds: sums of their bounds)"})
    ewaste_avoided_g = ma.fields.Integer()
    materials_avoided_kg = ma.fields.Float()
    refurbished = ma.fields.Integer(metadata={"description": "Devices from refurbished "
                                                             "listings"})
    peer_to_peer = ma.fields.Integer(metadata={"description": "Devices from people "
                                                              "(parcel or local pickup)"})
    share_refurbished = ma.fields.Float(allow_none=True)


class CategoryFiguresSchema(DirectionFiguresSchema):
    category = ma.fields.String()


class DirectionSchema(DirectionFiguresSchema):
    by_category = ma.fields.List(ma.fields.Nested(CategoryFiguresSchema))


class OrgReportSchema(ma.Schema):
    organisation_id = ma.fields.Integer()
    organisation_name = ma.fields.String()
    from_ = ma.fields.AwareDateTime(data_key="from", attribute="from")
    to = ma.fields.AwareDateTime()
    bought = ma.fields.Nested(DirectionSchema)
    sold = ma.fields.Nested(DirectionSchema)
    credited_g = ma.fields.Integer(metadata={
        "description": f"The organisation's net ledger credit in the period ({_GRAMS}): its "
                       "share of each trade, net of reversals"})
    methodology_versions = ma.fields.List(ma.fields.String())


class GramsRangeSchema(ma.Schema):
    low = ma.fields.Integer()
    high = ma.fields.Integer()


class RecyclingFiguresSchema(ma.Schema):
    handovers = ma.fields.Integer()
    credited_g = ma.fields.Integer()
    range_g = ma.fields.Nested(GramsRangeSchema)
    materials_recovered_g = ma.fields.Integer()


class ImpactFiguresSchema(ma.Schema):
    trade_credits = ma.fields.Integer(allow_none=True, metadata={
        "description": "Credit entries (a trade credits its buyer and its seller)"})
    net_g = ma.fields.Integer(allow_none=True, metadata={
        "description": f"Trade credits net of reversals ({_GRAMS})"})
    net_kgco2e = ma.fields.Float(allow_none=True)
    range_g = ma.fields.Nested(GramsRangeSchema, allow_none=True)
    ewaste_avoided_g = ma.fields.Integer(allow_none=True)
    materials_avoided_kg = ma.fields.Float(allow_none=True)
    recycling = ma.fields.Nested(RecyclingFiguresSchema, allow_none=True)


class ImpactCellSchema(ImpactFiguresSchema):
    category = ma.fields.String()
    suppressed = ma.fields.Boolean(metadata={
        "description": "Fewer accounts than `min_accounts`: figures null"})


class ImpactMonthSchema(ma.Schema):
    month = ma.fields.String(metadata={"example": "2026-12"})
    total = ma.fields.Nested(ImpactFiguresSchema, allow_none=True)
    categories = ma.fields.List(ma.fields.Nested(ImpactCellSchema))


class PublicImpactSchema(ma.Schema):
    from_ = ma.fields.AwareDateTime(data_key="from", attribute="from")
    to = ma.fields.AwareDateTime()
    min_accounts = ma.fields.Integer(metadata={"description": "IMPACT_MIN_USERS"})
    total = ma.fields.Nested(ImpactFiguresSchema, allow_none=True)
    months = ma.fields.List(ma.fields.Nested(ImpactMonthSchema))


class StatementInSchema(ma.Schema):
    organisation_id = ma.fields.Integer(strict=True, load_default=None, allow_none=True,
                                        validate=validate.Range(1, MAX_BIGINT), metadata={
        "description": "State this organisation's account (you must be its owner or buyer); "
                       "default: your own"})
    from_ = Instant(data_key="from", required=True)
    to = Instant(required=True)


class StatementSchema(ma.Schema):
    id = ma.fields.String()
    key_id = ma.fields.String(metadata={"description": "`kid` of the signing key"})
    payload = ma.fields.String(metadata={"description": "The exact JSON text signed"})
    signature = ma.fields.String(metadata={
        "description": "Ed25519 signature of the payload's UTF-8 bytes, base64url"})
    status = ma.fields.String(metadata={
        "enum": ["valid", "superseded", "revoked_key"],
        "description": "Now (not signed): superseded when the period's lines add up to "
                       "something else since (e.g. a reversal), revoked_key when its key "
                       "was revoked"})
    key_status = ma.fields.String(metadata={"enum": ["active", "revoked", "unknown"]})
    superseded = ma.fields.Boolean()
    current_net_g = ma.fields.Integer(metadata={"description": "The period's net now"})
    created_at = ma.fields.AwareDateTime()


class JwkSchema(ma.Schema):
    kid = ma.fields.String()
    kty = ma.fields.String(metadata={"enum": ["OKP"]})
    crv = ma.fields.String(metadata={"enum": ["Ed25519"]})
    x = ma.fields.String(metadata={"description": "Public key, base64url"})
    use = ma.fields.String()
    alg = ma.fields.String()
    dev = ma.fields.Boolean(metadata={"description": "A development key generated by this "
                                                     "process (CARBON_STATEMENT_KEYS unset)"})


class JwksSchema(ma.Schema):
    keys = ma.fields.List(ma.fields.Nested(JwkSchema))


class BoardArgsSchema(ma.Schema):
    month = ma.fields.String(required=True, validate=validate.Regexp(
        r"^(19[7-9]\d|[2-8]\d{3})-(0[1-9]|1[0-2])$", error="Must be YYYY-MM."))
    limit = ma.fields.Integer(load_default=20, validate=validate.Range(1, 100))


class PeopleArgsSchema(BoardArgsSchema):
    city = ma.fields.String(validate=validate.Length(min=1, max=100), metadata={
        "description": "Only credits of trades whose listing was in this city"})


class OrgBoardArgsSchema(BoardArgsSchema):
    kind = ma.fields.String(validate=validate.OneOf(KINDS))


class PersonEntrySchema(ma.Schema):
    rank = ma.fields.Integer()
    user_id = ma.fields.Integer()
    display_name = ma.fields.String(allow_none=True)
    net_g = ma.fields.Integer()
    net_kgco2e = ma.fields.Float()


class PeopleBoardSchema(ma.Schema):
    month = ma.fields.String()
    city = ma.fields.String(allow_none=True)
    entries = ma.fields.List(ma.fields.Nested(PersonEntrySchema))


class OrgEntrySchema(ma.Schema):
    rank = ma.fields.Integer()
    organisation_id = ma.fields.Integer()
    name = ma.fields.String()
    kind = ma.fields.String()
    net_g = ma.fields.Integer()
    net_kgco2e = ma.fields.Float()


class OrgBoardSchema(ma.Schema):
    month = ma.fields.String()
    kind = ma.fields.String(allow_none=True)
    entries = ma.fields.List(ma.fields.Nested(OrgEntrySchema))


class OptInSchema(ma.Schema):
    appear = ma.fields.Boolean(required=True, metadata={
        "description": "Appear in people leaderboards (default false)"})
