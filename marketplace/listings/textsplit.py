"""Tokens for scripts written without spaces, for PostgreSQL full text.

PostgreSQL's parser splits words at spaces and punctuation, so "二手苹果手机壳" is one token and
"苹果手机" (a part of it) finds nothing. Runs of such characters (CJK ideographs, kana, Thai,
Lao, Khmer, Myanmar) are therefore indexed as their single characters and their overlapping
pairs, and a query's run becomes its pairs (all required) or, for one character, that
character. Other text is left as it is. SQLite's substring fallback needs none of this.
"""

from __future__ import annotations

import re

# Scripts without spaces between words.
_RUN = re.compile(
    "[\u0e00-\u0eff"          # Thai, Lao
    "\u1000-\u109f"           # Myanmar
    "\u1780-\u17ff"           # Khmer
    "\u3040-\u30ff\u31f0-\u31ff"  # Hiragana, Katakana
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # CJK ideographs
    "\U00020000-\U0002ebef]+")


def _pairs(run: str) -> list[str]:
    return [run[i:i + 2] for i in range(len(run) - 1)]


def document(text: str) -> str:
    """``text`` followed by the characters and pairs of its no-space runs."""
    extra: list[str] = []
    for run in _RUN.findall(text):
        extra.extend(run)
        extra.extend(_pairs(run))
    return f"{text} {' '.join(extra)}" if extra else text


def query(q: str) -> str:
    """``q`` with each no-space run replaced by its pairs (a single character stays)."""
    return _RUN.sub(lambda m: " ".join(_pairs(m.group())) or m.group(), q)
