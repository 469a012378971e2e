"""Money: integer amounts in minor units plus an ISO 4217 currency code."""

from __future__ import annotations

# Active ISO 4217 currency codes (ISO 4217 list one, 2024 edition), without fund codes
# (BOV, CHE, CHW, CLF, COU, MXV, USN, UYI, UYW), precious metals and testing codes, which
# nothing is priced in.
_CODES = """
AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP
BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP
GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES
KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU
MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON
RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND
TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VED VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR
ZMW ZWG
"""
ISO_4217: frozenset[str] = frozenset(_CODES.split())

# Upper bound on any amount in minor units (fits BIGINT with a wide margin; no device costs
# a trillion of anything).
MAX_AMOUNT = 10**12


def is_currency(code: object) -> bool:
    return isinstance(code, str) and code in ISO_4217


# Stripe's minimum charge per currency (minor units); 50 for currencies not listed (Stripe's
# minimum for USD/EUR and most others). A PaymentIntent below it (or of 0) is refused, so a
# voucher's discount is capped to leave at least this much to pay.
_MIN_CHARGE = {"GBP": 30, "JPY": 50, "HKD": 400, "MXN": 1000, "SEK": 300, "NOK": 300,
               "DKK": 250, "CZK": 1500, "HUF": 17500, "PLN": 200, "RON": 200, "BGN": 100,
               "AED": 200, "INR": 50, "THB": 1000, "SGD": 50, "CAD": 50, "AUD": 50,
               "CHF": 50, "NZD": 50, "BRL": 50, "MYR": 200}


def min_charge(currency: str) -> int:
    """The smallest amount (minor units) Stripe accepts for a charge in ``currency``."""
    return _MIN_CHARGE.get(currency.upper(), 50)
