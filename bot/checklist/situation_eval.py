"""How well situations are read and decided: knowledge/situations.yaml against a reader.

The file holds situations written in many voices, each with the outcomes a careful advisor would
accept and the facts a careful reader takes from it, and questions that describe no situation.
The test suite asserts on the figures; `make bench` prints them with the reader's latency and
the confusion between outcomes. Same code for both.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import yaml
from pydantic import Field, ValidationError

from bot.checklist.assessment import assess
from bot.checklist.definition import Checklist, ChecklistError, Frozen, Ident, OutcomeId
from bot.checklist.reading.base import SituationReader

SITUATIONS_FILE = "situations.yaml"


class Situation(Frozen):
    id: Ident
    text: str = Field(min_length=1)
    outcomes: tuple[OutcomeId, ...] = Field(min_length=1)  # acceptable, best first
    facts: dict[Ident, Ident] = Field(default_factory=dict)


class SituationSet(Frozen):
    situations: tuple[Situation, ...]
    non_situations: tuple[str, ...] = ()


class SituationResult(Frozen):
    id: str
    expected: tuple[OutcomeId, ...]
    got: OutcomeId | None  # None: no assessment (read as no situation)
    facts_expected: int
    facts_found: int  # expected facts read with the same option
    facts_read: int  # all facts read
    seconds: float

    @property
    def correct(self) -> bool:
        return self.got in self.expected


class SituationReport(Frozen):
    reader: str
    results: tuple[SituationResult, ...]
    false_situations: tuple[str, ...]  # non-situations that got an assessment
    non_situations: int

    @property
    def accuracy(self) -> float:
        return sum(r.correct for r in self.results) / len(self.results) if self.results else 0.0

    @property
    def fact_recall(self) -> float:
        expected = sum(r.facts_expected for r in self.results)
        return sum(r.facts_found for r in self.results) / expected if expected else 1.0

    @property
    def fact_precision(self) -> float:
        read = sum(r.facts_read for r in self.results)
        return sum(r.facts_found for r in self.results) / read if read else 1.0

    def confusion(self) -> Counter[tuple[str, str]]:
        """(best expected outcome, outcome given) for every situation, right or wrong."""
        return Counter((r.expected[0], r.got or "no assessment") for r in self.results)

    def latencies(self) -> list[float]:
        return sorted(r.seconds for r in self.results)


def load_situations(path: Path, checklist: Checklist) -> SituationSet:
    """Read and check the file: every question and option id must exist in the checklist."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        loaded = SituationSet.model_validate(data)
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise ChecklistError(f"cannot read the situations file {path}: {exc}") from None
    for situation in loaded.situations:
        for question_id, option_id in situation.facts.items():
            question = checklist.question(question_id)
            if question is None or question.option(option_id) is None:
                raise ChecklistError(
                    f"{path}: situation '{situation.id}' names {question_id}={option_id}, "
                    "which the checklist does not have"
                )
    return loaded


async def evaluate_situations(
    checklist: Checklist, reader: SituationReader, cases: SituationSet
) -> SituationReport:
    results = []
    for situation in cases.situations:
        started = time.perf_counter()
        reading = await reader.read(situation.text)
        outcome = assess(checklist, reading.facts).outcome if reading.is_situation else None
        seconds = time.perf_counter() - started
        read = {f.question_id: f.option_id for f in reading.facts}
        results.append(
            SituationResult(
                id=situation.id,
                expected=situation.outcomes,
                got=outcome,
                facts_expected=len(situation.facts),
                facts_found=sum(read.get(q) == o for q, o in situation.facts.items()),
                facts_read=len(read),
                seconds=seconds,
            )
        )
    false_situations = []
    for text in cases.non_situations:
        if (await reader.read(text)).is_situation:
            false_situations.append(text)
    return SituationReport(
        reader=reader.name,
        results=tuple(results),
        false_situations=tuple(false_situations),
        non_situations=len(cases.non_situations),
    )


def describe(report: SituationReport, wrong_limit: int = 10) -> Sequence[str]:
    """The report as lines for a terminal (the benchmark prints these)."""
    latencies = report.latencies()
    p50 = latencies[len(latencies) // 2] * 1000 if latencies else 0.0
    p95 = latencies[int(len(latencies) * 0.95)] * 1000 if latencies else 0.0
    lines = [
        f"situations ({report.reader} reader): {len(report.results)} situations, "
        f"outcome accuracy {report.accuracy:.3f}; facts recall {report.fact_recall:.3f}, "
        f"precision {report.fact_precision:.3f}; read+assess p50 {p50:.1f} ms, p95 {p95:.1f} ms",
        f"non-situations given an assessment: {len(report.false_situations)} of "
        f"{report.non_situations}",
        "confusion (expected -> given: count):",
    ]
    lines.extend(
        f"  {expected} -> {got}: {count}"
        for (expected, got), count in sorted(report.confusion().items())
    )
    wrong = [r for r in report.results if not r.correct][:wrong_limit]
    lines.extend(f"  wrong: {r.id}: expected {'/'.join(r.expected)}, got {r.got}" for r in wrong)
    return lines
