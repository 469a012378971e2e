from __future__ import annotations

from datetime import UTC, date, datetime

import marshmallow as ma
from marshmallow import validate

from marketplace.core.http.pagination import PageArgsSchema, page_schema


class Instant(ma.fields.Field):
    """An ISO date (midnight UTC) or date-time (UTC when it has no offset)."""

    default_error_messages = {"invalid": "Not a valid ISO date or date-time.",
                              "range": "Must be between the years 1970 and 9000."}

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str):
            raise self.make_error("invalid")
        try:
            if len(value) == 10:
                d = date.fromisoformat(value)
                result = datetime(d.year, d.month, d.day, tzinfo=UTC)
            else:
                parsed = datetime.fromisoformat(value)
                result = (parsed.replace(tzinfo=UTC) if parsed.tzinfo is None
                          else parsed.astimezone(UTC))
        except (ValueError, OverflowError):
            raise self.make_error("invalid") from None
        if not 1970 <= result.year <= 9000:
            raise self.make_error("range")
        return result


GRAMS = ("Integer grams CO2e: the ledger's unit, exact. Every carbon quantity in the API is "
         "an integer `*_g` field; `*_kgco2e` fields are the same quantity in kg (3 decimals), "
         "for display only.")


def grams_field(description: str, **kwargs) -> ma.fields.Integer:
    """An integer quantity of grams CO2e (``*_g``), documented as such."""
    return ma.fields.Integer(metadata={"description": f"{description}. {GRAMS}",
                                       "example": 1500}, **kwargs)


def kg_field(grams_name: str, **kwargs) -> ma.fields.Float:
    """The display value in kg CO2e derived from the ``grams_name`` field."""
    return ma.fields.Float(metadata={
        "description": f"`{grams_name}` / 1000, rounded to 3 decimals (kg CO2e, display only)",
        "example": 1.5}, **kwargs)


class AccountSchema(ma.Schema):
    user_id = ma.fields.Integer()
    balance_g = grams_field("Balance: credits minus reversals")
    balance_kgco2e = kg_field("balance_g")
    credited_trades = ma.fields.Integer(metadata={"description": "Trades credited so far"})
    pending_g = grams_field("Your share of completed trades not credited yet (at the current "
                            "buyer/seller split)")
    pending_kgco2e = kg_field("pending_g")
    as_of = ma.fields.AwareDateTime(metadata={"description": "When these figures were read "
                                              "(not part of the ETag)"})

    class Meta:
        ordered = True


class EntriesQuerySchema(PageArgsSchema):
    """``limit`` and ``cursor`` (the shared opaque keyset cursor)."""


class EntrySchema(ma.Schema):
    id = ma.fields.Integer(metadata={"description": "The ledger line's id"})
    transaction_id = ma.fields.Integer()
    trade_id = ma.fields.Integer(allow_none=True)
    listing_id = ma.fields.Integer(allow_none=True)
    listing_title = ma.fields.String(allow_none=True)
    category = ma.fields.String(allow_none=True)
    kind = ma.fields.String(metadata={
        "description": "credit (a trade), reversal (a refund) or recycling (a confirmed "
                       "recycling handover)", "enum": ["credit", "reversal", "recycling"]})
    amount_g = grams_field("The line's amount: positive for a credit, negative for a reversal")
    amount_kgco2e = kg_field("amount_g")
    occurred_at = ma.fields.AwareDateTime()
    posted_at = ma.fields.AwareDateTime()

    class Meta:
        ordered = True


EntryPageSchema = page_schema(EntrySchema)


class SummaryQuerySchema(ma.Schema):
    from_ = Instant(data_key="from", load_default=None)
    to = Instant(load_default=None)
    granularity = ma.fields.String(load_default="month",
                                   validate=validate.OneOf(["month", "week"]))


class CategoryTotalSchema(ma.Schema):
    category = ma.fields.String()
    net_g = grams_field("Net credits in the category")
    net_kgco2e = kg_field("net_g")


class PeriodSchema(ma.Schema):
    start = ma.fields.AwareDateTime()
    end = ma.fields.AwareDateTime()
    credited_g = grams_field("Credits in the period")
    reversed_g = grams_field("Reversals in the period (a positive figure)")
    net_g = grams_field("credited_g - reversed_g")
    net_kgco2e = kg_field("net_g")
    by_category = ma.fields.List(ma.fields.Nested(CategoryTotalSchema))


class EquivalentSchema(ma.Schema):
    key = ma.fields.String()
    label = ma.fields.String()
    unit = ma.fields.String()
    value = ma.fields.Float(metadata={"description": "`net_g` / `factor_g_per_unit`, in `unit`"})
    factor_g_per_unit = ma.fields.Float(metadata={"description": "Grams CO2e per `unit`"})
    factor = ma.fields.String()
    source = ma.fields.String()


class SummarySchema(ma.Schema):
    from_ = ma.fields.AwareDateTime(data_key="from", attribute="from")
    to = ma.fields.AwareDateTime()
    granularity = ma.fields.String(metadata={"enum": ["month", "week"]})
    net_g = grams_field("Net credits over the range")
    net_kgco2e = kg_field("net_g")
    ewaste_avoided_g = ma.fields.Integer(metadata={
        "description": "E-waste avoided over the range, grams: each credited trade's central "
                       "figure times this account's share of its credit, net of reversals"})
    materials_avoided_kg = ma.fields.Float(metadata={
        "description": "Raw materials avoided over the range, kg (same shares as e-waste)"})
    by_category = ma.fields.List(ma.fields.Nested(CategoryTotalSchema))
    periods = ma.fields.List(ma.fields.Nested(PeriodSchema))
    equivalents = ma.fields.List(ma.fields.Nested(EquivalentSchema))
