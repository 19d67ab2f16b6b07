"""The offline reader on knowledge/situations.yaml, written by someone other than the reader's
author: at least 90% of situations get an acceptable outcome, and no question that describes no
situation gets an assessment. `make bench` prints the same report with latency and confusion."""

from __future__ import annotations

from pathlib import Path

from bot.checklist.loader import load_from_knowledge_dir
from bot.checklist.reading.offline import OfflineReader
from bot.checklist.situation_eval import (
    SITUATIONS_FILE,
    describe,
    evaluate_situations,
    load_situations,
)

KNOWLEDGE = Path(__file__).resolve().parents[2] / "knowledge"


async def test_the_offline_reader_decides_situations_and_ignores_non_situations() -> None:
    checklist = load_from_knowledge_dir(KNOWLEDGE)
    cases = load_situations(KNOWLEDGE / SITUATIONS_FILE, checklist)
    report = await evaluate_situations(checklist, OfflineReader(checklist), cases)
    summary = "\n".join(describe(report))
    assert len(report.results) >= 40 and report.non_situations >= 10
    assert report.accuracy >= 0.9, summary
    assert report.false_situations == (), summary
    # Facts matter too: a right outcome from wrong facts would not survive the next question.
    assert report.fact_precision >= 0.8 and report.fact_recall >= 0.7, summary
