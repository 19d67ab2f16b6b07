"""RedisSupervisor against a real embedded redis-server: killed servers come back from their data
file, a server that cannot start is retried a bounded number of times, stopping is final."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
from redis import Redis as SyncRedis

from bot.memory.embedded_redis import EmbeddedRedis, ping_socket
from bot.memory.supervisor import RedisSupervisor

pytestmark = pytest.mark.slow


@pytest.fixture
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sup")


@pytest.fixture
def server(data_dir: Path) -> Iterator[EmbeddedRedis]:
    embedded = EmbeddedRedis(data_dir)
    yield embedded
    embedded.stop()


@pytest.fixture
async def supervisor(server: EmbeddedRedis) -> AsyncIterator[RedisSupervisor]:
    server.start()
    watching = _fast(server)
    watching.start()
    yield watching
    await watching.stop()


def _fast(server: EmbeddedRedis, attempts: int = 5) -> RedisSupervisor:
    return RedisSupervisor(
        server, interval=0.05, attempts=attempts, backoff_base=0.05, backoff_cap=0.2
    )


def _client(url: str) -> SyncRedis:
    return SyncRedis.from_url(url, decode_responses=True, socket_timeout=2)


def _pid(data_dir: Path) -> int:
    return int((data_dir / "redis.pid").read_text())


async def _until(condition: Callable[[], bool], within: float) -> None:
    started = time.monotonic()
    while not await asyncio.to_thread(condition):
        assert time.monotonic() - started < within, "condition not met in time"
        await asyncio.sleep(0.02)


async def _restarted(
    supervisor: RedisSupervisor, server: EmbeddedRedis, data_dir: Path, killed: int, count: int
) -> None:
    """Wait for restart number `count`: a new server (another pid) answers on the socket."""
    await _until(lambda: supervisor.restarts == count, within=10)
    assert ping_socket(server.socket_path, timeout=5) is True
    assert _pid(data_dir) != killed


async def test_a_killed_server_is_restarted_with_every_acknowledged_write(
    server: EmbeddedRedis,
    supervisor: RedisSupervisor,
    data_dir: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="bot.memory.supervisor")
    with _client(server.url) as client:
        assert client.config_get("appendonly") == {"appendonly": "yes"}
        for n in range(500):  # dedupe keys, written just before the crash
            client.set(f"advisor:seen:Ev{n}", "1", nx=True, ex=3600)
    killed = _pid(data_dir)

    os.kill(killed, signal.SIGKILL)
    await _restarted(supervisor, server, data_dir, killed, count=1)

    with _client(server.url) as client:
        assert client.dbsize() == 500
        assert client.set("advisor:seen:Ev499", "1", nx=True, ex=3600) is None  # still a dupe
        assert 0 < client.ttl("advisor:seen:Ev0") <= 3600
    assert supervisor.running and server.owned
    messages = [record.getMessage() for record in caplog.records]
    assert any(f"pid {killed} killed by signal 9" in m for m in messages)
    assert any("restarted from its data file" in m for m in messages)


async def test_it_keeps_restarting_after_each_crash(
    server: EmbeddedRedis, supervisor: RedisSupervisor, data_dir: Path
) -> None:
    for crash in (1, 2, 3):
        killed = _pid(data_dir)
        os.kill(killed, signal.SIGKILL)
        await _restarted(supervisor, server, data_dir, killed, count=crash)
        assert supervisor.restarts == crash


async def test_a_server_that_cannot_start_is_retried_a_bounded_number_of_times(
    server: EmbeddedRedis, data_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="bot.memory.supervisor")
    server.start()
    watching = _fast(server, attempts=3)
    watching.start()
    try:
        # A crash leaving a data file redis-server refuses to load: every restart fails.
        (data_dir / "appendonly.aof").write_bytes(b"this is not an append-only file\r\n")
        os.kill(_pid(data_dir), signal.SIGKILL)
        await _until(lambda: not watching.running, within=30)
    finally:
        await watching.stop()
    failures = [r for r in caplog.records if "failed" in r.getMessage()]
    assert [r.getMessage()[:16] for r in failures] == [
        "Restart 1 of 3 o",
        "Restart 2 of 3 o",
        "Restart 3 of 3 o",
    ]
    assert "Bad file format reading the append only file" in failures[0].getMessage()
    assert caplog.records[-1].levelno == logging.ERROR
    assert "could not be restarted after 3 attempts" in caplog.records[-1].getMessage()
    assert watching.restarts == 0


async def test_after_stop_a_stopped_server_stays_stopped(
    server: EmbeddedRedis, supervisor: RedisSupervisor
) -> None:
    started = time.monotonic()
    await supervisor.stop()  # what aclose does before stopping the server
    assert time.monotonic() - started < 1.0
    server.stop()
    await asyncio.sleep(0.3)  # several watch intervals
    assert ping_socket(server.socket_path) is None
    assert supervisor.restarts == 0 and not supervisor.running


async def test_a_reused_server_whose_owner_stopped_it_is_taken_over(
    server: EmbeddedRedis, data_dir: Path
) -> None:
    # The CLI reusing the bot's server, say: when the bot exits, the CLI starts its own.
    server.start()
    with _client(server.url) as client:
        client.set("advisor:conv:kept", "turns")
    reuser = EmbeddedRedis(data_dir)
    reuser.start()
    assert not reuser.owned
    watching = _fast(reuser)
    watching.start()
    try:
        server.stop()
        await _until(lambda: reuser.owned and ping_socket(reuser.socket_path) is True, within=10)
        with _client(reuser.url) as client:
            assert client.get("advisor:conv:kept") == "turns"
    finally:
        await watching.stop()
        reuser.stop()
