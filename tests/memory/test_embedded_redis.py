"""The embedded redis-server: start, reuse, persistence, stale leftovers, clear failures."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis import Redis as SyncRedis

from bot.memory.embedded_redis import EmbeddedRedis, EmbeddedRedisError, ping_socket


@pytest.fixture
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("emb")


@pytest.fixture
def server(data_dir: Path) -> Iterator[EmbeddedRedis]:
    embedded = EmbeddedRedis(data_dir)
    yield embedded
    embedded.stop()


def _client(url: str) -> SyncRedis:
    return SyncRedis.from_url(url, decode_responses=True, socket_timeout=2)


def test_start_answers_on_a_unix_socket(server: EmbeddedRedis, data_dir: Path) -> None:
    url = server.start()

    assert url == f"unix://{data_dir.absolute() / 'redis.sock'}" == server.url
    assert server.owned
    with _client(url) as client:
        assert client.ping()
        assert client.config_get("port") == {"port": "0"}  # nothing listens on TCP
    assert server.start() == url  # idempotent


def test_data_persists_across_stop_and_start(server: EmbeddedRedis, data_dir: Path) -> None:
    with _client(server.start()) as client:
        client.set("advisor:test", "kept")
    server.stop()
    assert ping_socket(server.socket_path) is None
    server.stop()  # idempotent

    again = EmbeddedRedis(data_dir)
    try:
        with _client(again.start()) as client:
            assert client.get("advisor:test") == "kept"
    finally:
        again.stop()


def test_second_instance_reuses_a_running_server(server: EmbeddedRedis, data_dir: Path) -> None:
    url = server.start()
    second = EmbeddedRedis(data_dir)

    assert second.start() == url
    assert not second.owned
    second.stop()  # must leave the first one's server running
    assert ping_socket(server.socket_path) is True

    server.stop()
    assert ping_socket(server.socket_path) is None


def test_stale_socket_and_pid_files_do_not_block_start(data_dir: Path) -> None:
    # What a killed server leaves behind: a socket file nobody listens on, and its pid file.
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(str(data_dir / "redis.sock"))
    stale.close()
    (data_dir / "redis.pid").write_text("999999\n")
    assert ping_socket(data_dir / "redis.sock") is None

    embedded = EmbeddedRedis(data_dir)
    try:
        with _client(embedded.start()) as client:
            assert client.ping()
        assert embedded.owned
    finally:
        embedded.stop()


def test_restarts_a_server_that_died_under_it(server: EmbeddedRedis) -> None:
    url = server.start()
    with _client(url) as client:
        client.shutdown(nosave=True)
    deadline = time.monotonic() + 5
    while ping_socket(server.socket_path) is not None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.start() == url
    assert ping_socket(server.socket_path) is True


def test_too_long_a_path_is_a_clear_error(tmp_path: Path) -> None:
    embedded = EmbeddedRedis(tmp_path / ("d" * 120))
    with pytest.raises(EmbeddedRedisError, match="too long"):
        embedded.start()
