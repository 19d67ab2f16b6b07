"""Slack acks and delivery with the bot in its own process, as it runs in production.

A separate `advisor serve` (HTTP mode, embedded defaults, extractive answers) indexes knowledge/
in its own data dir and answers signed `app_mention` events over real HTTP on loopback; the Slack
Web API it calls is the loopback mock the tests use, running in this (the load generator's)
process. Measured: event-to-first-text one at a time, then ack latency for EVENTS events at
CONCURRENCY, answers delivered, and how long SIGTERM takes to stop the process.

    python -m bench.slack_bench            # alone; `make bench` runs it with everything else
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from bench.stats import percentile
from tests.support.serve_process import (
    MockSlackProcess,
    ServeProcess,
    advisor_env,
    build_index,
    is_running,
)
from tests.support.slack_requests import mention, signed_event

ROOT = Path(__file__).resolve().parent.parent
KNOWLEDGE = ROOT / "knowledge"
EVENTS = 200
CONCURRENCY = 20
QUESTIONS = [
    "Should we fine-tune for strict JSON output?",
    "When is RAG better than fine-tuning?",
    "How many labelled examples do we need for LoRA?",
    "Our policies change every month; what should we do?",
]


async def _until(mock: MockSlackProcess, done: Callable[[dict[str, Any]], bool]) -> None:
    deadline = time.monotonic() + 600
    while not done(await mock.summary()):
        if time.monotonic() > deadline:
            raise TimeoutError("answers did not arrive")
        await asyncio.sleep(0.05)


def _has(field: str, thread: str, summary: dict[str, Any]) -> bool:
    return thread in summary[field]


async def _first_text_unloaded(
    mock: MockSlackProcess, serve: ServeProcess, count: int
) -> list[float]:
    """Event to an answer's first message in its thread, one event at a time (no queueing)."""
    timings = []
    for i in range(count):
        event = mention(QUESTIONS[i % len(QUESTIONS)])
        thread = str(event["ts"])
        body, headers = signed_event(event, secret=serve.secret)
        started = time.perf_counter()
        assert await serve.post(body, headers) == 200
        await _until(mock, partial(_has, "messages_per_thread", thread))
        timings.append((time.perf_counter() - started) * 1000)
        await _until(mock, partial(_has, "answered", thread))
    return timings


async def _burst(
    mock: MockSlackProcess, serve: ServeProcess
) -> tuple[list[float], float, float, int, dict[str, Any]]:
    """(ack ms per event, seconds to ack all, seconds to deliver all, answers delivered once,
    the mock's summary)."""
    acks: list[float] = []
    limiter = asyncio.Semaphore(CONCURRENCY)
    threads: list[str] = []

    async def post(i: int) -> None:
        event = mention(QUESTIONS[i % len(QUESTIONS)])
        threads.append(str(event["ts"]))
        body, headers = signed_event(event, secret=serve.secret)
        async with limiter:
            started = time.perf_counter()
            status = await serve.post(body, headers)
            acks.append((time.perf_counter() - started) * 1000)
        assert status == 200, status

    started = time.perf_counter()
    await asyncio.gather(*(post(i) for i in range(EVENTS)))
    acked = time.perf_counter() - started
    asked = set(threads)
    await _until(mock, lambda s: asked <= set(s["answered"]))
    delivered_in = time.perf_counter() - started
    await asyncio.sleep(0.5)  # anything still on its way (a duplicate would show now)
    summary = await mock.summary()
    per_thread = summary["messages_per_thread"]
    # Each answer once: one message per thread, streamed or (past Tier 2) posted and edited.
    delivered = sum(per_thread.get(t) == 1 for t in asked & set(summary["answered"]))
    return acks, acked, delivered_in, delivered, summary


async def run_slack_bench(data_dir: Path) -> None:
    env = advisor_env(data_dir, KNOWLEDGE)
    started = time.perf_counter()
    build_index(env)
    print(
        f"\nSlack bench: knowledge/ indexed for `advisor serve` in {time.perf_counter() - started:.1f} s"
    )
    async with MockSlackProcess() as mock, ServeProcess(env, slack_api_url=mock.url) as serve:
        unloaded = await _first_text_unloaded(mock, serve, 10)
        print(
            "Slack (separate `advisor serve` process), one event at a time: event to first "
            f"answer text p50 {statistics.median(unloaded):.0f} ms, max {max(unloaded):.0f} ms"
        )
        acks, acked, delivered_in, delivered, summary = await _burst(mock, serve)
        print(f"Slack, {EVENTS} signed app_mention events at concurrency {CONCURRENCY}:")
        print(
            f"  ack latency p50 {percentile(acks, 50):.1f} ms, p99 {percentile(acks, 99):.1f} ms, "
            f"max {max(acks):.1f} ms (goal p99 < 100 ms); all acked in {acked:.1f} s"
        )
        print(
            f"  answers delivered (complete, once each): {delivered} of {EVENTS}, all in "
            f"{delivered_in:.1f} s; Slack Web API calls: {summary['calls']} "
            f"(streamed messages {summary['streamed']}, 429s {summary['rate_limited']})"
        )
        children = serve.children()
        stop_started = time.perf_counter()
        serve.terminate()
        code = await serve.wait(timeout=60)
        left = [pid for pid in children if is_running(pid)]
        print(
            f"  SIGTERM: exit code {code} after {time.perf_counter() - stop_started:.1f} s; "
            f"child processes left running: {len(left)}"
        )


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="advisor-slack-bench-") as tmp:
        asyncio.run(run_slack_bench(Path(tmp)))


if __name__ == "__main__":
    main()
