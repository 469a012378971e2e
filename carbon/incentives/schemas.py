"""Request and response schemas of the incentives API.

Conventions (API v1):

- lists are pages ``{items, next_cursor}`` (core pagination, opaque keyset cursors);
- money is ``{amount, currency}`` (integer minor units, ISO 4217) in requests and responses;
- carbon quantities are integer grams CO2e (``*_g``), with ``*_kgco2e`` floats derived for
  display only; rule thresholds are given in grams too (``every_g``, ``at_g``) and stored as
  the engine's kg parameters (exactly: whole grams);
- request bodies are typed: the schema checks types and ranges (field errors under dotted
  paths such as ``reward.amount_off.amount``); rules.py then checks what depends on the rule's
  type (which parameters, which rewards), reporting every such error at once.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import validate

from carbon.ledger.schemas import Instant, grams_field, kg_field
from marketplace.core.http.pagination import PageArgsSchema, page_schema
from marketplace.core.money_schemas import CurrencyField, MoneyField, MoneyInSchema

from .models import CREDIT_KINDS, RewardKind, RuleType
from .rules import BADGE_PATTERN, EVENTS, grams

MAX_GRAMS = 10**9  # 1000 t CO2e: rules.py's kg bounds (0.001 to 1,000,000 kg) in grams
MAX_POINTS = 10**12


def _flatten(messages: Any, prefix: str = "") -> dict[str, Any]:
    """Nested marshmallow errors as one level of dotted paths (``reward.amount_off.amount``),
    the shape rules.py reports its own errors in."""
    if not isinstance(messages, dict):
        return {prefix or "_schema": messages}
    flat: dict[str, Any] = {}
    for key, value in messages.items():
        if key == ma.exceptions.SCHEMA and prefix:
            path = prefix  # an error about the nested object itself (e.g. not an object)
        else:
            path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict):
            flat.update(_flatten(value, path))
        else:
            flat.setdefault(path, []).extend(value if isinstance(value, list) else [value])
    return flat


class FlatErrorsSchema(ma.Schema):
    """A request schema whose field errors are reported under dotted paths."""

    def handle_error(self, error: ma.ValidationError, data: Any, **kwargs: Any) -> None:
        raise ma.ValidationError(_flatten(error.messages))


def _drop_nulls(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None}


# --- Rule definitions ----------------------------------------------------------------------


class ParamsInSchema(FlatErrorsSchema):
    """A rule's parameters; which ones apply depends on the rule's `type` (others are 422):
    `threshold` {every_g}; `tree` {every_g?} (default 17900 g); `milestone` exactly one of
    {at_g} and {event}; `streak` {months}; `campaign` {categories, multiplier}."""

    every_g = ma.fields.Integer(strict=True, validate=validate.Range(1, MAX_GRAMS), metadata={
        "description": "threshold, tree: each multiple of this many grams CO2e of a user's "
                       "cumulative avoided emissions earns the reward once", "example": 10000})
    at_g = ma.fields.Integer(strict=True, validate=validate.Range(1, MAX_GRAMS), metadata={
        "description": "milestone: once, when the user's cumulative grams CO2e reach this"})
    event = ma.fields.String(validate=validate.OneOf(EVENTS), metadata={
        "description": "milestone: once, on this event instead of an amount"})
    months = ma.fields.Integer(strict=True, validate=validate.Range(1, 120), metadata={
        "description": "streak: each run of this many consecutive calendar months (UTC) with "
                       "a rewardable trade"})
    categories = ma.fields.List(
        ma.fields.String(validate=validate.Length(1, 64)), validate=validate.Length(min=1),
        metadata={"description": "campaign: device categories the campaign applies to"})
    multiplier = ma.fields.Float(validate=validate.Range(0.01, 100), metadata={
        "description": "campaign: points per kg CO2e (`reward.amount`) times this; applied "
                       "to hundredths"})
    credit_kinds = ma.fields.List(
        ma.fields.String(validate=validate.OneOf(CREDIT_KINDS)), validate=validate.Length(min=1),
        metadata={"description": "any type: the kinds of ledger credit the rule counts, "
                                 "`trade` and/or `recycling` (default: both; a first_trade "
                                 "milestone: trade)"})

    @ma.post_load
    def _engine_units(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        # The engine keeps thresholds in kg; whole grams convert exactly (grams(g / 1000) == g).
        for name in ("every", "at"):
            if f"{name}_g" in data:
                data[f"{name}_kg"] = data.pop(f"{name}_g") / 1000
        return data


class VoucherSpecInSchema(FlatErrorsSchema):
    """A voucher: exactly one of `percent_off` (optionally capped by `max_off`) and
    `amount_off`; optional `min_price`; money fields in one currency, which then restricts
    the voucher to prices in that currency (`currency` alone restricts a percentage one)."""

    kind = ma.fields.String(required=True, validate=validate.OneOf([RewardKind.VOUCHER.value]),
                            metadata={"description": "voucher"})
    percent_off = ma.fields.Integer(strict=True, validate=validate.Range(1, 100), metadata={
        "description": "voucher: percentage off the price (floored)"})
    amount_off = ma.fields.Nested(MoneyInSchema, metadata={
        "description": "voucher: a fixed amount off (instead of percent_off)"})
    max_off = ma.fields.Nested(MoneyInSchema, metadata={
        "description": "voucher with percent_off: the most it takes off"})
    min_price = ma.fields.Nested(MoneyInSchema, metadata={
        "description": "voucher: the smallest price it applies to"})
    currency = CurrencyField()
    expires_days = ma.fields.Integer(strict=True, validate=validate.Range(1, 3650),
                                     metadata={"description": "voucher: days it stays valid "
                                               "after issue (default 30)"})

    @ma.validates_schema
    def _one_currency(self, data: dict[str, Any], **kwargs: Any) -> None:
        currencies = {data[f]["currency"] for f in ("amount_off", "max_off", "min_price")
                      if f in data}
        if data.get("currency") is not None:
            currencies.add(data["currency"])
        if len(currencies) > 1:
            raise ma.ValidationError("All money of a voucher must be in one currency.",
                                     "currency")
        if "max_off" in data and "percent_off" not in data:
            raise ma.ValidationError("Only a percent_off voucher has a max_off.", "max_off")

    @ma.post_load
    def _engine_units(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        # Stored flat, as vouchers are issued: amounts in minor units plus one currency.
        for name in ("amount_off", "max_off", "min_price"):
            if name in data:
                value = data.pop(name)
                data[name] = value["amount"]
                data["currency"] = value["currency"]
        return data


class RewardInSchema(VoucherSpecInSchema):
    """A rule's reward, by `kind`: `points` {amount}; `badge` {badge}; `voucher` (see the
    voucher fields); `tree` {} (a certificate). Fields of another kind are 422."""

    kind = ma.fields.String(required=True, validate=validate.OneOf(list(RewardKind)),
                            metadata={"description": "What the rule gives; the rule's type "
                                      "limits it (campaign: points; tree: tree)"})
    amount = ma.fields.Integer(strict=True, validate=validate.Range(1, 10**9), metadata={
        "description": "points: points per reward (campaign: per kg CO2e, times the "
                       "multiplier)"})
    badge = ma.fields.String(validate=validate.Regexp(
        BADGE_PATTERN, error="Must be a slug (a-z, 0-9, -), 1-64 characters."),
        metadata={"description": "badge: its slug", "example": "first-trade"})


class CapsInSchema(FlatErrorsSchema):
    """Caps on points rewards (each null or absent: no cap)."""

    points_per_day = ma.fields.Integer(
        allow_none=True, strict=True, validate=validate.Range(1, MAX_POINTS),
        metadata={"description": "Points per user and UTC day"})
    points_per_month = ma.fields.Integer(
        allow_none=True, strict=True, validate=validate.Range(1, MAX_POINTS),
        metadata={"description": "Points per user and UTC calendar month"})
    budget_points = ma.fields.Integer(
        allow_none=True, strict=True, validate=validate.Range(1, MAX_POINTS),
        metadata={"description": "The rule's total points; once spent it stops issuing"})


class RuleInSchema(FlatErrorsSchema):
    name = ma.fields.String(required=True, validate=validate.Length(min=1, max=200))
    type = ma.fields.String(required=True, validate=validate.OneOf(list(RuleType)))
    params = ma.fields.Nested(ParamsInSchema, load_default=dict)
    reward = ma.fields.Nested(RewardInSchema, required=True, metadata={
        "example": {"kind": "points", "amount": 100}})
    valid_from = Instant(load_default=None, allow_none=True,
                         metadata={"description": "ISO date or date-time (UTC if no offset)"})
    valid_to = Instant(load_default=None, allow_none=True, metadata={
        "description": "After valid_from; a campaign needs both"})
    caps = ma.fields.Nested(CapsInSchema, load_default=dict)
    active = ma.fields.Boolean(load_default=True)


class ParamsSchema(ma.Schema):
    """A rule's parameters (only those of its type are present)."""

    every_g = grams_field("threshold, tree: the step of cumulative avoided emissions")
    every_kgco2e = kg_field("every_g")
    at_g = grams_field("milestone: the cumulative amount")
    at_kgco2e = kg_field("at_g")
    event = ma.fields.String(metadata={"enum": list(EVENTS)})
    months = ma.fields.Integer()
    categories = ma.fields.List(ma.fields.String())
    multiplier = ma.fields.Float()
    credit_kinds = ma.fields.List(ma.fields.String(metadata={"enum": list(CREDIT_KINDS)}))

    @ma.pre_dump
    def _api_units(self, params: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        out = {k: v for k, v in params.items() if k not in ("every_kg", "at_kg")}
        for name in ("every", "at"):
            if params.get(f"{name}_kg") is not None:
                g = grams(params[f"{name}_kg"])
                out[f"{name}_g"], out[f"{name}_kgco2e"] = g, round(g / 1000, 3)
        return out

    @ma.post_dump
    def _present(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        return _drop_nulls(data)


class RewardSchema(ma.Schema):
    """A reward definition (only the fields of its kind are present)."""

    kind = ma.fields.String(required=True, metadata={"enum": list(RewardKind)})
    amount = ma.fields.Integer(metadata={"description": "points: points per reward"})
    badge = ma.fields.String(metadata={"description": "badge: its slug"})
    percent_off = ma.fields.Integer(metadata={"description": "voucher: percentage off"})
    amount_off = MoneyField(metadata={"description": "voucher: fixed amount off"})
    max_off = MoneyField(metadata={"description": "voucher: cap of a percentage"})
    min_price = MoneyField(metadata={"description": "voucher: smallest price it applies to"})
    currency = ma.fields.String(metadata={
        "description": "voucher: the only currency it applies to (absent: any)"})
    expires_days = ma.fields.Integer(metadata={"description": "voucher: validity in days"})

    class Meta:
        ordered = True

    @ma.post_dump
    def _present(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        return _drop_nulls(data)


class CapsSchema(ma.Schema):
    points_per_day = ma.fields.Integer(allow_none=True)
    points_per_month = ma.fields.Integer(allow_none=True)
    budget_points = ma.fields.Integer(allow_none=True,
                                      metadata={"description": "The rule's total points"})


class RuleSchema(ma.Schema):
    id = ma.fields.Integer()
    version = ma.fields.Integer()
    name = ma.fields.String()
    type = ma.fields.String(metadata={"enum": list(RuleType)})
    params = ma.fields.Nested(ParamsSchema)
    reward = ma.fields.Nested(RewardSchema)
    valid_from = ma.fields.AwareDateTime(allow_none=True)
    valid_to = ma.fields.AwareDateTime(allow_none=True)
    caps = ma.fields.Nested(CapsSchema)
    active = ma.fields.Boolean()
    budget_spent = ma.fields.Integer(metadata={"description": "Points issued by the rule"})
    budget_exhausted = ma.fields.Boolean()
    created_at = ma.fields.AwareDateTime()
    updated_at = ma.fields.AwareDateTime(metadata={"description": "This version's creation"})


RulePageSchema = page_schema(RuleSchema)


class RuleListArgs(PageArgsSchema):
    """Newest rule first."""

    active = ma.fields.Boolean(load_default=None, allow_none=True)


class SimulateInSchema(FlatErrorsSchema):
    rule = ma.fields.Nested(RuleInSchema, required=True)


class SimulationSchema(ma.Schema):
    accounts = ma.fields.Integer(metadata={"description": "Accounts with credit history"})
    credits = ma.fields.Integer()
    users_rewarded = ma.fields.Integer()
    rewards = ma.fields.Integer(metadata={
        "description": "Rewards that would be issued, counting each threshold crossed once "
                       "(a threshold rule giving points or a badge, or a tree rule, issues "
                       "one reward per credit whose units are the thresholds it crossed)"})
    points_cost = ma.fields.Integer()
    rewards_per_user = ma.fields.Dict(
        keys=ma.fields.String(), values=ma.fields.Integer(),
        metadata={"description": "How many users would get 1, 2, … 10+ rewards "
                                 "(keys \"1\" … \"9\", \"10+\")"})
    budget_exhausted = ma.fields.Boolean()
    elapsed_ms = ma.fields.Float()
