"""HTTP API for a trade's data-wipe declaration and the buyer's answer."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from marketplace.core.http.auth import current_user
from marketplace.core.http.blueprint import Blueprint
from marketplace.devices.wiping import METHODS
from marketplace.trades import data_wipe
from marketplace.trades.schemas import TradeSchema
from marketplace.trades.views import present

blp = Blueprint("trade_data_wipes", __name__, url_prefix="/api/v1",
                description="Trades: data-wipe declarations and the buyer's confirmation")


class WipeDeclarationSchema(ma.Schema):
    method = ma.fields.String(required=True, validate=validate.OneOf(METHODS), metadata={
        "description": "factory_reset_encrypted (factory reset of an encrypted device), "
                       "nist_800_88_clear or nist_800_88_purge (NIST SP 800-88 Rev. 1)"})
    wiped_on = ma.fields.Date(required=True, metadata={"description": "Not in the future"})
    certificate_ref = ma.fields.String(validate=validate.Length(min=1, max=200), metadata={
        "description": "Reference of the wiping tool's certificate, if any"})


class WipeAnswerSchema(ma.Schema):
    wiped = ma.fields.Boolean(required=True, metadata={
        "description": "false: the device came with someone's data (opens a dispute)"})
    note = ma.fields.String(validate=validate.Length(min=1, max=2000))


@blp.route("/trades/<int:trade_id>/data-wipe", methods=["POST"])
@blp.auth()
@blp.idempotent()
@blp.arguments(WipeDeclarationSchema)
@blp.response(200, TradeSchema)
@blp.errors(403, 404)
def declare_data_wipe(data, trade_id):
    """The seller declares how the device's data was wiped (before shipping; required for
    phones, tablets, laptops and desktops)."""
    return present(data_wipe.declare(trade_id, current_user(), data))


@blp.route("/trades/<int:trade_id>/data-wipe/answer", methods=["POST"])
@blp.auth()
@blp.idempotent()
@blp.arguments(WipeAnswerSchema)
@blp.response(200, TradeSchema)
@blp.errors(403, 404, 503)
def answer_data_wipe(data, trade_id):
    """The buyer confirms at receipt that the device came wiped, or reports that it did not
    (``wiped: false`` opens a dispute)."""
    return present(data_wipe.answer(trade_id, current_user(), data["wiped"], data.get("note")))
