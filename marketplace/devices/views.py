"""Admin API for device identities: report a device stolen (or clear the report)."""

from __future__ import annotations

from marketplace.core.http.auth import current_user
from marketplace.core.http.blueprint import Blueprint
from marketplace.devices import identity
from marketplace.devices.schemas import StolenResultSchema, StolenSchema

blp = Blueprint("devices", __name__, url_prefix="/api/v1",
                description="Device identities (admin): stolen devices")


@blp.route("/admin/devices/stolen", methods=["POST"])
@blp.auth(role="admin")
@blp.idempotent()
@blp.arguments(StolenSchema)
@blp.response(200, StolenResultSchema)
def report_stolen_device(data):
    """Mark a device (by IMEI or serial number) as reported stolen, or clear it
    (``stolen: false``); audited. Listing a stolen device then fails with a neutral message."""
    kind, value = ("imei", data["imei"]) if data.get("imei") else ("serial",
                                                                   data["serial_number"])
    ident = identity.set_stolen(kind, value, data["stolen"], current_user().id)
    return {"identity_id": ident.id, "kind": ident.kind, "stolen": ident.stolen_at is not None,
            "stolen_at": ident.stolen_at}
