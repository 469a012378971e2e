"""The demo's local Stripe: localstripe plus a DEMO-ONLY stand-in for Connect transfers.

localstripe has no Stripe Connect, so ``POST /v1/transfers`` (how sellers are paid) would fail
in ``make run`` and every payout would end ``failed``. This entry point serves localstripe
(same options: ``--port``, ``--from-scratch``) with two extra routes, ``POST /v1/transfers``
and ``GET /v1/transfers/{id}``, that answer like Stripe without moving anything: transfer ids
start ``tr_demo_`` and carry ``metadata[reloop_demo_stand_in]``. A repeated
``Idempotency-Key`` gets the first answer back, as on Stripe. Used only by ``workers/demo.py``
(``make run``); nothing in ``marketplace`` knows about it, and a real ``STRIPE_API_BASE``
bypasses it entirely.
"""

from __future__ import annotations

import itertools
import time
import urllib.parse

from aiohttp import web
from localstripe import server

STAND_IN = "demo stand-in: localstripe has no Connect, nothing was moved"

_transfers: dict[str, dict] = {}
_by_key: dict[str, dict] = {}
_ids = itertools.count(1)


def _form(raw: str) -> dict[str, str]:
    return {k: v[-1] for k, v in urllib.parse.parse_qs(raw, keep_blank_values=True).items()}


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": {"type": "invalid_request_error", "message": message}},
                             status=status)


def transfer_from(form: dict[str, str]) -> dict:
    """A Stripe-shaped transfer object for the posted form (raises ValueError when invalid)."""
    amount = int(form["amount"])
    if amount <= 0 or not form.get("currency") or not form.get("destination"):
        raise ValueError("amount, currency and destination are required")
    metadata = {k[len("metadata["):-1]: v for k, v in form.items()
                if k.startswith("metadata[") and k.endswith("]")}
    metadata["reloop_demo_stand_in"] = STAND_IN
    return {"id": f"tr_demo_{next(_ids):06d}", "object": "transfer", "amount": amount,
            "amount_reversed": 0, "currency": form["currency"].lower(),
            "destination": form["destination"], "transfer_group": form.get("transfer_group"),
            "source_transaction": form.get("source_transaction"),
            "created": int(time.time()), "livemode": False, "reversed": False,
            "description": STAND_IN, "metadata": metadata}


async def create_transfer(request: web.Request) -> web.Response:
    key = request.headers.get("Idempotency-Key")
    if key and key in _by_key:
        return web.json_response(_by_key[key])
    try:
        transfer = transfer_from(_form(await request.text()))
    except (KeyError, ValueError) as exc:
        return _error(400, f"Invalid transfer: {exc}")
    _transfers[transfer["id"]] = transfer
    if key:
        _by_key[key] = transfer
    return web.json_response(transfer)


async def get_transfer(request: web.Request) -> web.Response:
    transfer = _transfers.get(request.match_info["id"])
    return web.json_response(transfer) if transfer else _error(404, "No such transfer")


def main() -> None:
    server.app.router.add_post("/v1/transfers", create_transfer)
    server.app.router.add_get("/v1/transfers/{id}", get_transfer)
    server.start()


if __name__ == "__main__":
    main()
