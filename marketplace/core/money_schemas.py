"""Money in the API, one shape everywhere: ``{amount, currency}``, integer minor units and an
upper-case ISO 4217 code.

- ``MoneySchema``: the response shape (``MoneyField`` fills it from two attributes);
- ``MoneyInSchema``: a money value in a request (amount > 0, validated currency);
- ``CurrencyField``: a validated ISO 4217 code in a request.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import validate
from marshmallow.utils import get_value

from marketplace.core.money import ISO_4217, MAX_AMOUNT


class CurrencyField(ma.fields.String):
    def __init__(self, **kwargs: Any):
        super().__init__(validate=validate.OneOf(
            sorted(ISO_4217), error="Not an ISO 4217 currency code (e.g. EUR, USD, CNY)."),
            metadata={"description": "ISO 4217 currency code", "example": "EUR"}, **kwargs)


class MoneySchema(ma.Schema):
    """An amount of money: integer minor units (cents) and an ISO 4217 code."""

    amount = ma.fields.Integer(required=True, metadata={
        "description": "Integer amount in minor units of `currency` (e.g. cents)",
        "example": 52000})
    currency = ma.fields.String(required=True, metadata={
        "description": "ISO 4217 currency code, upper case", "example": "EUR"})

    class Meta:
        ordered = True


class MoneyInSchema(ma.Schema):
    """A positive amount of money in a request."""

    amount = ma.fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1, max=MAX_AMOUNT),
        metadata={"description": "Integer amount in minor units (cents), > 0"})
    currency = CurrencyField(required=True)


class NonNegativeMoneyInSchema(ma.Schema):
    """An amount of money in a request that may be zero (e.g. free shipping)."""

    amount = ma.fields.Integer(
        required=True, strict=True, validate=validate.Range(min=0, max=MAX_AMOUNT),
        metadata={"description": "Integer amount in minor units (cents), >= 0"})
    currency = CurrencyField(required=True)


def money(amount: int | None, currency: str | None) -> dict[str, Any] | None:
    """``{amount, currency}`` (currency upper case), or None when either is missing."""
    if amount is None or currency is None:
        return None
    return {"amount": int(amount), "currency": str(currency).upper()}


class MoneyField(ma.fields.Nested):
    """A response field shown as ``MoneySchema``, read from an amount attribute (the field's
    own name unless ``amount`` is given) and a currency attribute (``currency``)."""

    def __init__(self, amount: str | None = None, currency: str = "currency", **kwargs: Any):
        super().__init__(MoneySchema, **kwargs)
        self.amount_attr = amount
        self.currency_attr = currency

    def serialize(self, attr: str, obj: Any, accessor=None, **kwargs: Any):
        amount = get_value(obj, self.amount_attr or self.attribute or attr)
        currency = get_value(obj, self.currency_attr)
        if amount is ma.missing or currency is ma.missing:
            return None
        return money(amount, currency)
