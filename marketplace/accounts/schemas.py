from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

# Text that is kept stripped must not be blank ("   " would be stored as ""). The pattern is
# valid in Python (matched from the start) and in OpenAPI (an ECMA regex, searched).
NOT_BLANK = validate.Regexp(r"[\s\S]*\S", error="Must not be blank.")


class RegisterSchema(ma.Schema):
    email = ma.fields.Email(required=True, validate=validate.Length(max=254))
    password = ma.fields.String(required=True, load_only=True,
                                validate=validate.Length(min=10, max=1024))
    display_name = ma.fields.String(required=True,
                                    validate=[validate.Length(min=1, max=80), NOT_BLANK])


class UserSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    email = ma.fields.String(dump_only=True)
    display_name = ma.fields.String(dump_only=True)
    role = ma.fields.String(dump_only=True)
    created_at = ma.fields.AwareDateTime(dump_only=True)
    bio = ma.fields.String(dump_only=True, allow_none=True)
    city = ma.fields.String(dump_only=True, allow_none=True)
    country = ma.fields.String(dump_only=True, allow_none=True)
    locale = ma.fields.String(dump_only=True, allow_none=True)
    currency = ma.fields.String(dump_only=True, allow_none=True,
                                metadata={"description": "Preferred display currency"})
    email_verified = ma.fields.Boolean(dump_only=True, attribute="is_verified")
    email_verified_at = ma.fields.AwareDateTime(dump_only=True, allow_none=True)


class AcceptedSchema(ma.Schema):
    message = ma.fields.String(dump_only=True)


class LoginSchema(ma.Schema):
    email = ma.fields.String(required=True, validate=validate.Length(min=1, max=254))
    password = ma.fields.String(required=True, load_only=True,
                                validate=validate.Length(min=1, max=1024))


class TokenSchema(ma.Schema):
    token = ma.fields.String(dump_only=True)
    expires_at = ma.fields.AwareDateTime(dump_only=True)
