"""The weekly digest: its schedule, exactly one post with two app instances sharing one Redis,
nothing posted when nothing is new, and the loop stopping with the server. Weeks pass on a fake
clock; the gaps service is the real one (local embedder, embedded index of knowledge/)."""

from __future__ import annotations

import asyncio
import dataclasses
import socket
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import pytest
from redis.asyncio import Redis

from bot.config import SlackSettings
from bot.deps import Deps
from bot.gaps.digest import CLAIM_PREFIX, DigestSchedule, Poster, WeeklyDigest
from bot.gaps.recorder import GapRecorder
from bot.gaps.service import GapService
from bot.gaps.wiring import build_digest, build_gap_service
from bot.memory.gaps import GapLog, GapRecord
from bot.slack.digest import digest_poster, digest_running
from bot.slack.server import serve
from tests.conftest import make_settings
from tests.gaps.conftest import FakeClock, at
from tests.support.slack_api import MockSlackApi
from tests.support.slack_harness import SlackHarness, open_harness, scripted_services

ADMIN_CHANNEL = "CADMIN01"
MONDAY_9 = DigestSchedule(weekday="mon", hour=9)


@pytest.mark.parametrize(
    ("now", "slot"),
    [
        ("2026-11-30T09:00:00", "2026-11-30T09:00:00"),  # Monday 09:00 exactly
        ("2026-11-30T08:59:59", "2026-11-23T09:00:00"),  # a second early: last week's
        ("2026-12-03T15:00:00", "2026-11-30T09:00:00"),  # Thursday
        ("2026-12-06T23:59:00", "2026-11-30T09:00:00"),  # Sunday night
        ("2027-01-03T09:30:00", "2026-12-28T09:00:00"),  # across a year
    ],
)
def test_the_slot_is_the_latest_scheduled_time(now: str, slot: str) -> None:
    assert MONDAY_9.slot(at(now)) == at(slot)


def test_other_days_and_hours() -> None:
    assert DigestSchedule(weekday="fri", hour=17).slot(at("2026-12-03T10:00:00")) == at(
        "2026-11-27T17:00:00"
    )
    assert DigestSchedule(weekday="sun", hour=0).slot(at("2026-12-06T00:00:00")) == at(
        "2026-12-06T00:00:00"
    )


class Replica:
    """One app instance: its own Bolt app and mock Slack, its own digest, the shared Redis."""

    def __init__(self, harness: SlackHarness, digest: WeeklyDigest) -> None:
        self.harness = harness
        self.digest = digest

    def posts(self) -> list[str]:
        return [str(c.params["text"]) for c in self.harness.api.calls_to("chat.postMessage")]


async def _record(log: GapLog, clock: FakeClock, gap_id: str, question: str) -> None:
    await log.add(
        GapRecord(gap_id=gap_id, kind="no_match", question=question, created_at=clock.time())
    )


@pytest.fixture
async def replicas(
    knowledge_deps: Deps, redis_client: Redis
) -> AsyncIterator[tuple[list[Replica], GapLog, FakeClock]]:
    clock = FakeClock(at("2026-11-25T12:00:00"))  # a Wednesday
    log = GapLog(redis_client)
    async with AsyncExitStack() as stack:
        built = []
        for _ in range(2):
            service = GapService(
                GapRecorder(log, clock=clock.time),
                knowledge_deps.retriever,
                similarity=0.25,
                clock=clock,
            )
            digest = WeeklyDigest(service, redis_client, MONDAY_9, ADMIN_CHANNEL, clock=clock)
            services = scripted_services(redis_client)
            harness = await stack.enter_async_context(open_harness(services, redis_client))
            built.append(Replica(harness, digest))
        yield built, log, clock


async def _tick_all(replicas: list[Replica]) -> list[str]:
    return await asyncio.gather(
        *(r.digest.tick(_poster(r)) for r in replicas)  # the same poster `serve` uses
    )


def _poster(replica: Replica) -> Poster:
    return digest_poster(replica.harness.app.client, ADMIN_CHANNEL)


@pytest.mark.slow
async def test_one_digest_a_week_from_exactly_one_replica(
    replicas: tuple[list[Replica], GapLog, FakeClock],
) -> None:
    instances, log, clock = replicas
    await _record(log, clock, "a", "Can we fine-tune a model on our X-ray images?")
    await _record(log, clock, "b", "how do I train a vision model on product photos")
    await _record(
        log, clock, "c", "Who is catering the offsite lunch on Friday? <!here> https://x.io"
    )
    assert sorted(await _tick_all(instances)) == ["not_due", "not_due"]  # Wednesday
    clock.now = at("2026-11-30T09:00:30")
    outcomes = await _tick_all(instances)
    assert sorted(outcomes) == ["posted", "taken"]
    posts = [text for r in instances for text in r.posts()]
    assert len(posts) == 1
    [text] = posts
    assert "3 gaps since 2026-11-23 09:00 UTC" in text
    assert "2 × " in text and "1 × " in text  # the two vision questions are one topic
    assert "closest document:" in text
    # Link free, and nothing in a user's question pings anyone.
    assert "https://" not in text and "<!here>" not in text and "(link)" in text
    call = next(c for r in instances for c in r.harness.api.calls_to("chat.postMessage"))
    assert call.params["channel"] == ADMIN_CHANNEL
    assert call.params["unfurl_links"] in (False, "false", "0")
    # More ticks in the same week post nothing more, on either replica.
    clock.advance(hours=3)
    assert await _tick_all(instances) == ["taken", "taken"]
    assert sum(len(r.posts()) for r in instances) == 1


