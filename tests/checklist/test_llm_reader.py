"""The LLM situation reader against the loopback OpenAI-compatible server, with the real openai
client: valid structured output, invalid JSON, a refusal, a timeout and invented evidence."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from bot.checklist.loader import load_checklist, parse_checklist
from bot.checklist.reading.llm import LLMReader, json_schema
from bot.checklist.reading.offline import OfflineReader
from bot.config import LLMSettings
from bot.llm.chat import build_openai_client
from tests.support.openai_server import OpenAIServer

CHECKLIST_PATH = Path(__file__).resolve().parents[2] / "knowledge" / "checklist.yaml"
CHECKLIST = load_checklist(CHECKLIST_PATH)
MESSAGE = "Marketing wants every answer in our brand voice. We have about 50 example posts."


def reply(**answers: tuple[str, str]) -> str:
    """A structured reply: every question unknown except `answers` (option, evidence)."""
    body: dict[str, Any] = {
        "is_situation": True,
        "answers": {q.id: {"option": "unknown", "evidence": ""} for q in CHECKLIST.questions},
    }
    for question_id, (option, evidence) in answers.items():
        body["answers"][question_id] = {"option": option, "evidence": evidence}
    return json.dumps(body)


def reader(server: OpenAIServer, timeout: float = 5.0) -> LLMReader:
    settings = LLMSettings(api_key="sk-test", base_url=server.url, chat_model="test-model")
    return LLMReader(
        CHECKLIST,
        build_openai_client(settings),
        "test-model",
        fallback=OfflineReader(CHECKLIST),
        timeout_seconds=timeout,
    )


async def test_valid_structured_output_becomes_facts(openai_server: OpenAIServer) -> None:
    openai_server.set_reply(
        reply(
            examples=("tens", "about 50 example posts"), failure_type=("behaviour", "brand voice")
        )
    )
    reading = await reader(openai_server).read(MESSAGE)
    assert reading.reader == "llm" and reading.note is None and reading.is_situation
    assert {(f.question_id, f.option_id, f.evidence) for f in reading.facts} == {
        ("examples", "tens", "about 50 example posts"),
        ("failure_type", "behaviour", "brand voice"),
    }
    request = openai_server.requests_to("chat")[-1].json
    schema = request["response_format"]["json_schema"]["schema"]
    assert schema == json_schema(CHECKLIST)
    assert request["response_format"]["json_schema"]["strict"] is True
    assert request["messages"][-1]["content"] == MESSAGE
    assert request.get("stream") in (None, False)


async def test_evidence_that_is_not_in_the_message_is_dropped(openai_server: OpenAIServer) -> None:
    openai_server.set_reply(
        reply(
            examples=("tens", "about 50 example posts"),
            eval_set=("yes", "we have a held-out eval set"),  # never said
        )
    )
    reading = await reader(openai_server).read(MESSAGE)
    assert [f.question_id for f in reading.facts] == ["examples"]


@pytest.mark.parametrize(
    ("setup", "reason"),
    [
        ("invalid_json", "reply is not JSON"),
        ("wrong_option", "reply does not match the schema"),
        ("refusal", "the model refused"),
        ("timeout", "TimeoutError"),
        ("server_error", "InternalServerError"),
    ],
)
async def test_any_failure_falls_back_to_the_offline_reader(
    openai_server: OpenAIServer, caplog: pytest.LogCaptureFixture, setup: str, reason: str
) -> None:
    if setup == "invalid_json":
        openai_server.set_reply('{"is_situation": true, "answers": {"examples": ')
    elif setup == "wrong_option":
        openai_server.set_reply(reply(examples=("loads", "about 50 example posts")))
    elif setup == "refusal":
        openai_server.set_refusal("I can't help with that.")
    elif setup == "timeout":
        openai_server.queue_hang(3.0, endpoint="chat")
    else:
        openai_server.queue_failure(status=500, endpoint="chat")
    with caplog.at_level(logging.WARNING, logger="bot.checklist.reading.llm"):
        reading = await reader(openai_server, timeout=0.5).read(MESSAGE)
    offline = OfflineReader(CHECKLIST).read_now(MESSAGE)
    assert reading.facts == offline.facts and reading.facts  # the offline reading, not nothing
    assert reading.reader == "offline"
    assert reading.note is not None and reason in reading.note
    assert any("falling back" in r.message or "offline reader" in r.message for r in caplog.records)


async def test_a_non_situation_gives_no_facts(openai_server: OpenAIServer) -> None:
    body = json.loads(reply(examples=("tens", "LoRA")))
    body["is_situation"] = False
    openai_server.set_reply(json.dumps(body))
    reading = await reader(openai_server).read("What is LoRA?")
    assert not reading.is_situation and reading.facts == ()


def test_the_schema_follows_the_definition_without_code_changes() -> None:
    text = CHECKLIST_PATH.read_text(encoding="utf-8")
    added = text.replace(
        "      - id: unsure\n        label: Not sure\n",
        "      - id: sometimes\n        label: Sometimes\n      - id: unsure\n        label: Not sure\n",
        1,
    )
    schema = json_schema(parse_checklist(added))
    options = schema["properties"]["answers"]["properties"]["reasoning_gap"]["properties"]["option"]
    assert options["enum"] == ["no", "yes", "sometimes", "unsure", "unknown"]
    assert schema["properties"]["answers"]["required"] == [q.id for q in CHECKLIST.questions]
