"""What each event kind says to a person, and its default channels.

``in_app`` notifications are the rows of ``GET /users/me/notifications`` (and the real-time
stream); ``email`` goes through ``core.mail``; ``push`` is a stored preference only until a
push provider is wired (no device registry exists yet).
"""

from __future__ import annotations

from typing import Any

from marketplace.core.money import format_money

# kind: (title, body template, email by default)
KINDS: dict[str, tuple[str, str, bool]] = {
    "offer.received": ("New offer", "{who} offered {money} for “{title}”.", True),
    "offer.countered": ("Counter-offer", "The seller answered with {money} for “{title}”.",
                        True),
    "offer.accepted": ("Offer accepted", "Your offer of {money} for “{title}” was accepted.",
                       True),
    "offer.declined": ("Offer declined", "Your offer of {money} for “{title}” was declined.",
                       False),
    "offer.expired": ("Offer expired", "The offer of {money} for “{title}” expired.", False),
    "trade.opened": ("Purchase started", "A purchase of “{title}” at {money} was started.",
                     False),
    "trade.paid": ("Payment received", "“{title}” is paid; the money is held in escrow.", True),
    "trade.shipped": ("Shipped", "“{title}” is on its way.", True),
    "trade.delivered": ("Delivered", "“{title}” was delivered.", True),
    "trade.completed": ("Trade complete", "The trade of “{title}” is complete.", True),
    "trade.cancelled": ("Trade cancelled", "The trade of “{title}” was cancelled.", True),
    "trade.refunded": ("Refund", "{money} of the trade of “{title}” was refunded.", True),
    "dispute.opened": ("Dispute opened", "A dispute was opened on “{title}”.", True),
    "dispute.resolved": ("Dispute resolved", "The dispute on “{title}” was resolved.", True),
    "return.requested": ("Return requested", "A return of “{title}” was requested.", True),
    "return.resolved": ("Return settled", "The return of “{title}” was settled.", True),
    "review.received": ("New review", "You were reviewed for “{title}”; the review shows "
                        "once you have reviewed too, or when the review window closes.", False),
    "message.received": ("New message", "{who}: {preview}", False),
    "carbon.credited": ("Carbon credited",
                        "{grams} g CO2e avoided were credited to your carbon account.", False),
    # One per credit and person, all its rewards in words: "50 points and the badge x".
    "reward.earned": ("Rewards earned", "You earned {reward}.", True),
    "voucher.expiring": ("Voucher expiring", "Your voucher {code} expires on {expires}.",
                         True),
}


# Kinds whose text quotes another person (their name and words): exported without it, as the
# conversations export leaves out the other participant's messages; rewritten when that person
# closes their account; never in an email (a copy nobody could take back): EMAIL_INSTEAD.
QUOTES_OTHERS = {"message.received"}
EMAIL_INSTEAD = {"message.received": "You have a new message. Open Reloop to read it."}


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return "…"


def render(kind: str, data: dict[str, Any]) -> tuple[str, str]:
    title, template, _ = KINDS[kind]
    values = _Blank({k: v for k, v in data.items() if isinstance(v, str | int | float)})
    if isinstance(data.get("amount"), int) and isinstance(data.get("currency"), str):
        values["money"] = format_money(data["amount"], data["currency"])
    values.setdefault("title", data.get("listing_title") or "your item")
    values.setdefault("who", data.get("sender_name") or data.get("buyer_name") or "Someone")
    return title, template.format_map(values)


def defaults(kind: str) -> dict[str, bool]:
    return {"in_app": True, "email": KINDS[kind][2], "push": True}
