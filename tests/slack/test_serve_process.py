"""`advisor serve` as an operator runs it: a real process in HTTP mode on a loopback port,
pointed at the mock Slack Web API through SLACK_API_URL. It answers a signed mention, and on
SIGTERM it stops cleanly: the answer in flight is finished or visibly cancelled, the status line
cleared, the embedded redis-server stopped, exit code 0 within the grace period."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from bot.slack.answering import CANCELLED_NOTE
from tests.support.openai_server import OpenAIServer
from tests.support.serve_process import (
    ServeProcess,
    advisor_env,
    build_index,
    is_running,
    write_knowledge,
)
from tests.support.slack_api import MockSlackApi
from tests.support.slack_harness import statuses, streamed_text
from tests.support.slack_requests import mention, signed_event

pytestmark = pytest.mark.slow
GRACE_SECONDS = 4.0


@pytest.fixture
def knowledge(tmp_path: Path) -> Path:
    return write_knowledge(tmp_path)


async def test_advisor_serve_answers_a_signed_mention_over_http(
    tmp_path: Path, knowledge: Path
) -> None:
    env = advisor_env(tmp_path / "data", knowledge)
    await asyncio.to_thread(build_index, env)
    async with MockSlackApi() as api, ServeProcess(env, slack_api_url=api.url) as serve:
        event = mention("our policies change monthly, should we fine-tune?")
        body, headers = signed_event(event, secret="wrong")
        assert await serve.post(body, headers) == 401
        body, headers = signed_event(event, secret=serve.secret)
        assert await serve.post(body, headers) == 200
        await api.wait_until(lambda: str(event["ts"]) in api.answered_threads(), 90)
    start = api.calls_to("chat.startStream")[0]
    assert start.params["thread_ts"] == event["ts"]
    assert "retrieval" in streamed_text(api).lower()
    assert "xoxb-process-test" not in serve.stderr  # the token never reaches the log


async def test_sigterm_mid_answer_cancels_visibly_and_exits_cleanly(
    tmp_path: Path, knowledge: Path, openai_server: OpenAIServer
) -> None:
    # A slow model keeps the answer in flight: about 15 s of tokens against a 4 s grace period.
    openai_server.set_reply(" ".join(["Use retrieval for facts that change [1]."] * 10))
    openai_server.stream_delay_seconds = 0.25
    env = advisor_env(
        tmp_path / "data",
        knowledge,
        OPENAI_API_KEY="sk-test",
        OPENAI_BASE_URL=openai_server.url,
        ADVISOR_EMBEDDER="openai",
        ADVISOR_EMBED_MODEL="test-embed",
        ADVISOR_SHUTDOWN_GRACE_SECONDS=str(GRACE_SECONDS),
        ADVISOR_MIN_SCORE="0",  # hashed test embeddings: every question is "covered"
    )
    await asyncio.to_thread(build_index, env)
    async with MockSlackApi() as api, ServeProcess(env, slack_api_url=api.url) as serve:
        children = serve.children()
        assert children, "the embedded redis-server runs as a child of advisor serve"
        event = mention("our policies change monthly, should we fine-tune?")
        body, headers = signed_event(event, secret=serve.secret)
        assert await serve.post(body, headers) == 200
        await api.wait_for("chat.startStream", within=60)  # the answer is streaming

        signalled = time.monotonic()
        serve.terminate()
        code = await serve.wait(timeout=GRACE_SECONDS + 10)
        took = time.monotonic() - signalled

    assert code == 0, serve.stderr[-2000:]
    # The grace period covers the answers and closing Redis and the index; the interpreter's own
    # exit comes on top (a second or two on a busy two-core machine).
    assert took <= GRACE_SECONDS + 3.0, took
    assert [pid for pid in children if is_running(pid)] == []
    [message] = api.messages_in(str(event["ts"]))
    assert not message.streaming  # the stream was closed...
    assert CANCELLED_NOTE.strip().strip("_") in message.text  # ...saying why it stopped
    assert statuses(api)[-1] == ""  # and the status line was cleared
