"""Counts in plain words: "about 50", "fifty", "a few hundred", "2k", "1,500", "200-300".

Number words become digits with text2num (a maintained parser; English number grammar is not
something to hand-roll), then the vague quantities people use for datasets ("a few hundred",
"thousands of") get a representative value. Every count keeps the span it came from in the
original text, so it can be quoted as evidence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from text_to_num import text2num

_UNITS = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
    "twenty",
    "thirty",
    "forty",
    "fifty",
    "sixty",
    "seventy",
    "eighty",
    "ninety",
    "hundred",
    "thousand",
    "million",
]
_WORD = r"(?:" + "|".join(sorted(_UNITS, key=len, reverse=True)) + r")"
# "two thousand five hundred", "thirty-five", "one hundred and twenty"
_NUMBER_WORDS = re.compile(rf"\b{_WORD}(?:(?:[\s-]+|\s+and\s+){_WORD})*\b", re.IGNORECASE)
_DIGITS = r"\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?"
_SCALE = {"k": 1_000, "m": 1_000_000}
# "1,500", "2.5k", "300", "20k"; with an optional range "200-300" / "200 to 300".
_DIGIT_COUNT = re.compile(
    rf"(?<![\w.])(?P<a>{_DIGITS})(?:\s?(?P<sa>[km])\b)?"
    rf"(?:\s?(?:-|–|to)\s?(?P<b>{_DIGITS})(?:\s?(?P<sb>[km])\b)?)?(?![\d.]|\s?%)",
    re.IGNORECASE,
)
# Vague amounts: a multiplier word before a scale word, or a bare plural scale.
_VAGUE_WORDS = (
    "tens of thousands of|a couple of|a handful of|thousands of|hundreds of|dozens of|a couple|"
    "a handful|several|a dozen|tens of|a few|many"
)
_VAGUE = re.compile(
    rf"\b(?P<q>{_VAGUE_WORDS})\b(?:\s+(?P<scale>hundred|thousand|dozen)s?\b)?",
    re.IGNORECASE,
)
_QUANTIFIER = {
    "a few": 3,
    "a couple": 2,
    "a couple of": 2,
    "several": 4,
    "many": 5,
    "a handful of": 5,
    "a handful": 5,
}
_BARE = {
    "a dozen": 12,
    "dozens of": 36,
    "tens of": 30,
    "hundreds of": 300,
    "thousands of": 3_000,
    "tens of thousands of": 30_000,
}
_SCALE_WORDS = {"dozen": 12, "hundred": 100, "thousand": 1_000}


@dataclass(frozen=True)
class Count:
    value: float
    start: int  # span in the text the count was read from
    end: int


def _digits(text: str, suffix: str | None) -> float:
    return float(text.replace(",", "")) * _SCALE.get((suffix or "").lower(), 1)


def find_counts(text: str) -> list[Count]:
    """Every count in `text`, in order, with its span; ranges count as their midpoint."""
    found: list[Count] = []
    taken: list[tuple[int, int]] = []

    def free(start: int, end: int) -> bool:
        return all(end <= s or start >= e for s, e in taken)

    for match in _VAGUE.finditer(text):
        quantifier = match.group("q").lower()
        scale = (match.group("scale") or "").lower()
        if scale:
            value = _QUANTIFIER.get(quantifier, _BARE.get(quantifier, 1)) * _SCALE_WORDS[scale]
        elif quantifier in _BARE:
            value = _BARE[quantifier]
        else:
            continue  # "several" alone says nothing about size
        found.append(Count(float(value), match.start(), match.end()))
        taken.append((match.start(), match.end()))
    for match in _NUMBER_WORDS.finditer(text):
        if not free(match.start(), match.end()):
            continue
        words = re.sub(r"[\s-]+", " ", match.group(0).lower()).strip()
        try:
            value = text2num(words, "en")
        except ValueError:
            continue
        found.append(Count(float(value), match.start(), match.end()))
        taken.append((match.start(), match.end()))
    for match in _DIGIT_COUNT.finditer(text):
        if not free(match.start(), match.end()):
            continue
        low = _digits(match.group("a"), match.group("sa"))
        if match.group("b"):
            high = _digits(match.group("b"), match.group("sb") or match.group("sa"))
            low = (low + high) / 2
        found.append(Count(low, match.start(), match.end()))
    return sorted(found, key=lambda count: count.start)
