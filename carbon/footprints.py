"""HTTP API of the footprint estimator: ``/api/v1/footprints``."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from carbon.estimator import (
    CATEGORIES,
    METHODOLOGY,
    Device,
    estimate,
    validate_fields,
)
from carbon.estimator.parameters import CATEGORY_NAMES, CONDITIONS
from carbon.estimator.trade_params import CHANNELS, DEFAULT_CHANNEL
from carbon.schemas import EstimateSchema, RangeSchema
from marketplace.core.http.api import api
from marketplace.core.http.blueprint import Blueprint

blp = Blueprint("footprints", __name__, url_prefix="/api/v1/footprints",
                description="Avoided-emissions estimates of used devices")


class DeviceSchema(ma.Schema):
    """A device description; specs are checked against per-category plausible ranges."""

    category = ma.fields.String(required=True, validate=validate.OneOf(
        CATEGORY_NAMES, error="Unknown category; valid categories: {choices}."))
    brand = ma.fields.String(required=True, validate=validate.Length(max=200))
    model = ma.fields.String(required=True, validate=validate.Length(max=200))
    storage_gb = ma.fields.Float(allow_none=True)
    ram_gb = ma.fields.Float(allow_none=True)
    screen_inches = ma.fields.Float(allow_none=True)
    release_year = ma.fields.Integer(allow_none=True)
    weight_kg = ma.fields.Float(allow_none=True)
    condition = ma.fields.String(allow_none=True, validate=validate.OneOf(CONDITIONS))
    age_years = ma.fields.Float(allow_none=True)
    battery_health_pct = ma.fields.Float(allow_none=True)
    channel = ma.fields.String(
        load_default=DEFAULT_CHANNEL, validate=validate.OneOf(CHANNELS),
        metadata={"description": "Route of the trade: 'parcel' (default), 'local_pickup', or "
                                 "'refurbished' (professional refurbisher / refurbished "
                                 "listing)"})

    @ma.validates_schema(skip_on_field_errors=True)
    def _plausible(self, data, **kwargs):
        errors = validate_fields(data)
        if errors:
            raise ma.ValidationError(errors)


class CategorySchema(ma.Schema):
    name = ma.fields.String()
    typical_lifetime_years = ma.fields.Float()
    lifetime_range_years = ma.fields.List(ma.fields.Float())
    default_embodied_kgco2e = ma.fields.Nested(RangeSchema)
    default_embodied_source = ma.fields.String()
    modelled = ma.fields.Boolean()
    battery_device = ma.fields.Boolean()
    mean_service_life_years = ma.fields.Float()
    weibull_shape = ma.fields.Float()
    parcel_size_class = ma.fields.String()
    typical_weight_kg = ma.fields.Float()
    price_floor_eur_minor = ma.fields.Integer()


class MethodologySchema(ma.Schema):
    version = ma.fields.String()
    embodied_definition = ma.fields.String()
    avoided_formula = ma.fields.String()
    f_life = ma.fields.String()
    e_trade = ma.fields.String()
    uncertainty = ma.fields.String()
    materials = ma.fields.String()
    credit_integrity = ma.fields.String()
    channels = ma.fields.List(ma.fields.String())
    price_floors_eur_minor = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer())
    methods = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String())
    model = ma.fields.Dict()
    parameters = ma.fields.Raw(metadata={"description": "every parameter with its source"})
    categories = ma.fields.Dict()
    flat_baseline_kgco2e = ma.fields.Dict()
    data = ma.fields.Dict(metadata={"description": "reference data, licence, attribution"})


@blp.route("/estimate", methods=["POST"])
@blp.arguments(DeviceSchema)
@blp.response(200, EstimateSchema)
def estimate_footprint(data):
    """Estimate the embodied footprint of a device and the emissions its resale avoids."""
    return estimate(Device(**data)).to_dict()


@blp.route("/methodology", methods=["GET"])
@blp.response(200, MethodologySchema)
def methodology():
    """Methodology version, parameters with their sources, and the data licence."""
    return METHODOLOGY


@blp.route("/categories", methods=["GET"])
@blp.response(200, CategorySchema(many=True))
def categories():
    """Supported device categories with typical lifetime and default range."""
    return [{"name": name, **info} for name, info in CATEGORIES.items()]


def register(app) -> None:
    api.register_blueprint(blp)
