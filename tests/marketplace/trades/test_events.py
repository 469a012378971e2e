"""A trade's transitions as notifications, conversation lines and carbon notifications."""

from __future__ import annotations


def _kinds(env, headers) -> list[str]:
    resp = env.client.get("/api/v1/users/me/notifications?limit=100", headers=headers)
    return [n["kind"] for n in resp.get_json()["items"]]


def test_a_completed_trade_tells_both_parties(env):
    conv = env.client.post(f"/api/v1/listings/{env.listing['id']}/conversations",
                           headers=env.b).get_json()
    before = env.client.post(f"/api/v1/conversations/{conv['id']}/messages",
                             json={"body": "my number is 06 12 34 56 78"}, headers=env.b)
    assert before.get_json()["flagged"] is True
    trade = env.completed()
    env.drain()
    env.drain()
    buyer, seller = _kinds(env, env.b), _kinds(env, env.s)
    for kind in ("trade.paid", "trade.completed", "carbon.credited"):
        assert buyer.count(kind) == 1 and seller.count(kind) == 1, (kind, buyer, seller)
    assert buyer.count("trade.shipped") == 1 and "trade.shipped" not in seller
    assert seller.count("trade.opened") == 1 and "trade.opened" not in buyer
    notes = env.client.get("/api/v1/users/me/notifications?limit=100",
                           headers=env.b).get_json()["items"]
    credit = next(n for n in notes if n["kind"] == "carbon.credited")
    assert credit["data"]["trade_id"] == trade["id"] and credit["data"]["grams"] > 0
    assert f"{credit['data']['grams']} g CO2e" in credit["body"]
    msgs = env.client.get(f"/api/v1/conversations/{conv['id']}/messages?limit=100",
                          headers=env.s).get_json()["items"]
    lines = [m["event_kind"] for m in reversed(msgs) if m["kind"] == "system"]
    assert lines == ["trade.opened", "trade.paid", "trade.shipped", "trade.completed"]
    after = env.client.post(f"/api/v1/conversations/{conv['id']}/messages",
                            json={"body": "my number is 06 12 34 56 78"}, headers=env.b)
    assert after.get_json()["flagged"] is False  # paid: contact details may be shared
    assert after.get_json()["body"].endswith("06 12 34 56 78")
