"""Screen size from model names and model codes, where the naming convention states it.

Sellers type model names, rarely screen sizes. Many product lines encode the diagonal:

- monitors: a letter prefix then the diagonal, e.g. Dell P2419H / U2720Q / SE2216H (24, 27,
  22), Lenovo T27p-10 / G34w-10 / LT2223d (27, 34, 22), HP P24vb G4 / Omen 27c (24, 27),
  LG 27UL500, Samsung S24R350 (27, 24);
- laptops: a stand-alone size (ThinkBook 14, XPS 13, Legion 5 15), Lenovo's "-14"/"-15ISK"
  suffix (IdeaPad 510S-14ISK), ThinkPad letters (T14, X13, T470 = 14, W540 = 15, P71 = 17),
  Dell's four-digit series whose second digit is the size (Latitude 5420 = 14, Precision
  5530 = 15, XPS 9315 = 13), HP's three-digit series (EliteBook 840 = 14, ProBook 450 = 15).

The result is the nominal diagonal (a 23.8-inch panel sold as a "24"): close enough for the
model, whose screen feature is log-scaled. Only the stated convention is read: a name that
does not follow one gives None.
"""

from __future__ import annotations

import re
from functools import lru_cache

_SPLIT = re.compile(r"[\s/,()]+")
_MONITOR_4 = re.compile(r"^[a-z]{1,3}(\d{2})\d{2}[a-z]{0,3}$")      # P2419H, SE2216H
_MONITOR_2 = re.compile(r"^[a-z]{0,3}(\d{2})(?:[a-z]{1,3}\d{0,4}[a-z]{0,2})?(?:-[a-z\d]{1,3})?$")
# ^ T27p-10, Omen 27c, P24vb, LG 27UL500, Samsung S24R350 / LS27A600
_LAPTOP_PLAIN = re.compile(r"^(1[0-8](?:\.\d)?)(?:\"|”|in)?$")         # 14, 15.6
_LENOVO_SUFFIX = re.compile(r"-(1[1-7])[a-z]{0,4}\d?\b")               # 510S-14ISK, C340-15
_LENOVO_CODE = re.compile(r"^(1[1-7])[a-z]{2,4}\d{1,2}$")              # 14ALC05, 15IIL05
_THINKPAD = re.compile(r"\bthinkpad\b(?:\s+(?:edge|yoga))?\s+([txelpwsr])(\d{1,3})[a-z]?\b")
_DELL_4 = re.compile(r"\b(?:latitude|precision|vostro|inspiron|xps)\b(?:\s+1[0-7])?\s+"
                     r"e?[3579]([1-7])\d{2}\b")
_HP_3 = re.compile(r"\b(?:elitebook|probook|zbook)\s+(?:\w+\s+)?[2-9]([3-7])[05]\b")


def _monitor(text: str) -> float | None:
    for tok in _SPLIT.split(text):
        m = _MONITOR_4.match(tok)
        if m is None:
            m = _MONITOR_2.match(tok)
            if m is None or tok.isdigit() or re.fullmatch(r"\d{2}-\d{2}", tok):
                continue          # a bare number is a version, not a size
        v = float(m.group(1))
        if 13 <= v <= 99:
            return v
    for tok in _SPLIT.split(text):       # then a bare size: "UltraSharp 27"
        if re.fullmatch(r"(1[7-9]|[2-9]\d)", tok):
            return float(tok)
    return None


def _laptop(text: str) -> float | None:
    for tok in _SPLIT.split(text):
        m = _LAPTOP_PLAIN.match(tok) or _LENOVO_CODE.match(tok)
        if m:
            return float(m.group(1))
    m = _LENOVO_SUFFIX.search(text)
    if m:
        return float(m.group(1))
    m = _THINKPAD.search(text)
    if m:
        letter, digits = m.groups()
        if letter == "x" and digits == "1":
            return 14.0                       # X1 Carbon / X1 Yoga
        if len(digits) == 2 and 10 <= int(digits) <= 18:
            return float(digits)              # T14, X13, E15
        d = int(digits[0])
        if 2 <= d <= 7:
            return 10.0 + d                   # T470 -> 14, W540 -> 15, P71 -> 17
        return None
    m = _DELL_4.search(text) or _HP_3.search(text)
    if m:
        return 10.0 + int(m.group(1))
    return None


@lru_cache(maxsize=16384)
def screen_from_name(name: str | None, category: str) -> float | None:
    """Nominal screen diagonal (inches) stated by a model name or code, else None."""
    if not name:
        return None
    text = name.lower().replace("\u2011", "-").replace("\u2013", "-")
    if category == "monitor":
        return _monitor(text)
    if category == "laptop":
        return _laptop(text)
    return None
