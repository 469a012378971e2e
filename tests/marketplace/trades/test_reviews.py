"""Reviews: one each, after completion, hidden until both reviewed or the window closed."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from marketplace.core.db import db
from marketplace.core.dbtypes import utcnow
from marketplace.trades.models import Trade
from tests.factories import assert_error_shape, create_listing


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
                          headers=env.s).get_json() == []
    assert len(env.client.get(f"/api/v1/trades/{trade['id']}/reviews",
                              headers=env.b).get_json()) == 1
    profile = env.client.get(f"/api/v1/users/{env.seller['id']}").get_json()
    assert profile["rating"] is None and profile["review_count"] == 0
    assert _review(env, trade, env.s, 5, "Quick payment").status_code == 201
    profile = env.client.get(f"/api/v1/users/{env.seller['id']}").get_json()
    assert profile["rating"] == 4.0 and profile["review_count"] == 1
    assert profile["sold_count"] == 1
    public = env.client.get(f"/api/v1/users/{env.buyer['id']}/reviews").get_json()
    assert [(r["rating"], r["author_role"], r["published"]) for r in public] == [
        (5, "seller", True)]


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
