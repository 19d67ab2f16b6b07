"""`advisor gaps` as a user runs it (a real process on the test Redis and a real index), and
`--since` parsing with errors that say what is accepted."""

from __future__ import annotations

import asyncio
import json
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from redis.asyncio import Redis

from bot.gaps.since import SinceError, parse_since
from bot.memory.embedded_redis import EmbeddedRedis
from bot.memory.gaps import GapLog, GapRecord
from tests.core.test_cli import advisor

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "start"),
    [
        ("7d", NOW - timedelta(days=7)),
        (" 12h ", NOW - timedelta(hours=12)),
        ("2W", NOW - timedelta(weeks=2)),
        ("90m", NOW - timedelta(minutes=90)),
        ("365d", NOW - timedelta(days=365)),
        ("2026-11-01", datetime(2026, 11, 1, tzinfo=UTC)),
    ],
)
def test_since_accepts_durations_and_dates(text: str, start: datetime) -> None:
    assert parse_since(text, NOW) == start


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "--since is empty"),
        ("soon", "'soon' is not understood"),
        ("7", "'7' is not understood"),
        ("-7d", "'-7d' is not understood"),
        ("7 days", "'7 days' is not understood"),
        ("0d", "'0d' is an empty period"),
        ("400d", "longer than a year"),
        ("2026-13-01", "'2026-13-01' is not understood"),
        ("2027-01-01", "'2027-01-01' is in the future"),
    ],
)
def test_bad_since_names_the_problem_and_what_is_accepted(text: str, problem: str) -> None:
    with pytest.raises(SinceError) as raised:
        parse_since(text, NOW)
    assert problem in raised.value.message
    if "future" not in problem and "year" not in problem:
        assert "7d" in raised.value.message and "2026-11-01" in raised.value.message


def _env(tmp_path: Path, redis_url: str) -> dict[str, str]:
    knowledge = tmp_path / "knowledge"
    knowledge.mkdir()
    (knowledge / "gpus.md").write_text(
        "# Hardware for training\n## GPUs\nFine-tuning a 7B model with LoRA fits on one 24 GB "
        "GPU; full fine-tuning of larger models needs several data-centre GPUs.\n"
    )
    (knowledge / "rag.md").write_text(
        "# Retrieval\n## Fresh facts\nRetrieval-augmented generation keeps answers current when "
        "policies change every month.\n"
    )
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ADVISOR_", "OPENAI_", "SLACK_", "REDIS_", "QDRANT_"))
    }
    return {
        **base,
        "ADVISOR_KNOWLEDGE_DIR": str(knowledge),
        "ADVISOR_DATA_DIR": str(tmp_path / "data"),
        "REDIS_URL": redis_url,
        "HF_HUB_OFFLINE": "1",
    }


def test_bad_since_on_the_command_line_exits_2_before_loading_anything(tmp_path: Path) -> None:
    result = advisor("gaps", "--since", "last tuesday", env=_env(tmp_path, "redis://127.0.0.1:9"))
    assert result.returncode == 2
    assert "--since 'last tuesday' is not understood" in result.stderr
    assert "7d" in result.stderr
    assert result.stdout == ""


@pytest.mark.slow
async def test_gaps_json_has_the_documented_shape(
    tmp_path: Path, redis_server: EmbeddedRedis, redis_client: Redis
) -> None:
    env = _env(tmp_path, redis_server.url)
    log = GapLog(redis_client)
    now = time.time()
    questions = (
        ("no_match", "How many GPUs do we need to fine-tune a 70B model?", None),
        ("not_helpful", "what graphics cards should we buy for training", "no hardware advice"),
        ("escalation", "Who is catering the offsite lunch on Friday?", None),
    )
    for n, (kind, question, reason) in enumerate(questions):
        await log.add(
            GapRecord(
                gap_id=f"g{n}",
                kind=kind,
                question=question,
                reason=reason,
                index_version="v-old",
                created_at=now - 60 * n,
            )
        )
    await log.add(GapRecord(gap_id="old", kind="no_match", question="old", created_at=now - 9e5))
    indexed = await asyncio.to_thread(advisor, "reindex", env=env)
    assert indexed.returncode == 0, indexed.stderr
    result = await asyncio.to_thread(advisor, "gaps", "--json", env=env)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)  # one JSON object
    assert set(report) == {
        "since", "until", "total", "by_kind", "pending", "groups", "index_version", "note",
    }  # fmt: skip
    assert report["total"] == 3  # the old one is outside the default seven days
    assert report["by_kind"] == {"no_match": 1, "not_helpful": 1, "escalation": 1}
    assert report["index_version"] and report["note"] is None
    since = datetime.fromisoformat(report["since"])
    until = datetime.fromisoformat(report["until"])
    assert timedelta(days=7) - (until - since) < timedelta(seconds=1)
    groups = report["groups"]
    assert [g["count"] for g in groups] == [2, 1]  # the two hardware questions are one topic
    for group in groups:
        assert set(group) == {
            "count", "by_kind", "example", "questions", "reasons", "missing", "closest",
            "first_seen", "last_seen",
        }  # fmt: skip
        assert group["example"] in group["questions"]
        assert set(group["closest"]) == {"source", "title", "section", "similarity"}
    hardware = groups[0]
    assert hardware["by_kind"] == {"no_match": 1, "not_helpful": 1}
    assert hardware["reasons"] == ["no hardware advice"]
    assert hardware["closest"]["source"] == "gpus.md"
    longer = await asyncio.to_thread(advisor, "gaps", "--since", "30d", env=env)
    assert longer.returncode == 0, longer.stderr
    assert longer.stdout.startswith("4 gaps since")
    assert "closest document: Hardware for training" in longer.stdout
