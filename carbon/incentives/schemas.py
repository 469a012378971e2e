"""Request and response schemas of the incentives API (parameters are checked in rules.py,
which reports every field error at once)."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from carbon.ledger.schemas import Instant

from .models import RuleType

_KINDS = ["points", "badge", "voucher", "tree"]


class CapsSchema(ma.Schema):
    points_per_day = ma.fields.Integer(allow_none=True, strict=True)
    points_per_month = ma.fields.Integer(allow_none=True, strict=True)
    budget_points = ma.fields.Integer(allow_none=True, strict=True,
                                      metadata={"description": "The rule's total points"})


class RuleInSchema(ma.Schema):
    name = ma.fields.String(required=True, validate=validate.Length(min=1, max=200))
    type = ma.fields.String(required=True, metadata={"enum": [t.value for t in RuleType]})
    params = ma.fields.Dict(load_default=dict, metadata={
        "description": "threshold/tree {every_kg}; milestone {at_kg} or {event: first_trade};"
                       " streak {months}; campaign {categories, multiplier}"})
    reward = ma.fields.Dict(required=True, metadata={
        "description": "{kind: points, amount} | {kind: badge, badge} | {kind: voucher, "
                       "percent_off|amount_off, max_off, currency, min_price, expires_days} | "
                       "{kind: tree}", "example": {"kind": "points", "amount": 100}})
    valid_from = Instant(load_default=None, allow_none=True)
    valid_to = Instant(load_default=None, allow_none=True)
    caps = ma.fields.Dict(load_default=dict, metadata={
        "description": "{points_per_day, points_per_month, budget_points}, each null or > 0"})
    active = ma.fields.Boolean(load_default=True)


class RuleSchema(ma.Schema):
    id = ma.fields.Integer()
    version = ma.fields.Integer()
    name = ma.fields.String()
    type = ma.fields.String()
    params = ma.fields.Dict()
    reward = ma.fields.Dict()
    valid_from = ma.fields.AwareDateTime(allow_none=True)
    valid_to = ma.fields.AwareDateTime(allow_none=True)
    caps = ma.fields.Nested(CapsSchema)
    active = ma.fields.Boolean()
    budget_spent = ma.fields.Integer()
    budget_exhausted = ma.fields.Boolean()
    created_at = ma.fields.AwareDateTime()
    updated_at = ma.fields.AwareDateTime(metadata={"description": "This version's creation"})


class RuleListArgs(ma.Schema):
    active = ma.fields.Boolean(load_default=None, allow_none=True)


class SimulateInSchema(ma.Schema):
    rule = ma.fields.Nested(RuleInSchema, required=True)


class SimulationSchema(ma.Schema):
    accounts = ma.fields.Integer(metadata={"description": "Accounts with credit history"})
    credits = ma.fields.Integer()
    users_rewarded = ma.fields.Integer()
    rewards = ma.fields.Integer(metadata={"description": "Rewards that would be issued"})
    points_cost = ma.fields.Integer()
    rewards_per_user = ma.fields.Dict(
        keys=ma.fields.String(), values=ma.fields.Integer(),
        metadata={"description": "How many users would get 1, 2, … 10+ rewards"})
    budget_exhausted = ma.fields.Boolean()
    elapsed_ms = ma.fields.Float()


class VoucherSchema(ma.Schema):
    code = ma.fields.String()
    percent_off = ma.fields.Integer(allow_none=True)
    amount_off = ma.fields.Integer(allow_none=True)
    max_off = ma.fields.Integer(allow_none=True)
    min_price = ma.fields.Integer(allow_none=True)
    currency = ma.fields.String(allow_none=True)
    expires_at = ma.fields.AwareDateTime()
    status = ma.fields.String(metadata={"enum": ["available", "reserved", "used"]})
    trade_id = ma.fields.Integer(allow_none=True)
    created_at = ma.fields.AwareDateTime()


class BadgeSchema(ma.Schema):
    badge = ma.fields.String()
    rule_id = ma.fields.Integer()
    trade_id = ma.fields.Integer(allow_none=True)
    earned_at = ma.fields.AwareDateTime()


class CertificateSchema(ma.Schema):
    certificate_id = ma.fields.String()
    rule_id = ma.fields.Integer()
    trade_id = ma.fields.Integer(allow_none=True)
    cumulative_kg = ma.fields.Float(allow_none=True)
    issued_at = ma.fields.AwareDateTime()


class HoldingsSchema(ma.Schema):
    points_balance = ma.fields.Integer(metadata={"description": "May be negative after a "
                                                 "reversal; blocks redemptions"})
    badges = ma.fields.List(ma.fields.Nested(BadgeSchema))
    vouchers = ma.fields.List(ma.fields.Nested(VoucherSchema))
    certificates = ma.fields.List(ma.fields.Nested(CertificateSchema))


class CatalogItemInSchema(ma.Schema):
    name = ma.fields.String(required=True, validate=validate.Length(min=1, max=200))
    cost_points = ma.fields.Integer(required=True, strict=True,
                                    validate=validate.Range(min=1, max=10**12))
    reward = ma.fields.Dict(required=True, metadata={
        "example": {"kind": "voucher", "percent_off": 10, "max_off": 2000,
                    "expires_days": 30}})
    active = ma.fields.Boolean(load_default=True)


class CatalogItemPatchSchema(ma.Schema):
    name = ma.fields.String(validate=validate.Length(min=1, max=200))
    cost_points = ma.fields.Integer(strict=True, validate=validate.Range(min=1, max=10**12))
    reward = ma.fields.Dict()
    active = ma.fields.Boolean()


class CatalogItemSchema(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    cost_points = ma.fields.Integer()
    reward = ma.fields.Dict()
    active = ma.fields.Boolean()
    created_at = ma.fields.AwareDateTime()


class RedeemInSchema(ma.Schema):
    catalog_item_id = ma.fields.Integer(required=True, strict=True,
                                        validate=validate.Range(min=1))


class RedemptionSchema(ma.Schema):
    catalog_item_id = ma.fields.Integer()
    points_spent = ma.fields.Integer()
    points_balance = ma.fields.Integer()
    voucher = ma.fields.Nested(VoucherSchema)


class FlagsArgs(ma.Schema):
    cursor = ma.fields.Integer(load_default=None, validate=validate.Range(min=1))
    limit = ma.fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class FlagSchema(ma.Schema):
    id = ma.fields.Integer()
    trade_id = ma.fields.Integer(allow_none=True)
    ledger_transaction_id = ma.fields.Integer()
    user_id = ma.fields.Integer()
    counterparty_id = ma.fields.Integer()
    reason = ma.fields.String(metadata={"enum": ["self_trade", "pair_limit", "daily_cap"]})
    amount_g = ma.fields.Integer()
    occurred_at = ma.fields.AwareDateTime()
    evaluated_at = ma.fields.AwareDateTime()


class FlagPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(FlagSchema))
    next_cursor = ma.fields.String(allow_none=True)
