"""`advisor decisions`: the decisions Slack recorded, with their outcomes and a summary line per
recommendation, read from real Redis by the same service `/finetune-check history` uses."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from redis.asyncio import Redis
from typer.testing import CliRunner

from bot.checklist import outcomes
from bot.checklist.definition import OutcomeId
from bot.checklist.history import (
    Decision,
    DecisionHistory,
    FollowUp,
    FollowUpChoice,
    FollowUpResult,
)
from bot.cli import app
from bot.memory.embedded_redis import EmbeddedRedis
from tests.conftest import KNOWLEDGE


def _decision(n: int, recommendation: OutcomeId, label: str, channel: str = "C1") -> Decision:
    return Decision(
        team_id="T1",
        channel_id=channel,
        thread_ts=f"1700000000.{n:06d}",
        recommendation=recommendation,
        label=label,
        checklist_version="2025.1",
        user_ids=("U1",),
        started_by="U1",
        decided_at=1_700_000_000 + n,
        followup=FollowUp(
            scheduled_message_id=f"Q{n}", channel_id=channel, post_at=1, user_id="U1"
        ),
    )


# (recommendation, label, what they did, how it went); None: not answered.
SEEDED: list[tuple[OutcomeId, str, FollowUpChoice | None, FollowUpResult | None]] = [
    ("prompting_first", "Prompting first", "followed", "worked"),
    ("prompting_first", "Prompting first", "followed", "worked"),
    ("prompting_first", "Prompting first", "other", "partly"),
    ("prompting_first", "Prompting first", None, None),
    ("prompting_rag", "Prompting + RAG", "followed", "did_not"),
    ("prompting_rag", "Prompting + RAG", None, None),
    ("fine_tune_peft", "Fine-tune with PEFT/LoRA", None, None),
]


def _answered(choice: FollowUpChoice, result: FollowUpResult) -> outcomes.Merge:
    def merge(decision: Decision) -> Decision:
        note = "measured on 200 tickets"
        return outcomes.answer(decision, "U1", now=5.0, choice=choice, result=result, note=note)

    return merge


async def _seed(url: str) -> None:
    redis = Redis.from_url(url, decode_responses=True)
    try:
        await redis.flushall()
        history = DecisionHistory(redis)
        for n, (recommendation, label, choice, result) in enumerate(SEEDED):
            decision = _decision(n, recommendation, label, channel=f"C{n % 2}")
            await history.add(decision)
            if choice is None or result is None:
                continue
            await history.update(
                decision.team_id,
                decision.channel_id,
                decision.thread_ts,
                decision.id,
                _answered(choice, result),
            )
    finally:
        await redis.aclose()


@pytest.fixture
def env(redis_server: EmbeddedRedis, tmp_path: Path) -> dict[str, str]:
    url = redis_server.start()
    asyncio.run(_seed(url))
    return {
        "REDIS_URL": url,
        "ADVISOR_KNOWLEDGE_DIR": str(KNOWLEDGE),
        "ADVISOR_DATA_DIR": str(tmp_path / "data"),
        "COLUMNS": "200",
    }


def test_decisions_json_lists_outcomes_and_a_summary_per_outcome(env: dict[str, str]) -> None:
    result = CliRunner().invoke(app, ["decisions", "--json"], env=env)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert set(report) == {"decisions", "summary"}
    decisions = report["decisions"]
    assert len(decisions) == len(SEEDED)
    assert [d["thread_ts"] for d in decisions] == [
        f"1700000000.{n:06d}" for n in reversed(range(len(SEEDED)))
    ]  # newest first, across both channels
    first = decisions[-1]
    assert set(first) == {
        "id", "team_id", "channel_id", "thread_ts", "recommendation", "label",
        "checklist_version", "user_ids", "started_by", "permalink", "decided_at", "followup",
        "outcome",
    }  # fmt: skip
    assert first["outcome"] == {
        "user_id": "U1",
        "choice": "followed",
        "result": "worked",
        "note": "measured on 200 tickets",
        "updated_at": 5.0,
    }
    assert first["followup"]["scheduled_message_id"] == "Q0"
    assert decisions[0]["outcome"] is None
    summary = {s["recommendation"]: s for s in report["summary"]}
    assert [s["recommendation"] for s in report["summary"]] == [
        "prompting_first",
        "prompting_rag",
        "fine_tune_peft",
    ]
    first_summary = summary["prompting_first"]
    assert {k: first_summary[k] for k in ("decisions", "reported", "worked", "partly")} == {
        "decisions": 4,
        "reported": 3,
        "worked": 2,
        "partly": 1,
    }
    assert (first_summary["followed"], first_summary["other"]) == (2, 1)
    assert first_summary["line"] == (
        "Prompting first: 4 decisions, 3 reported, 2 worked, 1 partly "
        "(2 followed it, 1 chose something else)"
    )
    assert summary["prompting_rag"]["line"] == (
        "Prompting + RAG: 2 decisions, 1 reported, 0 worked, 1 did not work "
        "(1 followed it, 0 chose something else)"
    )
    assert summary["fine_tune_peft"]["line"] == (
        "Fine-tune with PEFT/LoRA: 1 decision, 0 reported, 0 worked"
    )


def test_decisions_table_and_limit(env: dict[str, str]) -> None:
    result = CliRunner().invoke(app, ["decisions", "--limit", "2"], env=env)
    assert result.exit_code == 0, result.output
    assert "Fine-tune with PEFT/LoRA" in result.stdout
    assert "Followed the recommendation · It worked" not in result.stdout  # cut by --limit
    # The summary still counts every decision kept.
    assert "Prompting first: 4 decisions, 3 reported, 2 worked, 1 partly" in result.stdout
    limited = CliRunner().invoke(app, ["decisions", "--json", "--limit", "2"], env=env)
    assert len(json.loads(limited.stdout)["decisions"]) == 2
