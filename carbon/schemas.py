"""Response schemas of a footprint estimate, shared by the estimator API and listings."""

from __future__ import annotations

import marshmallow as ma


class RangeSchema(ma.Schema):
    low = ma.fields.Float()
    central = ma.fields.Float()
    high = ma.fields.Float()


class MatchedReferenceSchema(ma.Schema):
    manufacturer = ma.fields.String()
    name = ma.fields.String()
    source_url = ma.fields.String()


class EstimateSchema(ma.Schema):
    embodied_kgco2e = ma.fields.Nested(RangeSchema)
    avoided_kgco2e = ma.fields.Nested(RangeSchema)
    method = ma.fields.String(metadata={"enum": ["reference", "model", "category-default"]})
    matched_reference = ma.fields.Nested(MatchedReferenceSchema, allow_none=True)
    methodology_version = ma.fields.String()
    assumptions = ma.fields.Dict()
