"""The two decisions escalation makes without any I/O: is this message asking for a human, and
may this user mark an escalation resolved."""

from __future__ import annotations

import re
from collections.abc import Collection

from bot.escalation.models import Escalation, ExpertRoster, ResolverRole

# Whole messages that mean "hand this to a person" (after the bot mention is removed).
_EXACT = frozenset(
    {
        "expert",
        "experts",
        "an expert",
        "ask an expert",
        "ask the experts",
        "escalate",
        "escalate this",
        "human",
        "a human",
        "human please",
        "ask a human",
    }
)
_WHO = (
    r"(?:one of (?:the|our)\s+|(?:a|an|some|one|any|the|our)\s+)(?:real\s+|actual\s+)?"
    r"(?:human|humans|person|people|expert|experts)"
)
# What a request to look is about: this thread, or nothing more (the message ends there).
_AT_THIS = (
    r"(?:\s+(?:at|over|into|on|in on|in))?\s+"
    r"(?:this|that|it|here|(?:the|this|my|our) (?:thread|answer|question|case|one))\b"
)
_ENDS = r"(?:\s+please)?[\s?.!]*$"
# A person as the subject of a request to look at this thread: "can a human look at this?",
# "could an expert take a look?", "I'd like to talk to a human". The verb must follow the noun
# and the request must be about this thread (or end the message), so "do we need an expert to
# fine-tune?", "can an expert system help?" and "can a human review our dataset instead of an
# eval set?" stay questions for the advisor.
_PATTERNS = (
    re.compile(
        rf"\b(?:can|could|would|will|may)\s+{_WHO}\s+(?:please\s+)?"
        r"(?:look|check|review|help|weigh in|take a look|have a look|answer|confirm|chime in)"
        rf"(?:{_AT_THIS}|{_ENDS})"
    ),
    re.compile(
        r"\b(?:i'd like|i would like|we'd like|i want|we want|i need|we need|let me|can i|could i)"
        rf"\s+(?:to\s+)?(?:talk|speak)\s+to\s+{_WHO}"
    ),
    re.compile(rf"\b(?:get|loop in|bring in)\s+{_WHO}\s+(?:on|in on|to look at|for){_AT_THIS}"),
    re.compile(r"^(?:please\s+)?escalate\b"),
)


def is_escalation_request(text: str) -> bool:
    normalised = " ".join(text.casefold().replace("’", "'").split())
    bare = normalised.strip(" .!?")
    if bare in _EXACT:
        return True
    return any(pattern.search(normalised) for pattern in _PATTERNS)


def resolver_role(
    user_id: str,
    escalation: Escalation,
    roster: ExpertRoster,
    group_members: Collection[str] = (),
) -> ResolverRole | None:
    """ "expert" for a listed expert or a member of the experts' group, "asker" for the person
    whose question it is (or who asked for the expert), None for anyone else."""
    if user_id in roster.user_ids or (roster.group_id is not None and user_id in group_members):
        return "expert"
    if user_id in (escalation.asker_id, escalation.requested_by):
        return "asker"
    return None
