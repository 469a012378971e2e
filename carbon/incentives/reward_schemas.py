"""Schemas of what users hold and redeem (vouchers, badges, certificates, the catalogue) and of
the anti-gaming flags; the conventions are those of ``schemas``."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from carbon.ledger.schemas import grams_field, kg_field
from marketplace.core.http.pagination import PageArgsSchema, page_schema
from marketplace.core.money_schemas import MoneyField

from .models import VoucherStatus
from .schemas import (
    MAX_POINTS,
    FlatErrorsSchema,
    RewardSchema,
    VoucherSpecInSchema,
)

# --- What users hold -----------------------------------------------------------------------


class VoucherSchema(ma.Schema):
    code = ma.fields.String()
    percent_off = ma.fields.Integer(allow_none=True)
    amount_off = MoneyField(allow_none=True, metadata={"description": "Fixed amount off"})
    max_off = MoneyField(allow_none=True, metadata={"description": "Cap of a percentage"})
    min_price = MoneyField(allow_none=True,
                           metadata={"description": "Smallest price it applies to"})
    currency = ma.fields.String(allow_none=True, metadata={
        "description": "The only currency it applies to (null: any)"})
    expires_at = ma.fields.AwareDateTime()
    status = ma.fields.String(metadata={"enum": ["available", "reserved", "used"]})
    trade_id = ma.fields.Integer(allow_none=True)
    created_at = ma.fields.AwareDateTime()

    class Meta:
        ordered = True


class BadgeSchema(ma.Schema):
    id = ma.fields.Integer(metadata={"description": "The reward's id"})
    badge = ma.fields.String()
    rule_id = ma.fields.Integer()
    units = ma.fields.Integer(metadata={
        "description": "How many times this reward gives the badge: the thresholds of a "
                       "threshold rule one credit crossed (less any revoked by a partial "
                       "refund); 1 for other rules"})
    trade_id = ma.fields.Integer(allow_none=True)
    earned_at = ma.fields.AwareDateTime()


class CertificateSchema(ma.Schema):
    id = ma.fields.Integer(metadata={"description": "The reward's id"})
    certificate_id = ma.fields.String()
    rule_id = ma.fields.Integer()
    trade_id = ma.fields.Integer(allow_none=True)
    trees = ma.fields.Integer(metadata={
        "description": "Trees this certificate stands for: the thresholds of the tree rule "
                       "one credit crossed (less any revoked by a partial refund); 1 for "
                       "certificates issued before 2026-12 (one per tree)"})
    cumulative_g = grams_field("The user's cumulative avoided emissions the last of these "
                               "trees marks", allow_none=True)
    cumulative_kgco2e = kg_field("cumulative_g", allow_none=True)
    issued_at = ma.fields.AwareDateTime()


VoucherPageSchema = page_schema(VoucherSchema)
BadgePageSchema = page_schema(BadgeSchema)
CertificatePageSchema = page_schema(CertificateSchema)


class VoucherArgs(PageArgsSchema):
    status = ma.fields.String(validate=validate.OneOf(
        [VoucherStatus.AVAILABLE.value, VoucherStatus.RESERVED.value, VoucherStatus.USED.value]),
        metadata={"description": "Only vouchers in this status"})


class RewardCountsSchema(ma.Schema):
    badges = ma.fields.Integer(metadata={
        "description": "Badges held, each unit of a badge reward counted (see Badge.units)"})
    vouchers = ma.fields.Integer(metadata={"description": "Not revoked (any status)"})
    vouchers_available = ma.fields.Integer()
    certificates = ma.fields.Integer()
    trees = ma.fields.Integer(metadata={
        "description": "Trees the certificates stand for (see Certificate.trees)"})


class RewardsSummarySchema(ma.Schema):
    points_balance = ma.fields.Integer(metadata={"description": "May be negative after a "
                                                 "reversal; blocks redemptions"})
    counts = ma.fields.Nested(RewardCountsSchema, metadata={
        "description": "How many of each the lists under /rewards/… hold"})


# --- Catalogue and redemption --------------------------------------------------------------


class CatalogItemInSchema(FlatErrorsSchema):
    name = ma.fields.String(required=True, validate=validate.Length(min=1, max=200))
    cost_points = ma.fields.Integer(required=True, strict=True,
                                    validate=validate.Range(min=1, max=MAX_POINTS))
    reward = ma.fields.Nested(VoucherSpecInSchema, required=True, metadata={
        "example": {"kind": "voucher", "percent_off": 10,
                    "max_off": {"amount": 2000, "currency": "EUR"}, "expires_days": 30}})
    active = ma.fields.Boolean(load_default=True)


class CatalogItemPatchSchema(FlatErrorsSchema):
    name = ma.fields.String(validate=validate.Length(min=1, max=200))
    cost_points = ma.fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_POINTS))
    reward = ma.fields.Nested(VoucherSpecInSchema)
    active = ma.fields.Boolean()


class CatalogItemSchema(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    cost_points = ma.fields.Integer()
    reward = ma.fields.Nested(RewardSchema, metadata={"description": "The voucher it gives"})
    active = ma.fields.Boolean()
    created_at = ma.fields.AwareDateTime()


CatalogItemPageSchema = page_schema(CatalogItemSchema)


class CatalogArgs(PageArgsSchema):
    """Cheapest first (cost_points, then id)."""


class RedeemInSchema(ma.Schema):
    catalog_item_id = ma.fields.Integer(required=True, strict=True,
                                        validate=validate.Range(min=1))


class RedemptionSchema(ma.Schema):
    catalog_item_id = ma.fields.Integer()
    points_spent = ma.fields.Integer()
    points_balance = ma.fields.Integer()
    voucher = ma.fields.Nested(VoucherSchema)


# --- Anti-gaming flags ---------------------------------------------------------------------


class FlagsArgs(PageArgsSchema):
    """Newest first."""


class FlagSchema(ma.Schema):
    id = ma.fields.Integer()
    trade_id = ma.fields.Integer(allow_none=True)
    ledger_transaction_id = ma.fields.Integer()
    user_id = ma.fields.Integer()
    counterparty_id = ma.fields.Integer()
    reason = ma.fields.String(metadata={"enum": ["self_trade", "pair_limit", "daily_cap"]})
    amount_g = grams_field("The user's credit")
    amount_kgco2e = kg_field("amount_g")
    occurred_at = ma.fields.AwareDateTime()
    evaluated_at = ma.fields.AwareDateTime()


FlagPageSchema = page_schema(FlagSchema)
