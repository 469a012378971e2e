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


def _triple(description: str) -> ma.fields.List:
    return ma.fields.List(ma.fields.Float(), metadata={
        "description": f"{description}: (low, central, high)", "minItems": 3, "maxItems": 3})


class AssumptionsSchema(ma.Schema):
    """The inputs the estimate was computed with (methodology 2027.1)."""

    displacement = _triple("Share of second-hand purchases that displace a new one")
    f_life = _triple("Residual-life factor of the device (expected remaining over new life)")
    age_years = ma.fields.Float(allow_none=True, metadata={
        "description": "Age used; null when unknown"})
    age_source = ma.fields.String(metadata={
        "description": "Where the age comes from (e.g. release_year, model name, unknown)"})
    condition = ma.fields.String()
    lifetime_years = ma.fields.Float(metadata={"description": "Typical first life, years"})
    mean_service_life_years = ma.fields.Float(metadata={
        "description": "Mean total service life (first + second), years"})
    channel = ma.fields.String(metadata={"enum": ["parcel", "local_pickup", "refurbished"]})
    e_trade_kgco2e = _triple("Emissions of the trade's route, kg CO2e")
    reference_year = ma.fields.Integer()
    interval = ma.fields.String(metadata={"description": "Coverage of the ranges, e.g. 80%"})
    reference_match = ma.fields.String(allow_none=True, metadata={
        "description": "How the manufacturer report was matched, when one was"})


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
    assumptions = ma.fields.Nested(AssumptionsSchema)
