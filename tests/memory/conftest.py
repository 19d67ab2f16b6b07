"""Make the shared Redis fixtures available even before the top-level conftest registers them."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest


def pytest_configure(config: pytest.Config) -> None:
    # A no-op when tests/conftest.py already lists the plugin in `pytest_plugins`.
    config.pluginmanager.import_plugin("tests.support.redis_fixtures")


@pytest.fixture
def closed_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (bound once, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture
def hung_port() -> Iterator[int]:
    """A TCP port that accepts connections (kernel backlog) but never answers: a hung server."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        yield sock.getsockname()[1]
