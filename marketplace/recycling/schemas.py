"""Request and response schemas for recycling handovers."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from carbon.estimator import validate_fields
from carbon.estimator.parameters import CATEGORY_NAMES
from marketplace.core.http.cursors import MAX_BIGINT
from marketplace.core.http.pagination import PageArgsSchema, page_schema
from marketplace.recycling.models import CONDITIONS, METHODS, HandoverStatus

_ID = validate.Range(1, MAX_BIGINT)


class RecyclingHandoverInSchema(ma.Schema):
    category = ma.fields.String(required=True, validate=validate.OneOf(CATEGORY_NAMES))
    condition = ma.fields.String(required=True, validate=validate.OneOf(CONDITIONS))
    device = ma.fields.String(required=True, validate=validate.Length(min=1, max=200),
                              metadata={"description": "What it is, e.g. `iPhone 6, cracked`"})
    weight_kg = ma.fields.Float(allow_none=True, allow_nan=False,
                                validate=validate.Range(0.001, 500, min_inclusive=True),
                                metadata={"description": "Default: the category's typical "
                                                         "weight (methodology); within the "
                                                         "category's plausible range"})
    recycler_id = ma.fields.Integer(required=True, strict=True, validate=_ID, metadata={
        "description": "A verified recycler (`GET /recyclers`); 422 otherwise"})
    method = ma.fields.String(required=True, validate=validate.OneOf(METHODS))
    organisation_id = ma.fields.Integer(strict=True, allow_none=True, validate=_ID, metadata={
        "description": "Hand over for this organisation (its owner or buyer): it is credited"})

    @ma.validates_schema(skip_on_field_errors=True)
    def _plausible_weight(self, data, **kwargs):
        # The credit is computed from the declared weight: within the estimator's plausible
        # range for the category (a 500 kg "smartphone" would be credited 490 kg).
        errors = validate_fields({"category": data["category"],
                                  "weight_kg": data.get("weight_kg")})
        if errors.get("weight_kg"):
            raise ma.ValidationError(errors["weight_kg"], "weight_kg")


class OutcomeSchema(ma.Schema):
    parts_harvested = ma.fields.Integer(required=True, strict=True,
                                        validate=validate.Range(0, 10_000))
    materials_recovered_g = ma.fields.Integer(required=True, strict=True,
                                              validate=validate.Range(0, 10**9), metadata={
        "description": "Mass of materials recovered for recycling, grams"})
    note = ma.fields.String(load_default=None, allow_none=True,
                            validate=validate.Length(max=2000))


class RecyclingHandoverSchema(ma.Schema):
    id = ma.fields.Integer()
    user_id = ma.fields.Integer()
    organisation_id = ma.fields.Integer(allow_none=True)
    recycler_id = ma.fields.Integer()
    category = ma.fields.String()
    condition = ma.fields.String(metadata={"enum": list(CONDITIONS)})
    device = ma.fields.String()
    weight_kg = ma.fields.Float(allow_none=True)
    method = ma.fields.String(metadata={"enum": list(METHODS)})
    status = ma.fields.String(metadata={"enum": [s.value for s in HandoverStatus]})
    parts_harvested = ma.fields.Integer(allow_none=True)
    materials_recovered_g = ma.fields.Integer(allow_none=True)
    outcome_note = ma.fields.String(allow_none=True)
    credit_g = ma.fields.Integer(allow_none=True, metadata={
        "description": "Recycling credit, integer grams CO2e (central; set when recycled)"})
    credit_low_g = ma.fields.Integer(allow_none=True)
    credit_high_g = ma.fields.Integer(allow_none=True)
    methodology_version = ma.fields.String(allow_none=True)
    created_at = ma.fields.AwareDateTime()
    received_at = ma.fields.AwareDateTime(allow_none=True)
    confirmed_at = ma.fields.AwareDateTime(allow_none=True)


RecyclingHandoverPageSchema = page_schema(RecyclingHandoverSchema)


class RecyclingHandoverListArgsSchema(PageArgsSchema):
    recycler_id = ma.fields.Integer(validate=_ID, metadata={
        "description": "A recycler you belong to: the handovers it received (default: yours)"})
