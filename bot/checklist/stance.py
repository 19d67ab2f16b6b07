"""Which way a sentence leans: does it recommend prompting, retrieval, training, or waiting?

Used twice, so a verdict and the text around it agree: the extractive answer keeps guidance that
supports the verdict and moves the rest to "when this would change", and a generated answer that
recommends something the verdict rules out is caught. Pure; deliberately conservative (a
sentence leans only when it both names an approach and says to use it, or not to).
"""

from __future__ import annotations

import re
from typing import Literal

from bot.checklist.definition import OutcomeId

Approach = Literal["prompt", "retrieve", "train", "measure"]

_APPROACHES: dict[Approach, re.Pattern[str]] = {
    "train": re.compile(
        r"\b(?:fine[- ]?tun\w*|lora|q?lora|peft|adapters?|train(?:ing)? (?:a |the |your |an? )?"
        r"(?:\w+ )?(?:model|adapter)|custom model|(?:trained|tuned) model|hybrid|"
        r"train(?:ing|ed)? (?:\w+ ){0,4}into|into the weights)\b",
        re.IGNORECASE,
    ),
    "retrieve": re.compile(
        r"\b(?:rag|retrieval|retriev\w+|vector (?:db|database|store|index|search)|"
        r"knowledge base|reindex\w*|search index|index(?:ing)? (?:the |your )?(?:documents|docs))\b",
        re.IGNORECASE,
    ),
    "prompt": re.compile(
        r"\b(?:prompt(?:s|ing)?|few[- ]shot|system prompt|instructions|structured[- ]output "
        r"features?|json mode|function calling|stronger model)\b",
        re.IGNORECASE,
    ),
    "measure": re.compile(
        r"\b(?:eval(?:uation)? set|measure\w*|baseline|collect (?:\w+ )?(?:data|examples)|"
        r"not yet|too early)\b",
        re.IGNORECASE,
    ),
}
_ADVISE = re.compile(
    r"\b(?:start(?:s|ing)? with|use|using|try|prefer|choose|go with|recommend\w*|should|"
    r"is (?:the )?(?:right|best|better|cheaper|first)|works? (?:best|well)|is enough|first|"
    r"reach for|worth|pays? off|makes? sense|suits?|fix(?:es)?|solves?|put|add|build|keep|"
    r"write)\b|^\W*(?:fine[- ]?tune|train|prompt|index)\b",
    re.IGNORECASE,
)
# "Fine-tuning does not add facts", "don't fine-tune": the whole clause is against what it names.
_VERB_NEGATION = re.compile(
    r"\b(?:does not|doesn.?t|do not|don.?t|did not|didn.?t|will not|won.?t|cannot|can.?t|"
    r"is not|isn.?t|are not|aren.?t|never|rarely|seldom|avoid\w*)\b",
    re.IGNORECASE,
)
# "RAG, not fine-tuning", "prompting rather than training": against what follows only.
_NEGATES_WHAT_FOLLOWS = re.compile(
    r"\b(?:not|no|instead of|rather than|than|before|without|skip\w*|over)\b", re.IGNORECASE
)
# "fine-tune if validity stays short", "When ..., fine-tuning becomes worth it": conditional.
_CONDITION = re.compile(r"\b(?:if|when|whenever|once|unless|until|only)\b", re.IGNORECASE)
_CLAUSE = re.compile(r"[,;:()\u2013\u2014]|\s-\s|\bbut\b|\bthen\b", re.IGNORECASE)
# What each verdict stands for. A sentence recommending an approach outside this set argues
# for a different outcome.
ENDORSES: dict[OutcomeId, frozenset[Approach]] = {
    "prompting_first": frozenset({"prompt", "measure"}),
    "prompting_rag": frozenset({"prompt", "retrieve", "measure"}),
    "not_yet": frozenset({"measure", "prompt"}),
    "fine_tune_peft": frozenset({"train", "prompt", "measure"}),
    "hybrid": frozenset({"train", "retrieve", "prompt", "measure"}),
}


def approaches(sentence: str) -> set[Approach]:
    return {name for name, pattern in _APPROACHES.items() if pattern.search(sentence)}


def _active(clause: str) -> set[Approach]:
    """Approaches a clause puts forward: named, not negated, not under a condition."""
    named = approaches(clause)
    if not named or _VERB_NEGATION.search(clause) or _CONDITION.search(clause):
        return set()
    negation = _NEGATES_WHAT_FOLLOWS.search(clause)
    head = clause[: negation.start()] if negation else clause
    return {name for name in named if _APPROACHES[name].search(head)}


def favoured(sentence: str) -> set[Approach]:
    """The approaches a sentence speaks for, advice or not ("fine-tuning encodes the style in
    the model" favours training). Looser than `recommended`: used to keep guidance that argues
    for another outcome out of a verdict's support."""
    if _CONDITION.match(sentence.lstrip(" *_-")):
        return set()
    found: set[Approach] = set()
    for clause in _CLAUSE.split(sentence):
        found |= _active(clause)
    return found


def recommended(sentence: str) -> set[Approach]:
    """The approaches a sentence tells the reader to use now: named in a clause that advises
    them, not negated, and not under a condition ("fine-tune if validity stays short").
    Empty when it only mentions them."""
    if _ADVISE.search(sentence) is None or _CONDITION.match(sentence.lstrip(" *_-")):
        return set()
    return favoured(sentence)


def leans_elsewhere(sentence: str, outcome: OutcomeId) -> bool:
    """True when the sentence recommends an approach the verdict `outcome` does not stand for
    (a generated answer contradicting the verdict)."""
    return bool(recommended(sentence) - ENDORSES[outcome])


def argues_elsewhere(sentence: str, outcome: OutcomeId) -> bool:
    """True when the sentence speaks for an approach the verdict does not stand for (guidance
    that belongs under "when this would change", not under the verdict's support)."""
    return bool(favoured(sentence) - ENDORSES[outcome])


def supports(sentence: str, outcome: OutcomeId) -> bool:
    """True when the sentence speaks for something the verdict stands for, and nothing else."""
    spoken = favoured(sentence)
    return bool(spoken) and spoken <= ENDORSES[outcome]
