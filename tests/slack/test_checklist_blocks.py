"""Checklist Block Kit builders: button values, the question message, the result, the history."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.checklist import engine
from bot.checklist.assessment import Fact
from bot.checklist.decisions import DecisionReport
from bot.checklist.history import Decision, FollowUp, Outcome
from bot.checklist.loader import load_checklist
from bot.checklist.outcomes import summarise
from bot.checklist.scoring import Reason, Result
from bot.slack import checklist_blocks as ui
from bot.slack.blocks import MAX_BLOCKS, MESSAGE_TEXT_LIMIT, blocks_text_size

CHECKLIST = load_checklist(Path(__file__).resolve().parents[2] / "knowledge" / "checklist.yaml")
RAG_ANSWERS = {
    "failure_type": "knowledge",
    "knowledge_change": "monthly",
    "reasoning_gap": "no",
    "task_stability": "stable",
    "examples": "none",
    "prompting_tried": "not_measured",
    "rag_tried": "not_tried",
    "eval_set": "none",
    "output_structure": "free_text",
    "volume_pressure": "low",
    "stakes": "moderate",
    "team_capacity": "managed",
}


def _within_limits(blocks: list[dict[str, Any]]) -> None:
    assert 0 < len(blocks) <= MAX_BLOCKS
    for block in blocks:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= 3000
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= 150
        if block["type"] == "actions":
            assert len(block["elements"]) <= 25
            for element in block["elements"]:
                assert len(element["text"]["text"]) <= 75
                assert len(element["value"]) <= 2000


def _text(blocks: list[dict[str, Any]]) -> str:
    return json.dumps(blocks, ensure_ascii=False)


def _actions(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for b in blocks if b["type"] == "actions" for e in b["elements"]]


@pytest.mark.parametrize(
    ("revision", "question_id", "option_id", "expected"),
    [
        (0, "failure_type", "knowledge", '{"r":0,"q":"failure_type","o":"knowledge"}'),
        (7, None, None, '{"r":7}'),
    ],
)
def test_values_are_compact_json_and_round_trip(
    revision: int, question_id: str | None, option_id: str | None, expected: str
) -> None:
    raw = ui.encode_value(revision, question_id, option_id)
    assert raw == expected
    assert ui.decode_value(raw) == ui.ButtonValue(r=revision, q=question_id, o=option_id)


@pytest.mark.parametrize(
    "raw",
    [
        None,
        5,
        "",
        "not json",
        "null",
        "[]",
        '{"q":"failure_type"}',  # no revision
        '{"r":-1}',
        '{"r":"1"}',
        '{"r":1.5}',
        '{"r":1,"q":["a"]}',
        '{"r":1,"thread_ts":"1.2"}',  # where a click applies never comes from the value
        '{"r":1,"q":"' + "x" * 600 + '"}',
    ],
)
def test_anything_else_is_unreadable(raw: object) -> None:
    assert ui.decode_value(raw) is None


def test_first_question_has_options_help_progress_and_no_back() -> None:
    session = engine.start(CHECKLIST)
    question = engine.current_question(CHECKLIST, session)
    assert question is not None
    blocks = ui.question_blocks(CHECKLIST, session, question, engine.progress(CHECKLIST, session))
    _within_limits(blocks)
    text = _text(blocks)
    assert "Question 1 of " in text
    assert "Why we ask:" in text
    options = [e for e in _actions(blocks) if e["action_id"].startswith(ui.ANSWER_PREFIX)]
    assert len({e["action_id"] for e in options}) == len(question.options)
    assert [ui.decode_value(e["value"]) for e in options] == [
        ui.ButtonValue(r=0, q=question.id, o=o.id) for o in question.options
    ]
    nav = [e["action_id"] for e in _actions(blocks) if e not in options]
    assert nav == [ui.RESTART]
    assert "confirm" in _actions(blocks)[-1]


def test_later_questions_show_who_answered_and_back() -> None:
    session = engine.answer(CHECKLIST, engine.start(CHECKLIST), "failure_type", "knowledge", "U1")
    session = engine.answer(CHECKLIST, session, "knowledge_change", "monthly", "U2")
    question = engine.current_question(CHECKLIST, session)
    assert question is not None
    blocks = ui.question_blocks(CHECKLIST, session, question, engine.progress(CHECKLIST, session))
    text = _text(blocks)
    assert "Question 3 of " in text
    assert "*Knowledge: missing, wrong or outdated facts* — <@U1>" in text
    assert "*Monthly or quarterly* — <@U2>" in text
    assert [e["action_id"] for e in _actions(blocks)][-2:] == [ui.BACK, ui.RESTART]
    assert all(ui.decode_value(e["value"]).r == 2 for e in _actions(blocks))  # type: ignore[union-attr]


def test_admin_text_is_escaped_and_long_labels_are_clipped() -> None:
    session = engine.start(CHECKLIST)
    question = CHECKLIST.questions[0]
    long_option = question.options[0].model_copy(update={"label": "L" * 200})
    odd = question.model_copy(
        update={"text": "<!channel> & <b>", "options": (long_option, *question.options[1:])}
    )
    blocks = ui.question_blocks(CHECKLIST, session, odd, engine.progress(CHECKLIST, session))
    _within_limits(blocks)
    assert "&lt;!channel&gt; &amp; &lt;b&gt;" in _text(blocks)
    assert _actions(blocks)[0]["text"]["text"].endswith("…")


def _result() -> Result:
    return engine.result(CHECKLIST, engine.answer_all(CHECKLIST, RAG_ANSWERS, "U1"))


def test_result_has_reasons_with_citations_next_steps_and_buttons() -> None:
    result = _result()
    blocks = ui.result_blocks(result, revision=12)
    _within_limits(blocks)
    text = _text(blocks)
    assert blocks[0]["type"] == "header"
    assert "Recommendation: Prompting + RAG" in text
    for heading in ("*Why*", "*Next steps*", "*What would change it*", "*Answers*"):
        assert heading in text
    assert f"`{result.reasons[0].cites[0]}`" in text
    buttons = {e["action_id"]: e for e in _actions(blocks)}
    assert set(buttons) == {ui.SHARE, ui.EXPORT, ui.RESTART}
    assert ui.decode_value(buttons[ui.SHARE]["value"]) == ui.ButtonValue(r=12)


def test_result_stays_within_slack_limits_however_long() -> None:
    result = _result()
    reason = result.reasons[0]
    many = tuple(
        Reason(**{**reason.model_dump(), "rationale": f"{n} " + "why " * 400}) for n in range(60)
    )
    huge = result.model_copy(update={"reasons": many, "label": "X" * 500})
    blocks = ui.result_blocks(huge, revision=1)
    _within_limits(blocks)
    assert [b["type"] for b in blocks[-2:]] == ["context", "actions"]  # buttons always kept


def test_share_summary_links_the_thread_only_with_a_safe_url() -> None:
    result = _result()
    shared = _text(ui.share_blocks(result, "U9", "https://example.slack.com/archives/C/p1"))
    assert "Shared by <@U9>" in shared and "answered by <@U1>" in shared
    assert "<https://example.slack.com/archives/C/p1|See the full result>" in shared
    assert "See the full result" not in _text(ui.share_blocks(result, "U9", "javascript:x"))
    assert "See the full result" not in _text(ui.share_blocks(result, "U9", None))


def test_record_fallback_is_escaped_code_split_into_messages_within_limits() -> None:
    markdown = "# ADR <x> & y\n" + "| a | b |\n" * 3000  # 30,000 characters, more escaped
    messages = ui.record_messages(markdown)
    assert len(messages) >= 3
    for blocks in messages:
        _within_limits(blocks)
        assert blocks_text_size(blocks) <= MESSAGE_TEXT_LIMIT
    code = [b for blocks in messages for b in blocks if b["text"]["text"].startswith("```")]
    assert code[0]["text"]["text"].startswith("```# ADR &lt;x&gt; &amp; y")
    assert all(b["text"]["text"].endswith("```") for b in code)
    # Nothing is lost across the messages.
    joined = "".join(b["text"]["text"].strip("`") for b in code)
    assert joined.count("| a | b |") == 3000


def test_history_lists_date_recommendation_people_link_and_outcome() -> None:
    asked = FollowUp(
        scheduled_message_id="Q1", channel_id="C1", post_at=1_702_592_000, user_id="U1"
    )
    decisions = [
        Decision(
            team_id="T1",
            channel_id="C1",
            thread_ts="1.1",
            recommendation="prompting_rag",
            label="Prompting + RAG",
            checklist_version="2025.1",
            user_ids=("U1", "U2"),
            permalink="https://example.slack.com/archives/C1/p11",
            decided_at=1_700_000_000,
            followup=asked,
            outcome=Outcome(user_id="U1", choice="followed", result="worked", updated_at=1.0),
        ),
        Decision(
            team_id="T1",
            channel_id="C1",
            thread_ts="1.2",
            recommendation="not_yet",
            label="Not yet <b>",
            checklist_version="2025.1",
            permalink="https://evil|x",
            decided_at=1_700_086_400,
            followup=asked,
        ),
        Decision(
            team_id="T1",
            channel_id="C1",
            thread_ts="1.3",
            recommendation="not_yet",
            label="Not yet <b>",
            checklist_version="2025.1",
            decided_at=1_700_086_400,
        ),
    ]
    report = DecisionReport(decisions=tuple(decisions), summary=tuple(summarise(decisions)))
    text = _text(ui.history_blocks(report, now=1_701_000_000))
    assert (
        "2023-11-14 · *Prompting + RAG* · by <@U1>, <@U2> · <https://"
        "example.slack.com/archives/C1/p11|thread> · _Followed the recommendation · It worked_"
    ) in text
    assert "2023-11-15 · *Not yet &lt;b&gt;* · by someone · _follow-up due 2023-12-14_" in text
    assert "by someone · _no follow-up_" in text
    assert "evil" not in text
    assert "• Not yet &lt;b&gt;: 2 decisions, 0 reported, 0 worked" in text
    assert "• Prompting + RAG: 1 decision, 1 reported, 1 worked (1 followed it, 0 chose" in text
    # Once the follow-up was sent, an unanswered one says so.
    later = _text(ui.history_blocks(report, now=1_800_000_000))
    assert "by someone · _no answer yet_" in later
    empty = DecisionReport(decisions=(), summary=())
    assert "No decisions recorded" in _text(ui.history_blocks(empty, now=0))


def test_answers_read_from_a_message_are_marked_and_escaped() -> None:
    read = (
        Fact(question_id="failure_type", option_id="behaviour", evidence="<!channel> brand voice"),
    )
    session = engine.start(CHECKLIST, read)
    question = engine.current_question(CHECKLIST, session)
    assert question is not None
    text = json.dumps(
        ui.question_blocks(CHECKLIST, session, question, engine.progress(CHECKLIST, session)),
        ensure_ascii=False,
    )
    assert "_read from the message_ (\u201c&lt;!channel&gt; brand voice\u201d)" in text
    assert "<!channel>" not in text
    assert ui.READ_NOTE in text
    plain = engine.start(CHECKLIST)
    first = engine.current_question(CHECKLIST, plain)
    assert first is not None
    blocks = ui.question_blocks(CHECKLIST, plain, first, engine.progress(CHECKLIST, plain))
    assert ui.READ_NOTE not in json.dumps(blocks)
