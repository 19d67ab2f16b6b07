"""A cited answer without a language model: the guidance's own most relevant sentences.

Used when no chat endpoint is configured or it failed. Pure and deterministic, so the same
question and passages always give the same answer (tests and the CLI rely on that).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.checklist.definition import OutcomeId
from bot.checklist.stance import argues_elsewhere, supports
from bot.models import Frozen, Passage

NO_MODEL_NOTE = (
    "(no language model configured: these are the most relevant lines from the guidance)"
)
FALLBACK_NOTE = (
    "(the language model did not answer: these are the most relevant lines from the guidance)"
)
HEADER = f"*Extractive answer* {NO_MODEL_NOTE}"
FALLBACK_HEADER = f"*Extractive answer* {FALLBACK_NOTE}"
FOOTER = "For a scored recommendation for your situation, run the decision checklist."


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


_ABBREVIATIONS = _word_set(
    "e.g i.e etc vs cf approx fig no dr mr mrs ms prof inc ltd co jr sr st al resp incl"
)
_DECISION_WORDS = _word_set(
    "use when should avoid prefer choose better instead unless best recommend consider start "
    "need needs only first rather cheaper faster"
)
_STOPWORDS = _word_set(
    "a an and are as at be but by can could do does for from has have how i if in into is it its "
    "me my of on or our so than that the their them then there these this those to us was we "
    "what which who why will with would you your should when use"
)
_LINE_MARKS = re.compile(r"^\s*(?:#{1,6}\s+|>\s*|[-*+•]\s+|\d{1,3}[.)]\s+)+")
_BOUNDARY = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[*_`]?[A-Z0-9])")
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z0-9]+)*")
_MIN_WORDS = 4
_DUPLICATE_JACCARD = 0.6


def split_sentences(text: str) -> list[str]:
    """Sentences of Markdown-like text; list items and headings stand alone, marks removed."""
    units: list[str] = []
    paragraph: list[str] = []
    in_code = False
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("```"):
            in_code = not in_code
            continue
        if in_code or line.startswith("|"):
            continue  # code and tables don't read as sentences
        if not line or _LINE_MARKS.match(line):
            units.append(" ".join(paragraph))
            paragraph = []
        if line:
            paragraph.append(_LINE_MARKS.sub("", line).strip())
            if line.startswith("#"):
                units.append(" ".join(paragraph))
                paragraph = []
    units.append(" ".join(paragraph))
    sentences: list[str] = []
    for unit in units:
        sentences.extend(s for s in _split_unit(unit) if s)
    return sentences


def _split_unit(unit: str) -> list[str]:
    pieces: list[str] = []
    start = 0
    for match in _BOUNDARY.finditer(unit):
        before = unit[start : match.start()].rsplit(None, 1)
        last_word = before[-1].rstrip(".!?\"')]").lower() if before else ""
        # "e.g. Llama" or "J. Smith" must not end a sentence.
        if last_word in _ABBREVIATIONS or (len(last_word) == 1 and last_word.isalpha()):
            continue
        pieces.append(unit[start : match.start()].strip())
        start = match.end()
    pieces.append(unit[start:].strip())
    return pieces


def _terms(text: str) -> list[str]:
    """Lower-cased words with light normalisation (possessives, plain plurals), no stemmer.

    Hyphens split words so "fine-tune" and "fine-tuning" still share "fine".
    """
    terms = []
    for word in _WORD.findall(text.lower()):
        word = word.removesuffix("'s")
        if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
            word = word[:-1]
        terms.append(word)
    return terms


@dataclass(frozen=True)
class _Candidate:
    text: str
    n: int  # 1-based passage number, the citation
    order: int  # position inside the passage, for stable ties
    terms: frozenset[str]


def _candidates(passages: Sequence[Passage]) -> list[_Candidate]:
    found = []
    for n, passage in enumerate(passages, start=1):
        for order, sentence in enumerate(split_sentences(passage.chunk.text)):
            found.append(_Candidate(sentence, n, order, frozenset(_terms(sentence))))
    long_enough = [c for c in found if len(_WORD.findall(c.text.lower())) >= _MIN_WORDS]
    return long_enough or found


def _score(candidate: _Candidate, query: set[str], weights: dict[str, float]) -> float:
    overlap = sum(weights[t] for t in candidate.terms & query)
    rank = 1.0 / candidate.n  # retrieval already ordered the passages by relevance
    decision = 0.5 if candidate.terms & _DECISION_WORDS else 0.0
    words = len(candidate.terms)
    length = -0.5 if words > 60 else 0.0
    return 2.0 * overlap + rank + decision + length - 0.01 * candidate.order


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a | b else 1.0


def _rank(question: str, candidates: list[_Candidate]) -> list[_Candidate]:
    query = {t for t in _terms(question) if t not in _STOPWORDS}
    # Rare words say more about relevance than words every passage uses.
    total = len(candidates)
    weights = {
        term: 1.0 + math.log(total / sum(1 for c in candidates if term in c.terms))
        for term in query
        if any(term in c.terms for c in candidates)
    }
    return sorted(candidates, key=lambda c: (-_score(c, query, weights), c.n, c.order))


def _pick(ranked: Sequence[_Candidate], limit: int) -> list[_Candidate]:
    chosen: list[_Candidate] = []
    for candidate in ranked:
        if len(chosen) == limit:
            break
        if any(_jaccard(candidate.terms, c.terms) >= _DUPLICATE_JACCARD for c in chosen):
            continue
        chosen.append(candidate)
    return chosen


def _bullets(chosen: Sequence[_Candidate]) -> list[str]:
    return [f"{c.text} [{c.n}]" for c in chosen]


def extractive_answer(
    question: str, passages: Sequence[Passage], *, max_points: int = 5, fallback: bool = False
) -> str:
    """Markdown answer of the most relevant guidance sentences, each cited as [n].

    `fallback` says the language model failed, rather than that none is configured.
    """
    if not passages or max_points < 1:
        return ""
    candidates = _candidates(passages)
    if not candidates:
        return ""
    chosen = _pick(_rank(question, candidates), max_points)
    lead = f"The guidance on {passages[0].chunk.title} says:"
    bullets = "\n".join(f"- {line}" for line in _bullets(chosen))
    header = FALLBACK_HEADER if fallback else HEADER
    return f"{header}\n\n{lead}\n{bullets}\n\n{FOOTER}"


class VerdictGuidance(Frozen):
    """Guidance lines sorted by how they relate to a verdict, each ending with its [n]."""

    supporting: tuple[str, ...]
    elsewhere: tuple[str, ...]  # lines that argue for another outcome: "when this would change"


def verdict_guidance(
    question: str,
    passages: Sequence[Passage],
    outcome: OutcomeId,
    *,
    max_points: int = 4,
    max_elsewhere: int = 2,
) -> VerdictGuidance:
    """The most relevant guidance that agrees with `outcome`, and apart from it the lines that
    recommend something the verdict does not stand for. A sentence that supports the verdict
    ranks above an equally relevant one that only informs."""
    candidates = _candidates(passages) if passages else []
    ranked = _rank(question, candidates)
    elsewhere = [c for c in ranked if argues_elsewhere(c.text, outcome)]
    agreeing = [c for c in ranked if not argues_elsewhere(c.text, outcome)]
    # Stable sort: among supporting or neutral lines the relevance order is kept.
    agreeing.sort(key=lambda c: not supports(c.text, outcome))
    return VerdictGuidance(
        supporting=tuple(_bullets(_pick(agreeing, max_points))),
        elsewhere=tuple(_bullets(_pick(elsewhere, max_elsewhere))),
    )
