"""The offline situation reader: checklist answers from plain words, with no model.

Everything it knows comes from checklist.yaml: each option's `cues` (regular expressions), each
counted question's `count` ranges and the nouns a count must be attached to (`counts_of`), and
the option a measured score at or above (or below) its target means. An admin who adds a
question or an option adds its cues there; `undetectable` lists the options without any.

Rules of reading, the same for every question:
- a cue that is not itself written as a negation does not count when a negation precedes it in
  its clause or sits inside what it matched ("we have no eval set", "we have no ML engineers");
  a cue written as one ("no eval set" is a cue of `eval_set: none`) counts as it is;
- when several options of one question are found, a `combine` rule may read them together
  ("knowledge" and "behaviour" -> "both"); otherwise the most specific (longest) finding wins,
  and between equals the later one (people correct themselves: "tried it; it falls short");
- a count attached to an evaluation set ("an eval set of 180 conversations") is not a count of
  training examples;
- a message is a situation when at least one answer is read from it and it speaks about the
  writer's own team ("we", "our", "I") or is not a general question: "Responses are too verbose"
  is, "Does fine-tuning fix hallucinations?" is not.
Pure and deterministic: the same text always gives the same facts.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import Literal

from bot.checklist.assessment import Fact
from bot.checklist.definition import Checklist, Question
from bot.checklist.reading.base import SituationReading
from bot.checklist.reading.numbers import find_counts
from bot.checklist.reading.scores import measured_against_target

_NEGATOR = re.compile(
    r"(?<!\w)(?:no|not|never|without|none|neither|nor|nothing|zero|lacks?|lacking|\w+n['’]t|"
    r"cannot)(?!\w)",
    re.IGNORECASE,
)
_CLAUSE_BREAK = re.compile(r"[.;!?\n]|,?\s+but\s+|,?\s+however\s+|,?\s+although\s+", re.IGNORECASE)
# A negation reaches no further than its clause, and a comma ends it too ("it doesn't know our
# prices, which change weekly": the change is not negated).
_NEGATION_SCOPE_BREAK = re.compile(rf"{_CLAUSE_BREAK.pattern}|,|\bwhich\b", re.IGNORECASE)
# "Does fine-tuning fix hallucinations?": a question about the topic, not about the writer.
_GENERAL_QUESTION = re.compile(
    r"^\W*(?:what|what.?s|how|why|when|where|which|who|is|are|does|do|did|can|could|should|"
    r"would|will|isn.?t|aren.?t|doesn.?t|explain|tell me|define)\b[^\n]*\?\W*$",
    re.IGNORECASE,
)
_EVAL_BEFORE = re.compile(
    r"(?:eval\w*|test|held[- ]out|holdout|benchmark|validation)(?: set| suite| split)?"
    r"(?:\s+of)?\s*$",
    re.IGNORECASE,
)
_EVAL_AFTER = re.compile(
    r"[\s-]*(?:[\w-]+\s+)?(?:eval\w*|test|held[- ]out|holdout|benchmark|validation)",
    re.IGNORECASE,
)
_NEGATION_WINDOW_WORDS = 6
# How a cue's own pattern says it is the negative form: it spells out a negation.
_NEGATIVE_CUE = re.compile(
    r"(?<![a-z])(?:no|not|never|without|none|nobody|no one|nothing|zero|lack\w*|n\.\?t|"
    r"haven|don|didn|doesn|isn|aren|cannot|can\.\?t)(?![a-z])",
    re.IGNORECASE,
)
_SITUATION_MARKER = re.compile(
    r"(?<!\w)(?:we|we['’](?:re|ve|d|ll)|our|ours|us|i|i['’](?:m|ve|d)|my|team['’]s|our team)(?!\w)",
    re.IGNORECASE,
)
_EVIDENCE_CHARS = 120


@dataclass(frozen=True)
class _Finding:
    option_id: str
    start: int
    end: int

    @property
    def length(self) -> int:
        return self.end - self.start


def _compile(cue: str) -> re.Pattern[str]:
    return re.compile(rf"(?<!\w)(?:{cue})(?!\w)", re.IGNORECASE)


class OfflineReader:
    """Reads a message into checklist facts using only the definition's cues and counts."""

    name: Literal["offline"] = "offline"

    def __init__(self, checklist: Checklist) -> None:
        self._checklist = checklist
        self._cues = {
            question.id: [
                (option.id, _compile(cue), _NEGATIVE_CUE.search(cue) is not None)
                for option in question.options
                for cue in option.cues
            ]
            for question in checklist.questions
        }
        self._counts_of = {
            question.id: [re.compile(rf"\s*(?:{noun})(?!\w)", re.IGNORECASE) for noun in nouns]
            for question in checklist.questions
            if (nouns := question.read.counts_of)
        }

    def undetectable(self) -> list[tuple[str, str]]:
        """(question id, option id) pairs the offline reader has no way to recognise."""
        return [
            (question.id, option.id)
            for question in self._checklist.questions
            for option in question.options
            if not option.cues
            and option.count is None
            and option.id
            not in (question.read.score_meets_target, question.read.score_misses_target)
        ]

    async def read(self, text: str) -> SituationReading:
        # A few milliseconds of regex work: off the event loop, so Slack acks never wait on it.
        return await asyncio.to_thread(self.read_now, text)

    def read_now(self, text: str) -> SituationReading:
        facts: list[Fact] = []
        for question in self._checklist.questions:
            findings = self._find(question, text)
            chosen = _resolve(question, findings)
            if chosen is not None:
                facts.append(
                    Fact(
                        question_id=question.id,
                        option_id=chosen.option_id,
                        evidence=evidence(text, chosen.start, chosen.end),
                    )
                )
        situation = bool(facts) and (
            _SITUATION_MARKER.search(text) is not None or not _GENERAL_QUESTION.match(text)
        )
        return SituationReading(
            is_situation=situation, facts=tuple(facts) if situation else (), reader=self.name
        )

    def _find(self, question: Question, text: str) -> list[_Finding]:
        found: list[_Finding] = []
        for option_id, pattern, negative_form in self._cues[question.id]:
            for match in pattern.finditer(text):
                if not match.group(0).strip():
                    continue
                if (
                    question.read.negation_cancels
                    and not negative_form
                    and (_NEGATOR.search(match.group(0)) or _negated(text, match.start()))
                ):
                    continue
                found.append(_Finding(option_id, match.start(), match.end()))
        found.extend(self._counted(question, text))
        found.extend(_scored(question, text))
        return found

    def _counted(self, question: Question, text: str) -> list[_Finding]:
        nouns = self._counts_of.get(question.id)
        if not nouns:
            return []
        found = []
        for count in find_counts(text):
            if _negated(text, count.start):
                continue  # "we don't have 300 examples" says nothing about how many there are
            after = text[count.end : count.end + 80]
            if _counts_an_eval_set(text, count.start, after):
                continue
            noun = next((m for p in nouns if (m := p.match(after)) is not None), None)
            if noun is None:
                continue
            for option in question.options:
                if option.count is None:
                    continue
                low, high = option.count
                if count.value >= low and (high is None or count.value <= high):
                    found.append(_Finding(option.id, count.start, count.end + noun.end()))
        return found


