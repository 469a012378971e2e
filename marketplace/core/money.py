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


# Minor-unit exponent where it is not 2 (ISO 4217 list one, every code of ``_CODES``):
# amounts are integers of these units.
_EXPONENT = {**dict.fromkeys(["BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG",
                              "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF"], 0),
             **dict.fromkeys(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"], 3)}

# Approximate value of one unit in euros (ECB reference rates, rounded, late 2026 order of
# magnitude). Used only to compare a price with a credit floor set in euros; never to
# convert money that is paid. A currency not listed has no floor applied (documented).
APPROX_EUR_PER_UNIT = {
    "EUR": 1.0, "USD": 0.92, "GBP": 1.17, "CHF": 1.05, "SEK": 0.088, "NOK": 0.086,
    "DKK": 0.134, "PLN": 0.23, "CZK": 0.040, "HUF": 0.0025, "RON": 0.20, "BGN": 0.51,
    "CAD": 0.67, "AUD": 0.60, "NZD": 0.55, "JPY": 0.0061, "CNY": 0.13, "HKD": 0.12,
    "SGD": 0.69, "KRW": 0.00066, "INR": 0.011, "BRL": 0.17, "MXN": 0.050, "TRY": 0.027,
}


def approx_eur_minor(amount: int, currency: str) -> int | None:
    """``amount`` (minor units of ``currency``) as approximate euro cents, or None when no
    rate is known. For comparisons with thresholds only."""
    rate = APPROX_EUR_PER_UNIT.get(currency.upper())
    if rate is None:
        return None
    units = amount / 10 ** _EXPONENT.get(currency.upper(), 2)
    return round(units * rate * 100)


def format_money(amount: int, currency: str) -> str:
    """``52000, "EUR"`` → ``"520.00 EUR"`` (for messages and notifications, not for sums)."""
    exponent = _EXPONENT.get(currency.upper(), 2)
    if exponent == 0:
        return f"{amount} {currency.upper()}"
    whole, part = divmod(abs(amount), 10**exponent)
    sign = "-" if amount < 0 else ""
    return f"{sign}{whole}.{part:0{exponent}d} {currency.upper()}"
