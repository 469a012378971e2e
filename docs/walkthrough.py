#!/usr/bin/env python3
"""The README walk-through as a script (standard library only), against a running ``make run``.

A fresh buyer registers; the seeded seller Alice lists a device; the buyer finds it, offers,
Alice accepts; the buyer buys, pays on the local Stripe (attaching ``pm_card_visa`` and
confirming the PaymentIntent, as Stripe.js would), Alice ships, the buyer confirms; Alice's
payout is transferred (by the demo's stand-in for Connect transfers, ``workers/demo_stripe.py``);
the buyer's carbon account is credited, rewards are read, and a catalogue voucher is redeemed
when the points cover it. Every run uses a new buyer, a new listing and new Idempotency-Keys,
so it can be run again and again against the same server.

    make run                                   # in one terminal
    .venv/bin/python docs/walkthrough.py       # in another

Options: ``--base`` (default http://127.0.0.1:5000), ``--stripe`` (default ``$LOCALSTRIPE_URL``
or http://127.0.0.1:8420), ``--wait`` (seconds per asynchronous step, default 30),
``--skip-payout``. Exits non-zero with a message on any unexpected answer.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

DEMO_STRIPE_KEY = "sk_test_reloop_demo"  # workers/demo.py
SELLER = ("alice@reloop.test", "alice-demo-password")  # marketplace/cli.py DEMO_USERS
TIMEOUT = 10


class WalkthroughError(RuntimeError):
    pass


def _request(method: str, url: str, *, body: bytes | None = None,
             headers: dict[str, str] | None = None) -> tuple[int, object]:
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT) as resp:
            status, raw = resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    except OSError as exc:
        raise WalkthroughError(f"{method} {url}: cannot connect ({exc})") from None
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, raw.decode(errors="replace")


class Api:
    def __init__(self, base: str) -> None:
        self.base = base.rstrip("/")

    def call(self, method: str, path: str, token: str | None = None, json_body=None,
             expect: tuple[int, ...] = (200,), idempotent: bool = False) -> object:
        headers = {"Accept": "application/json"}
        body = None
        if json_body is not None:
            body = json.dumps(json_body).encode()
            headers["Content-Type"] = "application/json"
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if idempotent:
            headers["Idempotency-Key"] = f"walkthrough-{uuid.uuid4().hex}"
        status, data = _request(method, self.base + path, body=body, headers=headers)
        if status not in expect:
            raise WalkthroughError(f"{method} {path}: expected {'/'.join(map(str, expect))}, "
                                   f"got {status}: {json.dumps(data)[:500]}")
        return data


class Stripe:
    """The buyer's client side of the payment, done by Stripe.js in a browser."""

    def __init__(self, base: str) -> None:
        self.base = base.rstrip("/")
        auth = base64.b64encode(f"{DEMO_STRIPE_KEY}:".encode()).decode()
        self.headers = {"Authorization": f"Basic {auth}"}

    def post(self, path: str, form: dict[str, str] | None = None) -> dict:
        body = urllib.parse.urlencode(form or {}).encode()
        status, data = _request("POST", self.base + path, body=body, headers={
            **self.headers, "Content-Type": "application/x-www-form-urlencoded"})
        if status != 200:
            raise WalkthroughError(f"localstripe POST {path}: got {status}: "
                                   f"{json.dumps(data)[:500]}")
        return data


def _poll(what: str, read, done, seconds: float) -> object:
    deadline = time.monotonic() + seconds
    while True:
        value = read()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise WalkthroughError(f"{what}: not reached within {seconds:g} s "
                                   f"(last: {json.dumps(value)[:300]})")
        time.sleep(0.5)


def step(message: str) -> None:
    print(f"-- {message}", flush=True)


def _payout(api: Api, seller: str, trade_id: int, wait: float) -> dict:
    """The seller is paid by a Connect transfer (answered by the demo's stand-in on
    localstripe) to the payout account the demo seed gave Alice (accounts come from Stripe
    Connect onboarding, never from a client), then wait for the trade's payout."""
    status, _ = _request("GET", f"{api.base}/api/v1/users/me/payout-account",
                         headers={"Authorization": f"Bearer {seller}"})
    if status != 200:
        raise WalkthroughError(f"GET /api/v1/users/me/payout-account: got {status} (the demo "
                               "seed gives Alice one: run `flask seed`)")

    def read() -> dict | None:
        page = api.call("GET", "/api/v1/users/me/payouts?limit=20", seller)
        return next((p for p in page["items"] if p["trade_id"] == trade_id), None)

    payout = _poll(f"payout for trade {trade_id} settled", read,
                   lambda p: p is not None and p["status"] not in ("pending", "accrued"), wait)
    if payout["status"] != "transferred":
        raise WalkthroughError(f"payout for trade {trade_id} is {payout['status']}, not "
                               "transferred (a Stripe without Connect transfers? "
                               "--skip-payout skips this check)")
    return payout


