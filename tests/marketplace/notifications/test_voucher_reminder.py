"""``voucher.expiring``: once per voucher, only for available vouchers expiring soon."""

from __future__ import annotations

from datetime import timedelta

from carbon.incentives import vouchers
from marketplace.core.db import db
from tests import factories


def test_reminded_once_when_it_expires_soon(client, app, drain_jobs):
    user, headers = factories.make_user(client)
    with app.app_context():
        soon = vouchers.issue(user["id"], {"percent_off": 10, "expires_days": 2}, "test:1")
        vouchers.issue(user["id"], {"percent_off": 10, "expires_days": 20}, "test:2")
        db.session.commit()
        code = soon.code
        assert vouchers.remind_expiring(timedelta(days=3)) == 1
        assert vouchers.remind_expiring(timedelta(days=3)) == 0  # the job ran twice
    drain_jobs()
    notes = client.get("/api/v1/users/me/notifications", headers=headers).get_json()["items"]
    expiring = [n for n in notes if n["kind"] == "voucher.expiring"]
    assert len(expiring) == 1
    assert code in expiring[0]["body"] and expiring[0]["data"]["code"] == code
