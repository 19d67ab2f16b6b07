"""Slack ack latency and delivery: signed app_mention events over real HTTP on loopback.

The real Bolt app (signature verification on) runs on an aiohttp server; the real engine answers
extractively from the index the bench built; the Slack Web API is the loopback mock the tests use.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time

from aiohttp import ClientSession, web

from bench.stats import percentile
from bot.config import SlackSettings
from bot.deps import Deps
from bot.slack.app import build_app
from bot.slack.server import EVENTS_PATH, build_http_app
from bot.slack.wiring import build_slack_services
from tests.slack.conftest import envelope, message_event, sign
from tests.support.slack_api import BOT_USER_ID, MockSlackApi

EVENTS = 200
CONCURRENCY = 20
SIGNING_SECRET = "bench-signing-secret"
QUESTIONS = [
    "Should we fine-tune for strict JSON output?",
    "When is RAG better than fine-tuning?",
    "How many labelled examples do we need for LoRA?",
    "Our policies change every month; what should we do?",
]


async def _first_stream_times(
    api: MockSlackApi, sent: dict[str, float], seen: dict[str, float]
) -> None:
    """Note when each thread's first streamed text reached the Slack API."""
    index = 0
    while True:
        while index < len(api.calls):
            call = api.calls[index]
            index += 1
            if call.method == "chat.startStream":
                thread = str(call.params.get("thread_ts"))
                seen.setdefault(thread, time.perf_counter())
        await asyncio.sleep(0.002)
        if len(seen) >= len(sent) and sent:
            return


async def run_slack_bench(deps: Deps) -> None:
    async with MockSlackApi() as api:
        settings = SlackSettings(
            bot_token="xoxb-bench", signing_secret=SIGNING_SECRET, api_url=api.url
        )
        app = build_app(settings, build_slack_services(deps))
        runner = web.AppRunner(build_http_app(app), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        url = f"http://127.0.0.1:{port}{EVENTS_PATH}"
        try:
            await _measure(api, url)
        finally:
            await runner.cleanup()


async def _first_text_unloaded(api: MockSlackApi, url: str, count: int = 10) -> list[float]:
    """Event to first streamed text for single events, one at a time (no queueing)."""
    timings = []
    async with ClientSession() as session:
        for i in range(count):
            before = len(api.calls_to("chat.startStream"))
            event = message_event(
                f"<@{BOT_USER_ID}> {QUESTIONS[i % len(QUESTIONS)]}", kind="app_mention"
            )
            body = json.dumps(envelope(event))
            headers = {"Content-Type": "application/json", **sign(body, secret=SIGNING_SECRET)}
            started = time.perf_counter()
            async with session.post(url, data=body, headers=headers) as response:
                await response.read()
            await api.wait_for("chat.startStream", count=before + 1, within=60)
            timings.append((time.perf_counter() - started) * 1000)
            await api.wait_for("chat.stopStream", count=before + 1, within=60)
    return timings


async def _measure(api: MockSlackApi, url: str) -> None:
    unloaded = await _first_text_unloaded(api, url)
    print(
        f"\nSlack, one event at a time: event to first streamed text p50 "
        f"{statistics.median(unloaded):.0f} ms, max {max(unloaded):.0f} ms (extractive answers)"
    )
    api.calls.clear()
    acks: list[float] = []
    sent: dict[str, float] = {}
    seen: dict[str, float] = {}
    limiter = asyncio.Semaphore(CONCURRENCY)
    watcher = asyncio.create_task(_first_stream_times(api, sent, seen))

    async def post(session: ClientSession, i: int) -> None:
        event = message_event(
            f"<@{BOT_USER_ID}> {QUESTIONS[i % len(QUESTIONS)]}", kind="app_mention"
        )
        body = json.dumps(envelope(event))
        headers = {
            "Content-Type": "application/json",
            **sign(body, secret=SIGNING_SECRET),
        }
        async with limiter:
            started = time.perf_counter()
            sent[str(event["ts"])] = started
            async with session.post(url, data=body, headers=headers) as response:
                await response.read()
                assert response.status == 200, response.status
            acks.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    async with ClientSession() as session:
        await asyncio.gather(*(post(session, i) for i in range(EVENTS)))
    acked = time.perf_counter() - started
    await api.wait_for("chat.stopStream", count=EVENTS, within=600)
    delivered = time.perf_counter() - started
    await asyncio.wait_for(watcher, timeout=30)
    await api.settle(quiet=0.5, within=10)
    answers = len(api.calls_to("chat.startStream"))
    first_text = [(seen[ts] - sent[ts]) * 1000 for ts in sent if ts in seen]
    print(f"\nSlack over HTTP: {EVENTS} signed app_mention events, concurrency {CONCURRENCY}")
    print(
        f"  ack latency: p50 {statistics.median(acks):.1f} ms, p99 {percentile(acks, 99):.1f} ms "
        f"(all {EVENTS} acked in {acked:.1f} s; goal p99 < 100 ms)"
    )
    print(f"  answers delivered: {answers} for {EVENTS} unique events")
    print(
        f"  event to first streamed text (extractive, queued behind {CONCURRENCY}-way load): "
        f"p50 {statistics.median(first_text):.0f} ms, p99 {percentile(first_text, 99):.0f} ms; "
        f"all answers done in {delivered:.1f} s"
    )
