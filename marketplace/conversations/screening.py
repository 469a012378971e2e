"""Contact details and payment links in messages, masked until the trade is paid.

Asking to pay "by bank transfer, here is my number" is the usual off-platform fraud path: the
buyer pays outside escrow and gets nothing. Before a trade in the conversation is paid,
email addresses, phone numbers, IBANs and payment links are replaced by ``[hidden until
payment]`` and the message is flagged (kept for moderators through the report path).
"""

from __future__ import annotations

import re

MASK = "[hidden until payment]"

_PATTERNS = (
    re.compile(r"[\w.+-]+\s*(?:@|\(at\)|\[at\])\s*[\w-]+(?:\s*(?:\.|\(dot\))\s*[\w-]+)+",
               re.IGNORECASE),
    # Payment links and handles (PayPal.me, Revolut, Wise, Venmo, Cash App, Lydia, Lydia,
    # Bizum, Twint...) with or without a scheme.
    re.compile(r"(?:https?://)?(?:www\.)?(?:paypal\.me|paypal\.com/\S*|revolut\.me|"
               r"wise\.com/pay\S*|venmo\.com|cash\.app|lydia-app\.com|pay\.lydia\S*|"
               r"monzo\.me|buy\.stripe\.com|bizum\S*|twint\S*)(?:/\S*)?", re.IGNORECASE),
    re.compile(r"\b[A-Z]{2}\d{2}(?:\s?[A-Z0-9]{4}){2,7}(?:\s?[A-Z0-9]{1,4})?\b",
               re.IGNORECASE),  # IBAN
    # Phone numbers: 8 or more digits, with spaces, dots, dashes, parentheses, a leading +.
    re.compile(r"(?<![\w])\+?\(?\d(?:[\s().-]*\d){7,14}(?![\w])"),
)


def screen(text: str) -> tuple[str, bool]:
    """``(masked text, whether anything was masked)``."""
    flagged = False
    for pattern in _PATTERNS:
        text, count = pattern.subn(MASK, text)
        flagged = flagged or count > 0
    return text, flagged
