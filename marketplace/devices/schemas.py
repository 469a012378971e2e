"""Schemas shared by features that take a device identity, and the admin API's."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import ValidationError, validate, validates_schema

from marketplace.devices import identity


class IdentityFieldsMixin:
    """``imei`` or ``serial_number`` (write-only: never shown back)."""

    imei = ma.fields.String(load_only=True, validate=validate.Length(max=40), metadata={
        "description": "15-digit IMEI (phones, cellular tablets and watches), Luhn-checked; "
                       "stored only as a keyed hash, never shown"})
    serial_number = ma.fields.String(load_only=True, validate=validate.Length(max=80),
                                     metadata={"description": "Manufacturer serial number; "
                                                              "stored only as a keyed hash"})


def check_identity(data: dict, category: str | None) -> None:
    """Raise field errors for a bad IMEI / serial number (call from ``validates_schema``)."""
    imei, serial = data.get("imei"), data.get("serial_number")
    if imei is not None and serial is not None:
        raise ValidationError("Give an IMEI or a serial number, not both.", "serial_number")
    if imei is not None:
        errors = identity.imei_errors(imei)
        if not errors and category is not None and category not in identity.IMEI_CATEGORIES:
            errors = [f"A {category} has no IMEI; give its serial number."]
        if errors:
            raise ValidationError(errors, "imei")
    if serial is not None and (errors := identity.serial_errors(serial)):
        raise ValidationError(errors, "serial_number")


class StolenSchema(IdentityFieldsMixin, ma.Schema):
    stolen = ma.fields.Boolean(load_default=True, metadata={
        "description": "false clears an earlier report"})

    @validates_schema
    def _one(self, data, **kwargs):
        if data.get("imei") is None and data.get("serial_number") is None:
            raise ValidationError("Give the device's IMEI or serial number.", "imei")
        check_identity(data, None)


class StolenResultSchema(ma.Schema):
    identity_id = ma.fields.Integer()
    kind = ma.fields.String(metadata={"enum": ["imei", "serial"]})
    stolen = ma.fields.Boolean()
    stolen_at = ma.fields.AwareDateTime(allow_none=True)
