"""The demo's stand-in for Stripe Connect transfers (workers/demo_stripe.py, ``make run`` only)."""

import asyncio

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from workers import demo_stripe


def test_transfer_is_stripe_shaped_and_labelled_as_a_stand_in():
    transfer = demo_stripe.transfer_from({
        "amount": "80750", "currency": "EUR", "destination": "acct_x",
        "transfer_group": "trade-1", "metadata[payout_id]": "7"})
    assert transfer["id"].startswith("tr_demo_") and transfer["object"] == "transfer"
    assert (transfer["amount"], transfer["currency"], transfer["destination"]) == (
        80750, "eur", "acct_x")
    assert transfer["transfer_group"] == "trade-1" and transfer["livemode"] is False
    assert transfer["metadata"]["payout_id"] == "7"
    assert transfer["metadata"]["reloop_demo_stand_in"] == demo_stripe.STAND_IN


def test_routes_answer_once_per_idempotency_key_and_reject_bad_requests():
    async def scenario():
        app = web.Application()
        app.router.add_post("/v1/transfers", demo_stripe.create_transfer)
        app.router.add_get("/v1/transfers/{id}", demo_stripe.get_transfer)
        async with TestClient(TestServer(app)) as client:
            form = {"amount": "500", "currency": "eur", "destination": "acct_y"}
            first = await client.post("/v1/transfers", data=form,
                                      headers={"Idempotency-Key": "payout-1-transfer"})
            again = await client.post("/v1/transfers", data=form,
                                      headers={"Idempotency-Key": "payout-1-transfer"})
            other = await client.post("/v1/transfers", data=form)
            bad = await client.post("/v1/transfers", data={"currency": "eur"})
            body = await first.json()
            read = await client.get(f"/v1/transfers/{body['id']}")
            missing = await client.get("/v1/transfers/tr_nope")
            return (first.status, body, await again.json(), await other.json(), bad.status,
                    await read.json(), missing.status)

    status, body, again, other, bad, read, missing = asyncio.run(scenario())
    assert status == 200 and again == body and other["id"] != body["id"]
    assert bad == 400 and read == body and missing == 404
