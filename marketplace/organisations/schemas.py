"""Request and response schemas for organisations."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate, validates_schema

from marketplace.core.http.cursors import MAX_BIGINT
from marketplace.core.http.pagination import page_schema
from marketplace.organisations.models import CERTIFICATION_SCHEMES, MemberStatus, OrgKind, Role

KINDS = [k.value for k in OrgKind]
ROLES = [r.value for r in Role]


class OrganisationInSchema(ma.Schema):
    name = ma.fields.String(required=True, validate=validate.Length(min=2, max=200))
    country = ma.fields.String(required=True, validate=validate.Regexp(
        r"^[A-Z]{2}$", error="Must be an ISO 3166-1 alpha-2 country code (e.g. FR)."))
    kind = ma.fields.String(required=True, validate=validate.OneOf(KINDS), metadata={
        "description": "company, public_body, school, ngo or recycler (a recycler receives "
                       "handovers once an admin has verified it)"})


class CertificationSchema(ma.Schema):
    scheme = ma.fields.String(required=True, validate=validate.OneOf(CERTIFICATION_SCHEMES))
    certificate_id = ma.fields.String(required=True, validate=validate.Length(min=1, max=100))
    valid_until = ma.fields.Date(load_default=None, allow_none=True)


class CertificationOutSchema(CertificationSchema):
    valid_until = ma.fields.String(allow_none=True, metadata={"format": "date"})


class VerifySchema(ma.Schema):
    certifications = ma.fields.List(ma.fields.Nested(CertificationSchema), required=True,
                                    validate=validate.Length(min=1, max=10))


class OrganisationSchema(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    country = ma.fields.String()
    kind = ma.fields.String(metadata={"enum": KINDS})
    verified = ma.fields.Boolean(metadata={"description": "Recyclers: verified by an admin"})
    verified_at = ma.fields.AwareDateTime(allow_none=True)
    certifications = ma.fields.List(ma.fields.Nested(CertificationOutSchema))
    created_at = ma.fields.AwareDateTime()

    class Meta:
        ordered = True


OrganisationPageSchema = page_schema(OrganisationSchema)


class InviteSchema(ma.Schema):
    user_id = ma.fields.Integer(strict=True, validate=validate.Range(1, MAX_BIGINT))
    email = ma.fields.Email(validate=validate.Length(max=254))
    role = ma.fields.String(required=True, validate=validate.OneOf(ROLES), metadata={
        "description": "owner (manages members, acts), buyer (lists and buys for the "
                       "organisation) or viewer (reads reports)"})

    @validates_schema
    def _one_of(self, data, **kwargs):
        if ("user_id" in data) == ("email" in data):
            raise ma.ValidationError("Give exactly one of user_id and email.", "user_id")


class MembershipSchema(ma.Schema):
    id = ma.fields.Integer()
    organisation_id = ma.fields.Integer()
    user_id = ma.fields.Integer(allow_none=True)
    role = ma.fields.String(metadata={"enum": ROLES})
    status = ma.fields.String(metadata={"enum": [s.value for s in MemberStatus]})
    created_at = ma.fields.AwareDateTime()
    accepted_at = ma.fields.AwareDateTime(allow_none=True)


MembershipPageSchema = page_schema(MembershipSchema)


class OrgAccountSchema(ma.Schema):
    organisation_id = ma.fields.Integer()
    balance_g = ma.fields.Integer(metadata={"description": "Integer grams CO2e credited to "
                                                           "the organisation, net of reversals"})
    balance_kgco2e = ma.fields.Float()
