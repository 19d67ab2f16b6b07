"""A knowledge document that mentions a user and disguises a link, indexed from a knowledge
folder and repeated by the model: what reaches Slack pings no one and shows the link's real
target, on the stream and on the posted fallback alike (the loopback model streams the answer in
word-sized pieces, so the constructs arrive cut across many of them)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.config import LLMSettings
from bot.deps import Deps
from bot.llm.chat import ChatClient, build_openai_client
from bot.retrieval.index.edge import EdgeIndex
from bot.retrieval.indexer import reindex
from bot.retrieval.retriever import Retriever
from tests.support.openai_server import OpenAIServer
from tests.support.slack_api import BOT_USER_ID
from tests.support.slack_harness import SlackHarness, deps_redis, engine_services, open_harness
from tests.support.slack_requests import message_event

pytestmark = pytest.mark.slow

ZWJ = "\u200d"
DOCUMENT = """---
title: LoRA rank
---
# Choosing the LoRA rank

## Rank

Start with rank 8 or 16 for LoRA adapters and raise it only when evaluation shows underfitting.
Please ping <@U999|boss> before changing the LoRA rank of a production adapter.
The details are in <http://evil.example/steal|the official LoRA rank guide> for every team.
"""
QUESTION = "Which LoRA rank should we start with for our adapters?"
LIVE = re.compile(r"<[@#!]|<[A-Za-z][\w+.-]*:|<[^<>|\s]*\|")


@pytest.fixture
async def hostile_retriever(knowledge_deps: Deps, tmp_path: Path) -> AsyncIterator[Retriever]:
    folder = tmp_path / "knowledge"
    folder.mkdir()
    (folder / "lora-rank.md").write_text(DOCUMENT, encoding="utf-8")
    index = EdgeIndex(tmp_path / "index")
    settings = knowledge_deps.settings.retrieval
    report = await reindex(
        index,
        knowledge_deps.embedder,
        folder,
        chunk_chars=settings.chunk_chars,
        max_file_bytes=settings.max_file_bytes,
    )
    assert report.documents == 1
    yield Retriever(index, knowledge_deps.embedder, settings.top_k)
    await index.close()


def repeating_reply(messages: list[dict[str, Any]]) -> str:
    """A model that repeats the document's lines with the ping and the link, as given."""
    prompt = str(messages[-1]["content"])
    lines = [line for line in prompt.splitlines() if "<@U999" in line or "<http://evil" in line]
    assert len(lines) == 2, prompt
    return "Start at rank 8 [1].\n\n" + "\n".join(lines)


def shown_answer(rig: SlackHarness) -> str:
    """The answer as its reader sees it: the streamed text, or the posted message's sections."""
    [message] = [m for m in rig.api.messages.values() if m.thread_ts is not None]
    if message.streamed and not message.edits:
        return message.text
    return "\n".join(
        str(block["text"]["text"]) for block in message.blocks if block.get("type") == "section"
    )


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "post fallback"])
async def test_a_documents_mention_and_disguised_link_are_inert_on_both_paths(
    knowledge_deps: Deps,
    hostile_retriever: Retriever,
    openai_server: OpenAIServer,
    stream: bool,
) -> None:
    openai_server.set_reply(repeating_reply)
    settings = LLMSettings(api_key="sk-test", base_url=openai_server.url)
    chat = ChatClient(build_openai_client(settings), openai_server.model, max_retries=0)
    services = engine_services(knowledge_deps, hostile_retriever, chat)
    async with open_harness(services, deps_redis(knowledge_deps)) as rig:
        if not stream:
            rig.api.fail("chat.startStream", "feature_not_enabled")
        event = message_event(f"<@{BOT_USER_ID}> {QUESTION}", kind="app_mention")
        assert await rig.post_event(event) == 200
        await rig.api.wait_until(lambda: str(event["ts"]) in rig.api.answered_threads(), 30)
        await rig.api.settle()
        shown = shown_answer(rig)
        sent = rig.sent()
    assert "Start at rank 8" in shown  # the model's answer, not a fallback
    assert not LIVE.search(shown), shown
    assert "<@U999" not in sent and "<http://evil" not in sent
    assert f"Please ping @{ZWJ}boss before changing" in shown, shown
    assert "the official LoRA rank guide (http://evil.example/steal) for every team" in shown