def run(api: Api, stripe: Stripe, wait: float, payout_check: bool = True) -> str:
    run_id = uuid.uuid4().hex[:10]
    status = api.call("GET", "/healthz")
    step(f"server healthy: {status}")

    email, password = f"buyer-{run_id}@reloop.test", f"walkthrough-{run_id}"
    api.call("POST", "/api/v1/auth/register", json_body={
        "email": email, "password": password, "display_name": f"Buyer {run_id}"},
        expect=(202,))  # the same answer for a taken email: registration reveals no account
    buyer_token = api.call("POST", "/api/v1/auth/tokens", json_body={
        "email": email, "password": password}, expect=(201,))["token"]
    buyer = api.call("GET", "/api/v1/users/me", buyer_token)
    alice = api.call("POST", "/api/v1/auth/tokens", json_body={
        "email": SELLER[0], "password": SELLER[1]}, expect=(201,))["token"]
    step(f"registered buyer {email} (user {buyer['id']}); logged in as {SELLER[0]}")
    address = api.call("POST", "/api/v1/users/me/addresses", buyer_token, {
        "name": f"Buyer {run_id}", "line1": "12 rue de la République", "city": "Lyon",
        "postal_code": "69002", "country": "FR", "phone": "+33 6 12 34 56 78"},
        expect=(201,), idempotent=True)
    step(f"buyer's shipping address {address['id']} ({address['city']}, "
         f"{address['country']}), the default")

    title = f"ThinkPad X1 Carbon Gen 11 walkthrough-{run_id}"
    listing = api.call("POST", "/api/v1/listings", alice, {
        "title": title, "description": "Listed by docs/walkthrough.py.",
        "category": "laptop", "brand": "Lenovo", "model": "ThinkPad X1 Carbon Gen 11",
        "storage_gb": 512, "ram_gb": 16, "screen_inches": 14, "release_year": 2023,
        "condition": "good", "price": {"amount": 90_000, "currency": "EUR"},
        "location": {"city": "Lyon", "country": "FR"}}, expect=(201,), idempotent=True)
    avoided = listing["footprint"]["avoided_kgco2e"]["central"]
    step(f"listed {listing['id']}: {title} at {listing['price']} ({avoided} kg CO2e avoided)")

    query = urllib.parse.urlencode({"q": f"walkthrough-{run_id}", "limit": 5})
    found = _poll("search finds the listing",
                  lambda: api.call("GET", f"/api/v1/listings?{query}"),
                  lambda page: any(i["id"] == listing["id"] for i in page["items"]), wait)
    step(f"search q=walkthrough-{run_id}: {len(found['items'])} result(s)")

    offer = api.call("POST", f"/api/v1/listings/{listing['id']}/offers", buyer_token,
                     {"amount": {"amount": 85_000, "currency": "EUR"}}, expect=(201,),
                     idempotent=True)
    accepted = api.call("POST", f"/api/v1/offers/{offer['id']}/accept", alice,
                        expect=(200, 201), idempotent=True)
    if accepted["status"] != "accepted":
        raise WalkthroughError(f"offer {offer['id']} is {accepted['status']}, not accepted")
    step(f"offer {offer['id']} of {offer['amount']} accepted")

    trade = api.call("POST", "/api/v1/trades", buyer_token,
                     {"listing_id": listing["id"], "offer_id": offer["id"],
                      "fulfilment": "shipping", "shipping_address_id": address["id"]},
                     expect=(201,), idempotent=True)
    pi = trade["payment"]["payment_intent_id"]
    step(f"trade {trade['id']} {trade['status']}, PaymentIntent {pi}")

    stripe.post(f"/v1/payment_intents/{pi}", {"payment_method": "pm_card_visa"})
    confirmed = stripe.post(f"/v1/payment_intents/{pi}/confirm")
    step(f"PaymentIntent confirmed on localstripe: {confirmed.get('status')}")
    _poll(f"trade {trade['id']} paid",
          lambda: api.call("GET", f"/api/v1/trades/{trade['id']}", buyer_token),
          lambda t: t["status"] == "paid", wait)
    step(f"trade {trade['id']} paid (webhook)")

    # A laptop ships only once its seller has declared how its data was wiped.
    api.call("POST", f"/api/v1/trades/{trade['id']}/data-wipe", alice,
             {"method": "nist_800_88_purge", "wiped_on": time.strftime("%Y-%m-%d", time.gmtime())},
             expect=(200,), idempotent=True)
    shipped = api.call("POST", f"/api/v1/trades/{trade['id']}/ship", alice,
                       {"carrier": "la_poste", "tracking_number": f"6A{run_id}"},
                       expect=(200, 201), idempotent=True)
    api.call("POST", f"/api/v1/trades/{trade['id']}/data-wipe/answer", buyer_token,
             {"wiped": True}, expect=(200,), idempotent=True)
    done = api.call("POST", f"/api/v1/trades/{trade['id']}/confirm", buyer_token,
                    expect=(200, 201), idempotent=True)
    if done["status"] != "completed":
        raise WalkthroughError(f"trade {trade['id']} is {done['status']} after confirm")
    step(f"trade {trade['id']} {shipped['status']} then {done['status']}")

    paid_out = "payout not checked"
    if payout_check:
        payout = _payout(api, alice, trade["id"], wait)
        paid_out = (f"Alice paid out {payout['amount']['amount'] / 100:.2f} "
                    f"{payout['amount']['currency']} ({payout['stripe_transfer_id']})")
        step(f"payout for trade {trade['id']} {payout['status']}: {paid_out}")

    account = _poll("buyer's carbon account credited",
                    lambda: api.call("GET", "/api/v1/carbon/account", buyer_token),
                    lambda a: a["credited_trades"] >= 1, wait)
    step(f"carbon account: {account['balance_g']} g credited")

    rewards = _poll("buyer's rewards",
                    lambda: api.call("GET", "/api/v1/rewards", buyer_token),
                    lambda r: r["points_balance"] > 0 or any(r["counts"].values()), wait)
    points = rewards["points_balance"]
    step(f"rewards: {points} points, {rewards['counts']}")

    catalog = api.call("GET", "/api/v1/rewards/catalog?limit=100", buyer_token)["items"]
    affordable = [i for i in catalog if i["cost_points"] <= points]
    if not catalog:
        redeemed = "no catalogue items to redeem (run `flask seed`)"
    elif not affordable:
        cheapest = min(i["cost_points"] for i in catalog)
        redeemed = f"not redeemed: {points} points, the cheapest item costs {cheapest}"
    else:
        item = max(affordable, key=lambda i: i["cost_points"])
        redemption = api.call("POST", "/api/v1/rewards/redeem", buyer_token,
                              {"catalog_item_id": item["id"]}, expect=(201,), idempotent=True)
        redeemed = (f"redeemed {item['name']!r} for {redemption['points_spent']} points: "
                    f"voucher {redemption['voucher']['code']}")
        points = redemption["points_balance"]
    step(redeemed)

    return (f"OK trade {trade['id']} completed: buyer {email} paid "
            f"{trade['amount']['amount'] / 100:.2f} {trade['amount']['currency']}, {paid_out}, "
            f"buyer credited {account['balance_g']} g CO2e, {points} points left; {redeemed}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default="http://127.0.0.1:5000", help="the API's base URL")
    parser.add_argument("--stripe", default=os.environ.get("LOCALSTRIPE_URL",
                                                           "http://127.0.0.1:8420"),
                        help="localstripe's base URL (default: $LOCALSTRIPE_URL or :8420)")
    parser.add_argument("--wait", type=float, default=30.0,
                        help="seconds to wait for asynchronous steps (default 30)")
    parser.add_argument("--skip-payout", action="store_true",
                        help="do not check the seller's payout (for a Stripe without Connect "
                             "transfers, e.g. a bare localstripe)")
    args = parser.parse_args(argv)
    try:
        print(run(Api(args.base), Stripe(args.stripe), args.wait, not args.skip_payout))
    except (WalkthroughError, KeyError, TypeError) as exc:
        print(f"walkthrough FAILED: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
