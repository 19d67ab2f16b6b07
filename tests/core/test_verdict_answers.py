"""Situations in plain words get the checklist's verdict first, through the real engine (local
embedder, embedded index of knowledge/, real Redis), with and without a language model."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

import pytest

from bot.answer import CONTRADICTION_NOTE, Advisor
from bot.checklist.stance import argues_elsewhere
from bot.config import LLMSettings
from bot.deps import Deps
from bot.llm.chat import ChatClient, build_openai_client
from bot.models import AnswerEvent, DeltaEvent, DoneEvent, Question
from bot.ops.metrics import Metrics
from tests.support.openai_server import OpenAIServer

pytestmark = pytest.mark.slow

BRAND_VOICE = "Marketing wants every answer in our brand voice. We have about 50 example posts."
HR_FAQ = (
    "We are building an internal FAQ assistant for HR. Policies change every month. "
    "We have no labelled examples."
)


async def collect(stream: AsyncIterator[AnswerEvent]) -> list[AnswerEvent]:
    return [event async for event in stream]


def done_of(events: Sequence[AnswerEvent]) -> DoneEvent:
    assert isinstance(events[-1], DoneEvent)
    return events[-1]


def section(answer: str, heading: str) -> list[str]:
    """The bullet lines under a bold heading of the answer."""
    after = answer.split(heading, 1)[1]
    lines = []
    for line in after.splitlines()[1:]:
        if line.startswith("**"):
            break
        if line.startswith("- "):
            lines.append(line[2:])
    return lines


def llm_advisor(deps: Deps, server: OpenAIServer, metrics: Metrics | None = None) -> Advisor:
    settings = LLMSettings(api_key="sk-test", base_url=server.url, chat_model="test-model")
    chat = ChatClient(build_openai_client(settings), "test-model", max_retries=0)
    return Advisor(
        deps.retriever,
        chat,
        deps.memory,
        deps.verdicts,
        min_score=deps.settings.retrieval.min_score,
        max_question_chars=2000,
        metrics=metrics,
    )


async def test_brand_voice_gets_prompting_first_before_any_guidance(knowledge_deps: Deps) -> None:
    events = await collect(knowledge_deps.advisor.respond(Question(text=BRAND_VOICE)))
    done = done_of(events)
    assert "".join(e.text for e in events if isinstance(e, DeltaEvent)) == done.answer
    assert done.answer.startswith("**Recommendation: Prompting first** (provisional)")
    assert done.assessment is not None
    assert done.assessment.outcome == "prompting_first"
    facts = {f.question_id: f for f in done.assessment.facts}
    assert facts["examples"].option_id == "tens"
    assert "50 example posts" in facts["examples"].evidence
    assert "about 50 example posts" in done.answer  # the evidence is quoted to the user
    # The guidance shown as support never argues for fine-tuning; such lines are set apart.
    supporting = section(done.answer, "**What the guidance says**")
    assert supporting
    assert not any(argues_elsewhere(line, "prompting_first") for line in supporting)
    assert any("prompt" in line.lower() for line in supporting)
    firm_up = section(done.answer, "**To firm this up**")
    assert 1 <= len(firm_up) <= 3
    assert done.answer.index("**Recommendation") < done.answer.index("**What the guidance says**")
    assert done.answer.index("**What the guidance says**") < done.answer.index(
        "**To firm this up**"
    )
    assert done.citations and all(f"[{c.n}]" in done.answer for c in done.citations)


async def test_hr_faq_gets_rag_and_not_fine_tuning(knowledge_deps: Deps) -> None:
    done = done_of(await collect(knowledge_deps.advisor.respond(Question(text=HR_FAQ))))
    assert done.assessment is not None
    assert done.assessment.outcome == "prompting_rag"
    assert done.answer.startswith("**Recommendation: Prompting + RAG**")
    supporting = section(done.answer, "**What the guidance says**")
    assert not any(argues_elsewhere(line, "prompting_rag") for line in supporting)
    assert "brand voice" not in " ".join(supporting).lower()


@pytest.mark.parametrize("text", ["What is LoRA?", "How is prompting different from fine-tuning?"])
async def test_a_question_without_a_situation_gets_no_verdict(
    knowledge_deps: Deps, text: str
) -> None:
    done = done_of(await collect(knowledge_deps.advisor.respond(Question(text=text))))
    assert done.assessment is None
    assert "Recommendation:" not in done.answer
    assert done.answer.startswith("*Extractive answer*")


async def test_follow_ups_add_to_the_same_assessment(knowledge_deps: Deps) -> None:
    assert knowledge_deps.memory is not None
    key = "advisor:conv:T9:C9:1700000000.000900"
    advisor = knowledge_deps.advisor
    first = done_of(
        await collect(advisor.respond(Question(text=BRAND_VOICE, conversation_key=key)))
    )
    assert first.assessment is not None and "eval_set" in first.assessment.missing
    second = done_of(
        await collect(
            advisor.respond(Question(text="we also have an eval set now", conversation_key=key))
        )
    )
    assert second.assessment is not None
    kept = {f.question_id: f.option_id for f in second.assessment.facts}
    assert kept["examples"] == "tens"  # read from the first message, remembered
    assert kept["eval_set"] == "yes"  # read from the follow-up
    assert "eval_set" not in second.assessment.missing
    history = await knowledge_deps.memory.load(key)
    assert {f.question_id for f in history.facts} >= {"examples", "eval_set", "failure_type"}
    # A follow-up that describes nothing new keeps the facts and gets an ordinary answer.
    third = done_of(
        await collect(advisor.respond(Question(text="What is LoRA?", conversation_key=key)))
    )
    assert third.assessment is None
    assert len((await knowledge_deps.memory.load(key)).facts) == len(history.facts)


async def test_with_a_model_the_prompt_carries_the_verdict_and_the_engine_writes_it(
    knowledge_deps: Deps, openai_server: OpenAIServer
) -> None:
    openai_server.set_reply("Prompting fits: a system prompt and a few examples carry a voice [1].")
    done = done_of(
        await collect(
            llm_advisor(knowledge_deps, openai_server).respond(Question(text=BRAND_VOICE))
        )
    )
    assert done.mode == "llm"
    assert done.answer.startswith("**Recommendation: Prompting first**")
    assert "Prompting fits" in done.answer
    assert "**To firm this up**" in done.answer
    prompt = str(openai_server.requests_to("chat")[-1].json["messages"][-1]["content"])
    assert "<verdict>" in prompt and "Prompting first" in prompt
    assert "about 50 example posts" in prompt
    assert CONTRADICTION_NOTE not in done.notes


async def test_a_generated_answer_that_contradicts_the_verdict_is_caught(
    knowledge_deps: Deps, openai_server: OpenAIServer
) -> None:
    openai_server.set_reply(
        "Honestly, you should fine-tune a LoRA adapter on those posts right away [1]."
    )
    metrics = Metrics()
    done = done_of(
        await collect(
            llm_advisor(knowledge_deps, openai_server, metrics).respond(Question(text=BRAND_VOICE))
        )
    )
    assert done.assessment is not None and done.assessment.outcome == "prompting_first"
    assert done.answer.startswith("**Recommendation: Prompting first**")  # the verdict stands
    assert CONTRADICTION_NOTE in done.notes
    assert metrics.contradictions._value.get() == 1


async def test_invented_citations_are_removed_and_counted(
    knowledge_deps: Deps, openai_server: OpenAIServer
) -> None:
    openai_server.set_reply("Start with the prompt [1] and measure it [2]. Per the study [42].")
    metrics = Metrics()
    advisor = llm_advisor(knowledge_deps, openai_server, metrics)
    events = await collect(
        advisor.respond(Question(text="When is prompting enough for strict JSON output?"))
    )
    done = done_of(events)
    assert done.mode == "llm"
    assert "[42]" not in done.answer and "[1]" in done.answer
    assert "".join(e.text for e in events if isinstance(e, DeltaEvent)) == done.answer
    assert metrics.invented_citations._value.get() == 1


async def test_a_lone_surrogate_in_the_question_is_answered(knowledge_deps: Deps) -> None:
    # A Slack body can carry "\udcff"; the embedder and Redis need encodable text.
    done = done_of(
        await collect(knowledge_deps.advisor.respond(Question(text="what is lora \udcff rank")))
    )
    assert done.mode in ("extractive", "no_match")
    assert "\udcff" not in done.answer
