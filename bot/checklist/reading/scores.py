"""A measured score and its target in plain words: "93% on our eval set, target 90%", "82% vs a
95% target", "tone scores 3.1/5 against a 4.2 target", "gets 82% ...; we need 95".

Pure. The offline reader turns the comparison into the option the checklist names for "meets its
target" or "misses it".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_PERCENT = re.compile(r"(?<![\w.,])(\d{1,3}(?:\.\d+)?)\s?(?:%|percent\b)", re.IGNORECASE)
_FRACTION = re.compile(
    r"(?<![\w.,])(\d{1,3}(?:\.\d+)?)\s?(?:/|out of)\s?(\d{1,3})\b", re.IGNORECASE
)
_BARE = re.compile(r"(?<![\w.,/])(\d{1,3}(?:\.\d+)?)(?![\w%,/]|\.\d|\s?(?:%|percent|/|out of))")
_TARGET_BEFORE = re.compile(
    r"(?<!\w)(?:target|goal|bar|threshold|need(?:s|ed)?|require[sd]?|requirement|aim(?: for)?|"
    r"at least|minimum|sla|want)(?:\s+(?:is|of|at|at least|to be|of at least))?\s*$",
    re.IGNORECASE,
)
_TARGET_AFTER = re.compile(r"\s*(?:target|goal|bar|threshold|sla|minimum)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Number:
    value: float
    scale: float | None  # 100 for a percentage, the denominator of "x/5"; None for a bare number
    start: int
    end: int


def _numbers(text: str) -> list[Number]:
    found = [Number(float(m.group(1)), 100.0, m.start(), m.end()) for m in _PERCENT.finditer(text)]
    found += [
        Number(float(m.group(1)), float(m.group(2)), m.start(), m.end())
        for m in _FRACTION.finditer(text)
        if float(m.group(2)) > 0
    ]
    taken = [(n.start, n.end) for n in found]
    found += [
        Number(float(m.group(1)), None, m.start(), m.end())
        for m in _BARE.finditer(text)
        if all(m.end() <= s or m.start() >= e for s, e in taken)
    ]
    return sorted(found, key=lambda n: n.start)


def _is_target(text: str, number: Number) -> bool:
    before = text[max(0, number.start - 24) : number.start]
    after = text[number.end : number.end + 12]
    # "target of 90%" / "a 4.2 target"; articles may sit in between ("vs a 92% target").
    before = re.sub(r"\b(?:a|an|the|our)\s*$", "", before.rstrip(), flags=re.IGNORECASE)
    return _TARGET_BEFORE.search(before) is not None or _TARGET_AFTER.match(after) is not None


def measured_against_target(text: str) -> tuple[bool, int, int] | None:
    """(meets the target?, start, end of the words compared), or None when the text does not
    give both a measured score and its target on a comparable scale."""
    numbers = _numbers(text)
    targets = [n for n in numbers if _is_target(text, n)]
    measured = [n for n in numbers if n.scale is not None and n not in targets]
    for score in measured:
        for target in targets:
            assert score.scale is not None
            goal = (
                target.value if target.scale is None else target.value * score.scale / target.scale
            )
            if target.scale is None and goal > score.scale:
                continue  # "need 950" is not a score out of 5
            start, end = min(score.start, target.start), max(score.end, target.end)
            return score.value >= goal, start, end
    return None
