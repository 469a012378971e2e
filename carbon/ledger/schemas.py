from __future__ import annotations

from datetime import UTC, date, datetime

import marshmallow as ma
from marshmallow import validate


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


class AccountSchema(ma.Schema):
    user_id = ma.fields.Integer()
    balance_kgco2e = ma.fields.Float(metadata={"description": "Balance in kg CO2e"})
    balance_g = ma.fields.Integer(metadata={"description": "Balance in grams CO2e (exact)"})
    credited_trades = ma.fields.Integer(metadata={"description": "Trades credited so far"})
    pending_kgco2e = ma.fields.Float(
        metadata={"description": "Your share of completed trades not credited yet"})
    pending_g = ma.fields.Integer()
    as_of = ma.fields.AwareDateTime()


class EntriesQuerySchema(ma.Schema):
    cursor = ma.fields.Integer(load_default=None, validate=validate.Range(min=1),
                               metadata={"description": "`next_cursor` of the previous page"})
    limit = ma.fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class EntrySchema(ma.Schema):
    id = ma.fields.Integer()
    transaction_id = ma.fields.Integer()
    trade_id = ma.fields.Integer(allow_none=True)
    listing_id = ma.fields.Integer(allow_none=True)
    listing_title = ma.fields.String(allow_none=True)
    category = ma.fields.String(allow_none=True)
    kind = ma.fields.String(metadata={"description": "credit or reversal"})
    amount_g = ma.fields.Integer()
    amount_kgco2e = ma.fields.Float()
    occurred_at = ma.fields.AwareDateTime()
    posted_at = ma.fields.AwareDateTime()


class EntriesSchema(ma.Schema):
    entries = ma.fields.List(ma.fields.Nested(EntrySchema))
    next_cursor = ma.fields.String(allow_none=True)


class SummaryQuerySchema(ma.Schema):
    from_ = Instant(data_key="from", load_default=None)
    to = Instant(load_default=None)
    granularity = ma.fields.String(load_default="month",
                                   validate=validate.OneOf(["month", "week"]))


class CategoryTotalSchema(ma.Schema):
    category = ma.fields.String()
    net_g = ma.fields.Integer()
    net_kgco2e = ma.fields.Float()


class PeriodSchema(ma.Schema):
    start = ma.fields.AwareDateTime()
    end = ma.fields.AwareDateTime()
    credited_g = ma.fields.Integer()
    reversed_g = ma.fields.Integer()
    net_g = ma.fields.Integer()
    net_kgco2e = ma.fields.Float()
    by_category = ma.fields.List(ma.fields.Nested(CategoryTotalSchema))


class EquivalentSchema(ma.Schema):
    key = ma.fields.String()
    label = ma.fields.String()
    unit = ma.fields.String()
    value = ma.fields.Float()
    factor_g_per_unit = ma.fields.Float()
    factor = ma.fields.String()
    source = ma.fields.String()


class SummarySchema(ma.Schema):
    from_ = ma.fields.AwareDateTime(data_key="from", attribute="from")
    to = ma.fields.AwareDateTime()
    granularity = ma.fields.String()
    net_g = ma.fields.Integer()
    net_kgco2e = ma.fields.Float()
    by_category = ma.fields.List(ma.fields.Nested(CategoryTotalSchema))
    periods = ma.fields.List(ma.fields.Nested(PeriodSchema))
    equivalents = ma.fields.List(ma.fields.Nested(EquivalentSchema))
