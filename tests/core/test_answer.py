"""Answering through the real engine: the local embedder, the embedded index of knowledge/, a real
Redis for memory, and the real openai client against the loopback server for the LLM paths."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from bot.answer import Advisor, EmptyQuestionError
from bot.config import LLMSettings
from bot.deps import Deps
from bot.llm.chat import ChatClient, build_openai_client
from bot.memory.conversation import ConversationMemory
from bot.memory.embedded_redis import EmbeddedRedis
from bot.models import AnswerEvent, DeltaEvent, DoneEvent, Question, StatusEvent
from tests.support.openai_server import OpenAIServer
from tests.support.redis_fixtures import redis_stopped

pytestmark = pytest.mark.slow
# A general question (no team situation described), so the answer is the plain cited answer;
# tests/core/test_verdict_answers.py covers situations.
JSON_QUESTION = "When should strict JSON output be handled by prompting rather than fine-tuning?"


async def collect(stream: object) -> list[AnswerEvent]:
    return [event async for event in stream]  # type: ignore[attr-defined]


def done_of(events: Sequence[AnswerEvent]) -> DoneEvent:
    assert isinstance(events[-1], DoneEvent)
    assert sum(isinstance(e, DoneEvent) for e in events) == 1
    return events[-1]


def llm_advisor(
    deps: Deps,
    server: OpenAIServer,
    memory: ConversationMemory | None = None,
    **chat_options: float,
) -> Advisor:
    settings = LLMSettings(api_key="sk-test", base_url=server.url, chat_model="test-model")
    chat = ChatClient(build_openai_client(settings), "test-model", **chat_options)  # type: ignore[arg-type]
    return Advisor(
        deps.retriever, chat, memory, deps.verdicts, min_score=0.3, max_question_chars=2000
    )


def ask(advisor: Advisor, text: str) -> object:
    return advisor.respond(Question(text=text))


async def test_extractive_answer_is_cited_and_labelled(knowledge_deps: Deps) -> None:
    events = await collect(knowledge_deps.advisor.respond(Question(text=JSON_QUESTION)))
    done = done_of(events)
    assert done.mode == "extractive"
    assert isinstance(events[0], StatusEvent)
    streamed = "".join(e.text for e in events if isinstance(e, DeltaEvent))
    assert streamed == done.answer
    assert "Extractive answer" in done.answer
    assert "checklist" in done.answer
    assert done.citations
    cited = {c.source for c in done.citations}
    assert cited & {
        "structured-output-json-sql-tools.md",
        "worked-scenarios.md",
        "when-to-fine-tune.md",
        "data-readiness-and-quality.md",
    }
    for citation in done.citations:
        assert f"[{citation.n}]" in done.answer
        assert citation.text and citation.title
    assert done.index_version


async def test_off_topic_question_says_the_guidance_does_not_cover_it(
    knowledge_deps: Deps,
) -> None:
    question = Question(text="What is the best recipe for sourdough pizza in Naples?")
    done = done_of(await collect(knowledge_deps.advisor.respond(question)))
    assert done.mode == "no_match"
    assert "doesn't cover" in done.answer
    assert done.citations == ()


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
async def test_empty_question_is_a_clear_error(knowledge_deps: Deps, text: str) -> None:
    with pytest.raises(EmptyQuestionError, match="Please ask a question"):
        await collect(knowledge_deps.advisor.respond(Question(text=text)))


async def test_very_long_question_is_cut_with_a_note(knowledge_deps: Deps) -> None:
    text = "Should we fine-tune for strict JSON output? " + "x " * 5000
    done = done_of(await collect(knowledge_deps.advisor.respond(Question(text=text))))
    assert any("2000 characters" in note for note in done.notes)


async def test_llm_answer_streams_with_citations(
    knowledge_deps: Deps, openai_server: OpenAIServer
) -> None:
    openai_server.set_reply("Start with prompting and a JSON schema [1]. Measure first [2].")
    advisor = llm_advisor(knowledge_deps, openai_server)
    events = await collect(ask(advisor, JSON_QUESTION))
    done = done_of(events)
    assert done.mode == "llm"
    assert [c.n for c in done.citations] == [1, 2]
    deltas = [e.text for e in events if isinstance(e, DeltaEvent)]
    assert len(deltas) > 1 and "".join(deltas) == done.answer
    request = openai_server.requests_to("chat")[-1].json
    assert request["stream"] is True
    prompt = " ".join(str(m["content"]) for m in request["messages"])
    assert "strict JSON output" in prompt
    assert done.citations[0].text in prompt  # the passages went into the prompt


async def test_llm_rate_limit_is_retried(knowledge_deps: Deps, openai_server: OpenAIServer) -> None:
    openai_server.queue_failure(status=429, headers={"retry-after": "0.1"}, endpoint="chat")
    advisor = llm_advisor(knowledge_deps, openai_server)
    done = done_of(await collect(ask(advisor, JSON_QUESTION)))
    assert done.mode == "llm"
    assert len(openai_server.requests_to("chat")) == 2


async def test_llm_timeout_falls_back_to_extractive_with_a_note(
    knowledge_deps: Deps, openai_server: OpenAIServer
) -> None:
    for _ in range(3):
        openai_server.queue_hang(2.0, endpoint="chat")
    advisor = llm_advisor(knowledge_deps, openai_server, timeout_seconds=0.3, max_retries=1)
    done = done_of(await collect(ask(advisor, JSON_QUESTION)))
    assert done.mode == "extractive"
    assert "the language model did not answer" in done.answer
    assert "no language model configured" not in done.answer
    assert any("language model was unavailable" in note for note in done.notes)
    assert done.citations


async def test_follow_up_remembers_the_conversation(
    knowledge_deps: Deps, openai_server: OpenAIServer, redis_client: object
) -> None:
    assert knowledge_deps.memory is not None
    advisor = llm_advisor(knowledge_deps, openai_server, knowledge_deps.memory)
    key = "advisor:conv:T1:C1:1700000000.000100"
    await collect(advisor.respond(Question(text="What does LoRA change?", conversation_key=key)))
    await collect(
        advisor.respond(Question(text="And how much data do we need?", conversation_key=key))
    )
    second = openai_server.requests_to("chat")[-1].json["messages"]
    contents = [str(m["content"]) for m in second]
    assert any("What does LoRA change?" in c for c in contents)
    history = await knowledge_deps.memory.load(key)
    assert [t.role for t in history.turns] == ["user", "assistant", "user", "assistant"]


async def test_answers_continue_without_memory_when_redis_is_down(
    knowledge_deps: Deps, redis_server: EmbeddedRedis
) -> None:
    memory = ConversationMemory(
        knowledge_deps.redis,  # type: ignore[arg-type]
        ttl_seconds=3600,
        max_turns=10,
        max_tokens=2000,
    )
    advisor = Advisor(
        knowledge_deps.retriever,
        None,
        memory,
        knowledge_deps.verdicts,
        min_score=knowledge_deps.settings.retrieval.min_score,
        max_question_chars=2000,
    )
    question = Question(text="When should we use RAG?", conversation_key="advisor:conv:T:C:1")
    with redis_stopped(redis_server):
        first = done_of(await collect(advisor.respond(question)))
        second = done_of(await collect(advisor.respond(question)))
    assert first.mode == "extractive" and first.citations
    assert any("memory is unavailable" in note for note in first.notes)
    assert not any("memory" in note for note in second.notes)  # said once per outage
    third = done_of(await collect(advisor.respond(question)))
    assert third.citations
    assert (await memory.load("advisor:conv:T:C:1")).turns  # memory works again


async def test_stream_cut_mid_answer_keeps_the_text_and_adds_an_extract(
    knowledge_deps: Deps, openai_server: OpenAIServer
) -> None:
    openai_server.set_reply("Prompting with a schema comes first [1]. " * 20)
    openai_server.queue_stream_cut(after_chunks=3, endpoint="chat")
    advisor = llm_advisor(knowledge_deps, openai_server)
    events = await collect(ask(advisor, JSON_QUESTION))
    done = done_of(events)
    assert done.mode == "extractive"
    assert done.answer.startswith("Prompting with")  # the streamed part is kept
    assert "the language model did not answer" in done.answer
    assert "".join(e.text for e in events if isinstance(e, DeltaEvent)) == done.answer
    assert done.citations
    assert any("language model was unavailable" in note for note in done.notes)
