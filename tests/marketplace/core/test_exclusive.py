"""``jobs.exclusive``: one holder per key across processes (Redis), a missed mark that makes
the holder run again, an expiry that frees a killed holder's key; inline, no guard."""

import time

import pytest

from marketplace.core import jobs


@pytest.mark.services
def test_second_caller_is_kept_out_and_the_holder_runs_again(app_ctx):
    missed = []
    with jobs.exclusive("t-exclusive-a", lambda: missed.append("holder")) as renew:
        assert renew is not None
        with jobs.exclusive("t-exclusive-a", lambda: missed.append("second")) as inner:
            assert inner is None  # taken: the second caller does no work
        renew()
        assert missed == []
    assert missed == ["holder"]  # told once, on leaving, that a caller was kept out
    with jobs.exclusive("t-exclusive-a", lambda: missed.append("again")) as renew:
        assert renew is not None  # free again
    assert missed == ["holder"]  # nobody missed it this time


@pytest.mark.services
def test_a_holder_that_never_leaves_frees_the_key_after_its_ttl(app_ctx):
    section = jobs.exclusive("t-exclusive-b", lambda: None, ttl=1)
    assert section.__enter__() is not None  # a holder killed in its section: never exits
    with jobs.exclusive("t-exclusive-b", lambda: None) as inner:
        assert inner is None
    time.sleep(1.2)
    with jobs.exclusive("t-exclusive-b", lambda: None) as inner:
        assert inner is not None


def test_inline_every_caller_gets_in(app, app_ctx, monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", "")  # inline jobs, in both test modes
    with (jobs.exclusive("t-exclusive-c", lambda: None) as outer,
          jobs.exclusive("t-exclusive-c", lambda: None) as inner):
        assert outer is not None and inner is not None
