"""Reviews: one each, after completion, hidden until both reviewed or the window closed."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from marketplace.core.db import db
from marketplace.core.dbtypes import utcnow
from marketplace.trades.models import Review, Trade
from tests.factories import assert_error_shape, create_listing, make_user


def _review(env, trade, headers, rating=5, comment="Great"):
    return env.post(f"/trades/{trade['id']}/reviews", headers,
                    {"rating": rating, "comment": comment})


def test_reviews_are_hidden_until_both_reviewed_then_rate_the_seller(env):
    trade = env.completed()
    env.listing = create_listing(env.client, env.s, title="Another phone")
    assert_error_shape(_review(env, env.create(), env.b), 409)  # not completed
    first = _review(env, trade, env.b, 4, "As described")
    assert first.status_code == 201 and first.get_json()["published"] is False
    assert_error_shape(_review(env, trade, env.b), 409)
    # The seller does not see the buyer's review yet; the buyer sees their own.
    assert env.client.get(f"/api/v1/trades/{trade['id']}/reviews",
                          headers=env.s).get_json() == {"items": [], "next_cursor": None}
    assert len(env.client.get(f"/api/v1/trades/{trade['id']}/reviews",
                              headers=env.b).get_json()["items"]) == 1
    profile = env.client.get(f"/api/v1/users/{env.seller['id']}").get_json()
    assert profile["rating"] is None and profile["review_count"] == 0
    assert _review(env, trade, env.s, 5, "Quick payment").status_code == 201
    profile = env.client.get(f"/api/v1/users/{env.seller['id']}").get_json()
    assert profile["rating"] == 4.0 and profile["review_count"] == 1
    assert profile["sold_count"] == 1
    public = env.client.get(f"/api/v1/users/{env.buyer['id']}/reviews").get_json()
    assert public["next_cursor"] is None
    assert [(r["rating"], r["author_role"], r["published"]) for r in public["items"]] == [
        (5, "seller", True)]
    # Both published now: a page of one at a time, newest first.
    url = f"/api/v1/trades/{trade['id']}/reviews"
    page = env.client.get(f"{url}?limit=1", headers=env.s).get_json()
    assert [r["author_role"] for r in page["items"]] == ["seller"] and page["next_cursor"]
    rest = env.client.get(f"{url}?limit=1&cursor={page['next_cursor']}",
                          headers=env.s).get_json()
    assert [r["author_role"] for r in rest["items"]] == ["buyer"]
    assert rest["next_cursor"] is None
    assert "cursor" in assert_error_shape(
        env.client.get(f"{url}?cursor=bm9wZQ", headers=env.s), 422)["errors"]


def test_user_reviews_are_paged_newest_first(env):
    trade = env.completed()
    assert _review(env, trade, env.b, 4, "Fine").status_code == 201
    ids = []
    with env.app.app_context():
        for n in range(2):  # more published reviews of the seller (other authors)
            author, _ = make_user(env.client, f"Author {n}")
            review = Review(trade_id=trade["id"], author_id=author["id"],
                            subject_id=env.seller["id"], author_role="buyer", rating=3,
                            comment=f"r{n}", published_at=utcnow())
            db.session.add(review)
            db.session.commit()
            ids.append(review.id)
    url = f"/api/v1/users/{env.seller['id']}/reviews"
    page = env.client.get(f"{url}?limit=1").get_json()
    assert [r["id"] for r in page["items"]] == [ids[1]] and page["next_cursor"]
    rest = env.client.get(f"{url}?limit=1&cursor={page['next_cursor']}").get_json()
    # The buyer's own review is still hidden (the seller has not reviewed): not listed.
    assert [r["id"] for r in rest["items"]] == [ids[0]] and rest["next_cursor"] is None
    assert "cursor" in assert_error_shape(env.client.get(f"{url}?cursor=%21%21"),
                                          422)["errors"]
    assert "limit" in assert_error_shape(env.client.get(f"{url}?limit=500"), 422)["errors"]


def test_leaving_a_review_honours_idempotency_key(env):
    trade = env.completed()
    body = {"rating": 5, "comment": "Smooth"}
    first = env.post(f"/trades/{trade['id']}/reviews", env.b, body, key="rev-1")
    again = env.post(f"/trades/{trade['id']}/reviews", env.b, body, key="rev-1")
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    other = env.post(f"/trades/{trade['id']}/reviews", env.b, {**body, "rating": 1},
                     key="rev-1")
    assert "Idempotency-Key" in assert_error_shape(other, 422)["errors"]
    # Without the key, a second review is refused: the replay did not create one.
    assert_error_shape(env.post(f"/trades/{trade['id']}/reviews", env.b, body), 409)


def test_a_lone_review_shows_when_the_window_closes_and_late_reviews_are_refused(env):
    trade = env.completed()
    _review(env, trade, env.b, 2, "Slow")
    assert_error_shape(env.post(f"/trades/{trade['id']}/reviews", env.s,
                                {"rating": 6}), 422)
    assert_error_shape(env.post(f"/trades/{trade['id']}/reviews", env.s,
                                {"rating": 3, "comment": "x" * 1001}), 422)
    with env.app.app_context():
        db.session.execute(update(Trade).where(Trade.id == trade["id"])
                           .values(review_deadline=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    profile = env.client.get(f"/api/v1/users/{env.seller['id']}").get_json()
    assert profile["rating"] == 2.0 and profile["review_count"] == 1
    body = assert_error_shape(_review(env, trade, env.s), 409)
    assert "window closed" in body["message"]
