import pytest


@pytest.fixture(autouse=True)
def _lenient_pair_limit(request, monkeypatch):
    """Rule tests repeat trades between two users; the anti-gaming tests restore the limit."""
    if "app" in request.fixturenames or "app_ctx" in request.fixturenames:
        app = request.getfixturevalue("app")
        monkeypatch.setitem(app.config, "INCENTIVE_PAIR_LIMIT", 1000)
