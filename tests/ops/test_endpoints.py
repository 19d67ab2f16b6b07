"""/healthz, /readyz and /metrics scraped over real HTTP, and the metering wrappers."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer
from redis.asyncio import Redis
from slack_sdk.errors import SlackApiError

from bot.config import SlackSettings
from bot.memory.embedded_redis import EmbeddedRedis
from bot.ops.health import HealthChecks
from bot.ops.http import build_ops_app, ops_server
from bot.ops.metrics import Metrics
from bot.retrieval.index.edge import EdgeIndex
from bot.retrieval.index.port import IndexPort
from bot.slack.clients import build_web_client
from tests.support.redis_fixtures import redis_stopped
from tests.support.slack_api import MockSlackApi


@pytest_asyncio.fixture
async def qdrant(tmp_path: Path) -> AsyncIterator[IndexPort]:
    index = EdgeIndex(tmp_path / "index")
    yield index
    await index.close()


async def publish_index(index: IndexPort) -> None:
    build = await index.create_build("20240101-000000-000000", 4, "test", "tester")
    await index.finish_build(build, 0)
    await index.publish(build)


def checks(redis: Redis, index: IndexPort) -> HealthChecks:
    return HealthChecks(redis=redis, index=index)


async def test_readiness_names_what_failed_then_recovers(
    redis_server: EmbeddedRedis, redis_client: Redis, qdrant: IndexPort
) -> None:
    health = checks(redis_client, qdrant)
    async with TestClient(TestServer(build_ops_app(health, Metrics()))) as http:
        assert await (await http.get("/healthz")).text() == "ok"
        response = await http.get("/readyz")
        assert response.status == 503
        assert (await response.json())["failed"] == ["index"]  # Redis and Qdrant are fine

        await publish_index(qdrant)
        response = await http.get("/readyz")
        body = await response.json()
        assert response.status == 200 and body["status"] == "ok" and body["failed"] == []

        with redis_stopped(redis_server):
            response = await http.get("/readyz")
            body = await response.json()
            assert response.status == 503
            assert body["failed"] == ["redis"]
            assert body["checks"]["redis"]["ok"] is False
            # Liveness does not depend on Redis: a restart would not fix an outage.
            assert (await http.get("/healthz")).status == 200
        await redis_client.ping()  # back after the outage
        assert (await http.get("/readyz")).status == 200


async def test_metrics_are_scraped_in_prometheus_format(qdrant: IndexPort) -> None:
    metrics = Metrics()
    metrics.observe_answer("llm", 1.5, 0.3)
    metrics.observe_answer("no_match", 0.2, 0.1)
    metrics.observe_similarity(0.31)
    metrics.count_feedback("helpful")
    metrics.observe_reindex("published", 4.2)
    async with TestClient(TestServer(build_ops_app(None, metrics))) as http:
        response = await http.get("/metrics")
        text = await response.text()
    assert response.status == 200
    assert response.content_type == "text/plain"
    for line in (
        'advisor_questions_answered_total{mode="llm"} 1.0',
        'advisor_questions_answered_total{mode="no_match"} 1.0',
        "advisor_no_match_total 1.0",
        'advisor_feedback_total{rating="helpful"} 1.0',
        'advisor_reindex_runs_total{outcome="published"} 1.0',
        "advisor_retrieval_top_similarity_count 1.0",
        "advisor_time_to_first_text_seconds_count 2.0",
        'advisor_answer_latency_seconds_count{mode="llm"} 1.0',
    ):
        assert line in text


def test_each_metrics_object_has_its_own_registry() -> None:
    first, second = Metrics(), Metrics()  # the global registry would refuse duplicate names
    first.count_feedback("helpful")
    assert b'rating="helpful"' in first.render()[0]
    assert b'rating="helpful"' not in second.render()[0]


async def test_slack_api_errors_are_counted_by_method_and_error() -> None:
    metrics = Metrics()
    async with MockSlackApi() as api:
        settings = SlackSettings(bot_token="xoxb-t", api_url=api.url)
        client = build_web_client(settings, "xoxb-t", metrics=metrics)
        posted = await client.chat_postMessage(channel="C1", text="hi")
        api.fail("chat.postMessage", "not_in_channel")
        with pytest.raises(SlackApiError):
            await client.chat_postMessage(channel="C1", text="hi")
        api.rate_limit("chat.update", retry_after=0)
        await client.chat_update(channel="C1", ts=posted["ts"], text="hi")  # retried, then ok
    text = metrics.render()[0].decode()
    assert (
        'advisor_slack_api_errors_total{error="not_in_channel",method="chat.postMessage"} 1.0'
        in text
    )
    assert 'advisor_slack_api_errors_total{error="ratelimited",method="chat.update"} 1.0' in text


async def test_side_port_serves_the_same_routes(redis_client: Redis, qdrant: IndexPort) -> None:
    await publish_index(qdrant)
    async with ops_server("127.0.0.1", 0, None, None) as disabled:
        assert disabled is None
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    async with (
        ops_server("127.0.0.1", port, checks(redis_client, qdrant), Metrics()),
        aiohttp.ClientSession() as session,
    ):
        async with session.get(f"http://127.0.0.1:{port}/readyz") as response:
            assert response.status == 200
        async with session.get(f"http://127.0.0.1:{port}/metrics") as response:
            assert "advisor_questions_answered" in await response.text()
