"""LLM endpoint faults seen through the real Slack app: the answer falls back to extractive within a
bounded time, the user sees a short note, the log has the reason, the status line is cleared."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable

import pytest

from bot.config import LLMSettings
from bot.deps import Deps
from bot.llm.chat import ChatClient, build_openai_client
from bot.slack.services import SlackServices
from tests.support.openai_server import OpenAIServer
from tests.support.slack_harness import (
    SlackHarness,
    context_texts,
    deps_redis,
    engine_services,
    open_harness,
    statuses,
    streamed_text,
)
from tests.support.slack_requests import message_event

pytestmark = pytest.mark.slow
TIMEOUT = 0.6
FALLBACK_NOTE = "The language model was unavailable"
# Three attempts, each at most TIMEOUT, plus two short back-offs; generous for a loaded machine.
BOUND_SECONDS = 3 * TIMEOUT + 2 * 0.3 + 8


def llm_services(deps: Deps, server: OpenAIServer) -> SlackServices:
    settings = LLMSettings(
        api_key="sk-test-reliability", base_url=server.url, timeout_seconds=TIMEOUT
    )
    chat = ChatClient(
        build_openai_client(settings),
        server.model,
        max_retries=2,
        timeout_seconds=TIMEOUT,
        backoff_base=0.05,
        backoff_cap=0.3,
    )
    return engine_services(deps, chat=chat)


@pytest.fixture
async def llm_rig(knowledge_deps: Deps, openai_server: OpenAIServer) -> AsyncIterator[SlackHarness]:
    async with open_harness(
        llm_services(knowledge_deps, openai_server), deps_redis(knowledge_deps)
    ) as rig:
        yield rig


def dm(text: str) -> dict[str, object]:
    return message_event(text, channel="D0ADVISOR", channel_type="im")


def thrice(queue: Callable[[], None]) -> None:
    for _ in range(3):  # every attempt fails: the first try and both retries
        queue()


FAULTS: dict[str, Callable[[OpenAIServer], None]] = {
    "timeout": lambda s: thrice(lambda: s.queue_hang(5, endpoint="chat")),
    "429": lambda s: thrice(lambda: s.queue_failure(429, {"Retry-After": "0"}, endpoint="chat")),
    "500": lambda s: thrice(lambda: s.queue_failure(500, endpoint="chat")),
    "stream cut": lambda s: s.queue_stream_cut(after_chunks=4, endpoint="chat"),
    # A clean end of body with no finish_reason and no [DONE]: cut off just the same.
    "stream ended early": lambda s: s.queue_stream_end(after_chunks=4, endpoint="chat"),
}
PARTIAL = ("stream cut", "stream ended early")
REASONS = {
    "timeout": "timed out",
    "429": "rate limited (429)",
    "500": "server error 500",
    "stream cut": "stream interrupted after a partial answer",
    "stream ended early": "stream interrupted after a partial answer",
}


@pytest.mark.parametrize("fault", list(FAULTS))
async def test_llm_fault_falls_back_with_a_note_and_clears_the_status(
    llm_rig: SlackHarness, openai_server: OpenAIServer, caplog: pytest.LogCaptureFixture, fault: str
) -> None:
    caplog.set_level(logging.WARNING)
    FAULTS[fault](openai_server)
    started = time.monotonic()
    # A general question (no situation described), so the fallback is the plain extract.
    question = "When is strict JSON output better handled by prompting than by fine-tuning?"
    assert await llm_rig.post_event(dm(question)) == 200
    await llm_rig.api.wait_for("chat.stopStream", within=BOUND_SECONDS)
    assert time.monotonic() - started < BOUND_SECONDS
    await llm_rig.api.settle()

    blocks = context_texts(llm_rig.api)
    assert FALLBACK_NOTE in blocks and REASONS[fault] in blocks
    assert "Extractive answer" in llm_rig.sent() or fault in PARTIAL
    assert statuses(llm_rig.api)[-1] == ""  # the status line was cleared
    assert any(REASONS[fault] in r.getMessage() for r in caplog.records)
    if fault in PARTIAL:
        # The half-streamed model text stays, then the extract follows it.
        assert "The guidance covers \n\n*Extractive answer*" in streamed_text(llm_rig.api)


async def test_one_429_is_retried_after_retry_after_and_the_llm_answers(
    llm_rig: SlackHarness, openai_server: OpenAIServer
) -> None:
    openai_server.queue_failure(429, {"Retry-After": "0.2"}, endpoint="chat")
    assert await llm_rig.post_event(dm("When is RAG better than fine-tuning?")) == 200
    await llm_rig.api.wait_for("chat.stopStream", within=15)
    await llm_rig.api.settle()
    chats = openai_server.requests_to("chat")
    assert len(chats) == 2 and chats[1].at - chats[0].at >= 0.2
    assert FALLBACK_NOTE not in context_texts(llm_rig.api)
    assert "The guidance covers this" in streamed_text(llm_rig.api)
    assert statuses(llm_rig.api)[-1] == ""
