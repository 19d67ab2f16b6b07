"""`make bench` load and soak: signed Slack events over real HTTP on loopback, real Redis,
extractive answers. A mix of new questions, Slack retries (same event_id, X-Slack-Retry-Num) and
checklist clicks at concurrency 50; then a soak of BENCH_SOAK_SECONDS with RSS samples.

Checks printed with the figures: every ack under 3 s, every unique question answered exactly once,
no checklist click lost, Redis keys all carrying a TTL, process RSS flat.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import time
from collections import Counter
from functools import partial
from pathlib import Path
from typing import Any

from aiohttp import ClientSession, web
from redis.asyncio import Redis

from bench.stats import percentile
from bot.checklist.state import ChecklistStore
from bot.config import SlackSettings
from bot.deps import Deps
from bot.slack import checklist_blocks as ui
from bot.slack.blocks import CHECKLIST_START
from bot.slack.server import EVENTS_PATH, build_http_app, open_session, prepare_app
from bot.slack.wiring import build_slack_services
from tests.support.slack_api import BOT_USER_ID, TEAM_ID, MockSlackApi
from tests.support.slack_requests import CHANNEL, click_payload, envelope, message_event, sign

SECRET = "bench-load-secret"
EVENTS = int(os.environ.get("BENCH_LOAD_EVENTS", "1000"))
CONCURRENCY = 50
CHECKLISTS = 20
SOAK_SECONDS = float(os.environ.get("BENCH_SOAK_SECONDS", "120"))
QUESTIONS = [
    "Should we fine-tune for strict JSON output?",
    "When is RAG better than fine-tuning?",
    "How many labelled examples do we need for LoRA?",
    "Our policies change every month; what should we do?",
    "Is prompting enough for a support bot?",
]


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Load:
    def __init__(self, session: ClientSession, url: str, api: MockSlackApi) -> None:
        self.session, self.url, self.api = session, url, api
        self.acks: list[float] = []
        self.limiter = asyncio.Semaphore(CONCURRENCY)

    async def post(self, body: str, content_type: str, retry: int | None = None) -> None:
        headers = {"Content-Type": content_type, **sign(body, secret=SECRET)}
        if retry is not None:
            headers |= {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
        async with self.limiter:
            started = time.perf_counter()
            async with self.session.post(self.url, data=body, headers=headers) as response:
                await response.read()
                assert response.status == 200, response.status
            self.acks.append(time.perf_counter() - started)

    async def question(self, n: int) -> tuple[str, str]:
        """A new app_mention; returns (event body, its thread ts) for retries and checks."""
        event = message_event(
            f"<@{BOT_USER_ID}> {QUESTIONS[n % len(QUESTIONS)]}", kind="app_mention"
        )
        body = json.dumps(envelope(event))
        await self.post(body, "application/json")
        return body, str(event["ts"])

    async def click(self, payload: dict[str, Any]) -> None:
        await self.post(f"payload={json.dumps(payload)}", "application/x-www-form-urlencoded")

    def shown(self, message_ts: str) -> list[dict[str, Any]]:
        """The checklist message's current answer buttons (its last post or update)."""
        for call in reversed(self.api.calls):
            ts = call.params.get("ts") if call.method == "chat.update" else call.response.get("ts")
            if ts == message_ts and call.status == 200 and call.params.get("blocks"):
                blocks = call.params["blocks"]
                elements = [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
                return [e for e in elements if e["action_id"].startswith(ui.ANSWER_PREFIX)]
        return []

    async def checklist(self, n: int, clicks: int) -> tuple[str, int]:
        """Start a checklist in its own thread and answer `clicks` steps, one at a time."""
        thread = f"1690001000.{n:06d}"
        posted = len(self.api.calls_to("chat.postMessage"))
        await self.click(click_payload(CHECKLIST_START, "s", message_ts=thread, thread_ts=thread))
        message_ts = ""
        for _ in range(600):  # bounded wait for its own post (others post concurrently)
            mine = [c for c in self.api.calls_to("chat.postMessage")[posted:]
                    if c.params.get("thread_ts") == thread and c.params.get("blocks")]  # fmt: skip
            if mine:
                message_ts = str(mine[0].response["ts"])
                break
            await asyncio.sleep(0.05)
        answered = 0
        for _ in range(clicks):
            options = self.shown(message_ts)
            if not options:
                break
            before = len(self.api.calls_to("chat.update"))
            await self.click(click_payload(
                options[0]["action_id"], options[0]["value"], message_ts=message_ts, thread_ts=thread
            ))  # fmt: skip
            answered += 1
            for _ in range(600):
                updates = self.api.calls_to("chat.update")[before:]
                if any(u.params.get("ts") == message_ts for u in updates):
                    break
                await asyncio.sleep(0.05)
        return thread, answered


async def redis_report(redis: Redis) -> str:
    info = await redis.info("memory")
    prefixes: Counter[str] = Counter()
    no_ttl = 0
    async for key in redis.scan_iter(count=500):
        prefixes[":".join(str(key).split(":")[:2])] += 1
        no_ttl += await redis.ttl(key) == -1
    counts = ", ".join(f"{p} {n}" for p, n in sorted(prefixes.items()))
    return f"used_memory {info['used_memory_human']}; keys: {counts}; keys without TTL: {no_ttl}"


async def run_load(deps: Deps) -> None:
    assert deps.redis is not None
    async with MockSlackApi() as api, open_session() as session:
        settings = SlackSettings(bot_token="xoxb-load", signing_secret=SECRET, api_url=api.url)
        services = build_slack_services(deps)
        app, health, metrics = prepare_app(settings, services, session)
        web_app = build_http_app(
            app, health, metrics, signing_secret=SECRET, inflight=services.inflight
        )
        runner = web.AppRunner(web_app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        try:
            async with ClientSession() as session:
                load = Load(session, f"http://127.0.0.1:{port}{EVENTS_PATH}", api)
                await _burst(load, deps.redis)
                await _soak(load)
        finally:
            await runner.cleanup()


async def _burst(load: Load, redis: Redis) -> None:
    rss_before = rss_mib()
    clicks_each = 10
    unique = EVENTS - CHECKLISTS * (clicks_each + 1) - EVENTS // 5
    if unique < 1:
        raise SystemExit(
            f"BENCH_LOAD_EVENTS={EVENTS} is too few: {CHECKLISTS} checklists of "
            f"{clicks_each + 1} clicks and the retries leave no questions; use 300 or more"
        )
    started = time.perf_counter()
    checklists = [asyncio.create_task(load.checklist(n, clicks_each)) for n in range(CHECKLISTS)]
    sent = await asyncio.gather(*(load.question(n) for n in range(unique)))
    rng = random.Random(3)
    retried = [rng.choice(sent) for _ in range(EVENTS // 5)]
    await asyncio.gather(*(load.post(body, "application/json", retry=1) for body, _ in retried))
    threads = await asyncio.gather(*checklists)
    acked = time.perf_counter() - started
    threads_asked = {ts for _, ts in sent}
    await load.api.wait_until(lambda: threads_asked <= load.api.answered_threads(), within=900)
    await load.api.settle(quiet=1.0, within=60)
    # Streamed or (past Slack's Tier 2 budget) posted and edited: one message per answer.
    answered = Counter(
        str(m.thread_ts) for m in load.api.messages.values() if m.thread_ts in threads_asked
    )
    store = ChecklistStore(redis)
    lost = 0
    for thread, clicks in threads:
        session = await store.load(TEAM_ID, CHANNEL, thread)
        lost += clicks - (len(session.answers) if session else 0)
    total = len(load.acks)
    print(f"\nLoad: {total} signed events over HTTP, concurrency {CONCURRENCY} "
          f"({unique} questions, {len(retried)} Slack retries, "
          f"{sum(c for _, c in threads) + CHECKLISTS} checklist clicks); acked in {acked:.1f} s, "
          f"answered in {time.perf_counter() - started:.1f} s")  # fmt: skip
    acks_ms = [a * 1000 for a in load.acks]
    print(f"  acks: p50 {percentile(acks_ms, 50):.0f} ms, p99 {percentile(acks_ms, 99):.0f} ms, "
          f"max {max(acks_ms):.0f} ms; under 3 s: {sum(a < 3000 for a in acks_ms)}/{total}")  # fmt: skip
    once = sum(answered[ts] == 1 for _, ts in sent)
    print(f"  unique questions answered exactly once: {once}/{unique}; "
          f"answered twice: {sum(n > 1 for n in answered.values())}")  # fmt: skip
    print(f"  checklist clicks lost: {lost} of {sum(c for _, c in threads)}")
    print(f"  Redis: {await redis_report(redis)}")
    print(f"  RSS: {rss_before:.0f} MiB before, {rss_mib():.0f} MiB after")
    load.api.reset()  # the mock records every call; clear it so the soak measures the bot


def _all_answered(load: Load, threads: set[str]) -> bool:
    return threads <= load.api.answered_threads()


async def _soak(load: Load) -> None:
    samples: list[tuple[float, float]] = []
    started = time.perf_counter()
    n = 0
    while (elapsed := time.perf_counter() - started) < SOAK_SECONDS:
        if not samples or elapsed - samples[-1][0] >= SOAK_SECONDS / 12:
            samples.append((elapsed, rss_mib()))
        asked = await asyncio.gather(*(load.question(n + i) for i in range(20)))
        n += 20
        threads = {ts for _, ts in asked}
        await load.api.wait_until(partial(_all_answered, load, threads), within=120)
        load.api.reset()
    samples.append((time.perf_counter() - started, rss_mib()))
    shown = ", ".join(f"{t:.0f}s {r:.0f}" for t, r in samples)
    print(f"\nSoak: {n} questions in {SOAK_SECONDS:.0f} s; RSS MiB by time: {shown}")
    later = [r for t, r in samples if t >= SOAK_SECONDS / 3]
    print(f"  RSS drift after warm-up: {max(later) - min(later):+.0f} MiB")