@pytest.mark.slow
async def test_nothing_is_posted_when_nothing_is_new(
    replicas: tuple[list[Replica], GapLog, FakeClock], redis_client: Redis
) -> None:
    instances, log, clock = replicas
    clock.now = at("2026-11-30T09:01:00")
    assert sorted(await _tick_all(instances)) == ["nothing_new", "taken"]  # an empty week
    await _record(log, clock, "a", "How many GPUs do we need to fine-tune a 70B model?")
    clock.now = at("2026-12-07T09:00:10")
    assert sorted(await _tick_all(instances)) == ["posted", "taken"]
    [first] = [text for r in instances for text in r.posts()]
    assert "1 gap since" in first
    clock.now = at("2026-12-14T09:00:10")  # a week with no new gap
    assert sorted(await _tick_all(instances)) == ["nothing_new", "taken"]
    assert sum(len(r.posts()) for r in instances) == 1
    assert await redis_client.exists(f"{CLAIM_PREFIX}:2026-W51")


@pytest.mark.slow
async def test_a_failed_post_leaves_the_week_to_the_next_tick(
    replicas: tuple[list[Replica], GapLog, FakeClock],
) -> None:
    instances, log, clock = replicas
    await _record(log, clock, "a", "Can we use Llama weights commercially?")
    clock.now = at("2026-11-30T09:00:05")
    first = instances[0]
    first.harness.api.fail("chat.postMessage", "channel_not_found")
    with pytest.raises(Exception, match="channel_not_found"):
        await first.digest.tick(_poster(first))
    assert await instances[1].digest.tick(_poster(instances[1])) == "posted"
    assert len(instances[1].posts()) == 1


@pytest.mark.slow
async def test_the_loop_posts_in_the_background_and_stops_with_the_server(
    replicas: tuple[list[Replica], GapLog, FakeClock],
) -> None:
    instances, log, clock = replicas
    await _record(log, clock, "a", "Does fine-tuning work for Japanese support tickets?")
    clock.now = at("2026-11-30T09:00:05")

    def loops() -> list[asyncio.Task[object]]:
        return [t for t in asyncio.all_tasks() if "WeeklyDigest.run" in repr(t.get_coro())]

    assert loops() == []
    async with AsyncExitStack() as stack:
        for replica in instances:
            await stack.enter_async_context(
                digest_running(replica.digest, replica.harness.app.client, interval=0.01)
            )
        await instances[0].harness.api.wait_until(
            lambda: sum(len(r.posts()) for r in instances) >= 1
        )
        await asyncio.sleep(0.1)  # several more ticks on both
        assert len(loops()) == 2
    assert sum(len(r.posts()) for r in instances) == 1
    assert loops() == []  # both loops ended with the block, as they do when `serve` stops


@pytest.mark.slow
async def test_serve_runs_the_digest_and_stops_it_on_shutdown(
    knowledge_deps: Deps, redis_client: Redis
) -> None:
    """`advisor serve`'s own server function, in HTTP mode, with a digest due at start."""
    clock = FakeClock(at("2026-11-30T09:00:05"))
    log = GapLog(redis_client)
    await _record(log, clock, "a", "Can we use Llama weights commercially?")
    service = GapService(GapRecorder(log), knowledge_deps.retriever, similarity=0.25, clock=clock)
    digest = WeeklyDigest(service, redis_client, MONDAY_9, ADMIN_CHANNEL, clock=clock)
    services = dataclasses.replace(scripted_services(redis_client), gaps=service, digest=digest)
    stop = asyncio.Event()
    async with MockSlackApi() as api:
        settings = SlackSettings(
            bot_token="xoxb-t", signing_secret="s", api_url=api.url, host="127.0.0.1", port=_port()
        )
        task = asyncio.create_task(serve(settings, services, stop=stop, grace_seconds=1))
        [post] = await api.wait_for("chat.postMessage", within=30)
        assert post.params["channel"] == ADMIN_CHANNEL
        assert "Llama weights" in str(post.params["text"])
        stop.set()
        await asyncio.wait_for(task, 10)  # returns: the digest loop stopped with the server
    assert not [t for t in asyncio.all_tasks() if "WeeklyDigest.run" in repr(t.get_coro())]


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
def test_no_admin_channel_no_digest(knowledge_deps: Deps, tmp_path: Path) -> None:
    service = build_gap_service(knowledge_deps)
    assert service is not None
    assert knowledge_deps.settings.admin.admin_channel_id is None
    assert build_digest(knowledge_deps, service) is None
    with_channel = dataclasses.replace(
        knowledge_deps,
        settings=make_settings(
            tmp_path,
            admin={"admin_channel_id": ADMIN_CHANNEL},
            gaps={"digest_day": "Thursday", "digest_hour": 16},
        ),
    )
    digest = build_digest(with_channel, service)
    assert digest is not None
    assert (digest.channel_id, digest.schedule) == (
        ADMIN_CHANNEL,
        DigestSchedule(weekday="thu", hour=16),
    )
