"""Read-only views resolve the bearer token as a row (accounts.services, core.hotread): the
same token, the same refusals, at once, as the ORM path every other view takes."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from marketplace.accounts.models import ApiToken, User
from marketplace.core.db import db
from marketplace.core.dbtypes import utcnow
from tests.factories import assert_error_shape, create_listing, make_user


def _apply(app, user_id: int, change: str) -> None:
    """Through the ORM, as the app's own writes go (the response cache forgets the user's
    private copies on them; a statement typed by hand would leave them for up to
    ACCOUNT_CACHE_SECONDS)."""
    now = utcnow()
    with app.app_context():
        tokens = db.session.scalars(select(ApiToken).where(ApiToken.user_id == user_id))
        if change == "revoked":
            for token in tokens:
                token.revoked_at = now
        elif change == "expired":
            for token in tokens:
                token.expires_at = now - timedelta(seconds=1)
        else:
            setattr(db.session.get(User, user_id), f"{change}_at", now)
        db.session.commit()


@pytest.mark.parametrize("change", ["revoked", "expired", "suspended", "closed"])
def test_a_dead_token_is_refused_by_read_only_views_at_once(client, app, change):
    user, headers = make_user(client)
    own = create_listing(client, headers)
    assert client.delete(f"/api/v1/listings/{own['id']}", headers=headers).status_code == 204
    # Alive: the account answers, and the withdrawn listing is shown to its seller only.
    assert client.get("/api/v1/carbon/account", headers=headers).status_code == 200
    assert client.get(f"/api/v1/listings/{own['id']}", headers=headers).status_code == 200
    assert client.get(f"/api/v1/listings/{own['id']}").status_code == 404
    _apply(app, user["id"], change)
    assert_error_shape(client.get("/api/v1/carbon/account", headers=headers), 401)
    # The detail takes an optional token: a dead one is no one, so the listing is hidden.
    assert client.get(f"/api/v1/listings/{own['id']}", headers=headers).status_code == 404
    # The ORM path (a view that may write) agrees.
    assert_error_shape(client.get("/api/v1/users/me", headers=headers), 401)


def test_read_only_views_know_the_caller(client, app):
    user, headers = make_user(client)
    account = client.get("/api/v1/carbon/account", headers=headers).get_json()
    assert account["user_id"] == user["id"]
    with app.app_context():
        token = db.session.query(ApiToken).filter_by(user_id=user["id"]).one()
        assert token.last_used_at is not None  # the use is recorded on this path too
        db.session.rollback()
