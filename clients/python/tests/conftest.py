"""The tests run against a real host: PythonClientEndToEndTest (runtime module) starts one and sets
these variables. Without them the tests fail (they never skip): point them at a host of your own
to run them by hand.

PADDOCK_TEST_SERVER      host:port
PADDOCK_TEST_KEY         a key with the default scopes
PADDOCK_TEST_OTHER_KEY   a key of another tenant
PADDOCK_TEST_SMALL_KEY   a key of a tenant allowed 2 sessions
PADDOCK_TEST_NARROW_KEY  a key with the "sessions" scope only
"""
import os

import pytest


def _env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set: run these tests through PythonClientEndToEndTest, or against a host of yours")
    return value


@pytest.fixture(scope="session")
def server() -> str:
    return _env("PADDOCK_TEST_SERVER")


@pytest.fixture(scope="session")
def key() -> str:
    return _env("PADDOCK_TEST_KEY")


@pytest.fixture(scope="session")
def other_key() -> str:
    return _env("PADDOCK_TEST_OTHER_KEY")


@pytest.fixture(scope="session")
def small_key() -> str:
    return _env("PADDOCK_TEST_SMALL_KEY")


@pytest.fixture(scope="session")
def narrow_key() -> str:
    return _env("PADDOCK_TEST_NARROW_KEY")


@pytest.fixture
def client(server, key):
    import paddock
    with paddock.Client(server, api_key=key) as c:
        yield c
