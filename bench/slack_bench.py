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
from pathlib import Path

from bench.stats import percentile
from tests.support.serve_process import ServeProcess, advisor_env, build_index, is_running
from tests.support.slack_api import MockSlackApi
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


async def _first_text_unloaded(api: MockSlackApi, serve: ServeProcess, count: int) -> list[float]:
    """Event to first streamed text for single events, one at a time (no queueing)."""
    timings = []
    for i in range(count):
        before = len(api.calls_to("chat.startStream"))
        body, headers = signed_event(mention(QUESTIONS[i % len(QUESTIONS)]), secret=serve.secret)
        started = time.perf_counter()
        assert await serve.post(body, headers) == 200
        await api.wait_for("chat.startStream", count=before + 1, within=60)
        timings.append((time.perf_counter() - started) * 1000)
        await api.wait_for("chat.stopStream", count=before + 1, within=60)
    return timings


async def _burst(api: MockSlackApi, serve: ServeProcess) -> tuple[list[float], float, float, int]:
    """(ack ms per event, seconds to ack all, seconds to deliver all, answers delivered)."""
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
    await api.wait_for("chat.stopStream", count=EVENTS, within=600)
    delivered_in = time.perf_counter() - started
    await api.settle(quiet=0.5, within=30)
    finished = {str(c.params.get("thread_ts")) for c in api.calls_to("chat.startStream")}
    delivered = len(finished & set(threads))
    return acks, acked, delivered_in, delivered


async def run_slack_bench(data_dir: Path) -> None:
    env = advisor_env(data_dir, KNOWLEDGE)
    started = time.perf_counter()
    build_index(env)
    print(
        f"\nSlack bench: knowledge/ indexed for `advisor serve` in {time.perf_counter() - started:.1f} s"
    )
    async with MockSlackApi() as api, ServeProcess(env, slack_api_url=api.url) as serve:
        unloaded = await _first_text_unloaded(api, serve, 10)
        print(
            "Slack (separate `advisor serve` process), one event at a time: event to first "
            f"streamed text p50 {statistics.median(unloaded):.0f} ms, max {max(unloaded):.0f} ms"
        )
        api.reset()
        acks, acked, delivered_in, delivered = await _burst(api, serve)
        print(f"Slack, {EVENTS} signed app_mention events at concurrency {CONCURRENCY}:")
        print(
            f"  ack latency p50 {percentile(acks, 50):.1f} ms, p99 {percentile(acks, 99):.1f} ms, "
            f"max {max(acks):.1f} ms (goal p99 < 100 ms); all acked in {acked:.1f} s"
        )
        print(
            f"  answers delivered: {delivered} of {EVENTS}, all in {delivered_in:.1f} s; "
            f"Slack Web API calls: {len(api.calls)}"
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