def _counts_an_eval_set(text: str, start: int, after: str) -> bool:
    """ "an eval set of 180 conversations", "a 250-case eval set": the size of a test set."""
    before = text[max(0, start - 24) : start]
    return _EVAL_BEFORE.search(before) is not None or _EVAL_AFTER.match(after) is not None


def _negated(text: str, start: int) -> bool:
    """Whether a negation word precedes `start` within its clause (a few words back)."""
    before = text[:start]
    breaks = list(_NEGATION_SCOPE_BREAK.finditer(before))
    clause = before[breaks[-1].end() :] if breaks else before
    window = " ".join(clause.split()[-_NEGATION_WINDOW_WORDS:])
    return _NEGATOR.search(window) is not None


def _scored(question: Question, text: str) -> list[_Finding]:
    """ "93% on our eval set, target 90%": a measured score compared with its target."""
    meets, misses = question.read.score_meets_target, question.read.score_misses_target
    if meets is None or misses is None:
        return []
    compared = measured_against_target(text)
    if compared is None:
        return []
    met, start, end = compared
    return [_Finding(meets if met else misses, start, end)]


def _resolve(question: Question, findings: list[_Finding]) -> _Finding | None:
    if not findings:
        return None
    options = {finding.option_id for finding in findings}
    for combine in question.read.combine:
        if set(combine.options) <= options:
            first = min(findings, key=lambda f: f.start)
            last = max(findings, key=lambda f: f.end)
            return _Finding(combine.read_as, first.start, last.end)
    return max(findings, key=lambda f: (f.length, f.start))


def evidence(text: str, start: int, end: int) -> str:
    """The clause around text[start:end], cut to a readable length, in the writer's words."""
    left = max((m.end() for m in _CLAUSE_BREAK.finditer(text, 0, start)), default=0)
    right_match = _CLAUSE_BREAK.search(text, end)
    right = right_match.start() if right_match else len(text)
    if right - left > _EVIDENCE_CHARS:
        slack = max(0, (_EVIDENCE_CHARS - (end - start)) // 2)
        left, right = max(left, start - slack), min(right, end + slack)
    return " ".join(text[left:right].split()).strip(" ,:-")
