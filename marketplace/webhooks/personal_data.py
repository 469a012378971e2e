"""The webhooks feature's share of account erasure (``core.personal_data``).

The delivery log keeps a copy of each event as sent to partners. On closure, what the closed
account wrote or was called in those copies goes, as it does in the app: a message's sender
name and preview in ``message.received`` events (``data.sender_id``). Ids stay (they name
nobody once the account is closed). A delivery still to be retried sends the scrubbed copy.
"""

from __future__ import annotations

from sqlalchemy import select

from marketplace.core.db import db
from marketplace.core.personal_data import SCRUBBED_SENDER
from marketplace.webhooks.models import WebhookDelivery


def erase(user_id: int) -> None:
    sender = WebhookDelivery.payload[("data", "sender_id")].as_integer()
    for delivery in db.session.scalars(select(WebhookDelivery).where(sender == user_id)):
        data = dict((delivery.payload or {}).get("data") or {})
        data.update({k: v for k, v in SCRUBBED_SENDER.items() if k in data})
        delivery.payload = {**delivery.payload, "data": data}
