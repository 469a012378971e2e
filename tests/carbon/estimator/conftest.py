import pytest

from carbon.estimator import get_estimator


@pytest.fixture(scope="session")
def est():
    return get_estimator()
