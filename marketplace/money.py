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
