"""Request and response schemas of notifications."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from marketplace.core.http.pagination import PageArgsSchema
from marketplace.core.money_schemas import MoneyField
from marketplace.notifications.catalog import KINDS


class EarnedRewardSchema(ma.Schema):
    """One reward of a ``reward.earned`` event."""

    reward_id = ma.fields.Integer()
    kind = ma.fields.String(metadata={"description": "points | badge | voucher | tree"})
    points = ma.fields.Integer()
    units = ma.fields.Integer(metadata={"description": "thresholds crossed it stands for"})
    badge = ma.fields.String(allow_none=True)


class EventDataSchema(ma.Schema):
    """What a notification refers to; which fields are present depends on its kind."""

    offer_id = ma.fields.Integer()
    trade_id = ma.fields.Integer()
    listing_id = ma.fields.Integer()
    listing_title = ma.fields.String(allow_none=True)
    buyer_id = ma.fields.Integer()
    seller_id = ma.fields.Integer()
    conversation_id = ma.fields.Integer()
    message_id = ma.fields.Integer()
    sender_id = ma.fields.Integer()
    amount = MoneyField(allow_none=True, metadata={
        "description": "offers and trades: the amount (a refund: the total refunded)"})
    status = ma.fields.String(metadata={"description": "the trade's status after the event"})
    grams = ma.fields.Integer(metadata={"description": "carbon.credited: grams CO2e"})
    reward_id = ma.fields.Integer(metadata={
        "description": "reward.earned of older notifications (one per reward): the reward"})
    rewards = ma.fields.List(ma.fields.Nested(EarnedRewardSchema), metadata={
        "description": "reward.earned: every reward the credit earned the person"})
    reward = ma.fields.String(metadata={
        "description": "reward.earned: those rewards in words"})
    points = ma.fields.Integer(metadata={"description": "reward.earned: their total points"})
    voucher_id = ma.fields.Integer()
    code = ma.fields.String(metadata={"description": "voucher.expiring: the voucher code"})
    expires = ma.fields.String(metadata={"description": "voucher.expiring: when, UTC"})


class NotificationSchema(ma.Schema):
    id = ma.fields.Integer()
    kind = ma.fields.String(metadata={"description": "welcome, or an event kind, e.g. "
                                                     "offer.received, trade.paid"})
    title = ma.fields.String()
    body = ma.fields.String()
    data = ma.fields.Nested(EventDataSchema, allow_none=True, metadata={
        "description": "the event's ids and amounts: what a client links to"})
    created_at = ma.fields.AwareDateTime()
    read_at = ma.fields.AwareDateTime(allow_none=True)


class NotificationArgsSchema(PageArgsSchema):
    unread_only = ma.fields.Boolean(load_default=False)


class MarkedSchema(ma.Schema):
    marked = ma.fields.Integer(metadata={"description": "notifications newly marked read"})


class ChannelsSchema(ma.Schema):
    kind = ma.fields.String(required=True, validate=validate.OneOf(sorted(KINDS)))
    in_app = ma.fields.Boolean()
    email = ma.fields.Boolean()
    push = ma.fields.Boolean(metadata={"description": "stored; delivered once push exists"})


class SettingsSchema(ma.Schema):
    kinds = ma.fields.List(ma.fields.Nested(ChannelsSchema), required=True,
                           validate=validate.Length(max=len(KINDS)))
