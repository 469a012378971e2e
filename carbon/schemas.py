"""Response schemas of a footprint estimate, shared by the estimator API and listings."""

from __future__ import annotations

import marshmallow as ma


class RangeSchema(ma.Schema):
    low = ma.fields.Float()
    central = ma.fields.Float()
    high = ma.fields.Float()


class IntRangeSchema(ma.Schema):
    low = ma.fields.Integer()
    central = ma.fields.Integer()
    high = ma.fields.Integer()


class MatchedReferenceSchema(ma.Schema):
    manufacturer = ma.fields.String()
    name = ma.fields.String()
    source_url = ma.fields.String()


class EstimateSchema(ma.Schema):
    embodied_kgco2e = ma.fields.Nested(RangeSchema)
    avoided_kgco2e = ma.fields.Nested(RangeSchema)
    ewaste_avoided_g = ma.fields.Nested(IntRangeSchema, metadata={
        "description": "E-waste avoided by the trade, grams (80% interval)"})
    materials_avoided_kg = ma.fields.Nested(RangeSchema, metadata={
        "description": "Raw materials avoided by the trade, kg (80% interval)"})
    method = ma.fields.String(metadata={"enum": ["reference", "model", "category-default"]})
    matched_reference = ma.fields.Nested(MatchedReferenceSchema, allow_none=True)
    methodology_version = ma.fields.String()
    channel = ma.fields.String(metadata={
        "enum": ["parcel", "local_pickup", "refurbished"],
        "description": "Route of the trade used for E_trade"})
    credit_note = ma.fields.String(allow_none=True, metadata={
        "description": "Why no credit is given (e.g. price below the category floor); "
                       "null when the credit stands"})
    assumptions = ma.fields.Dict()
