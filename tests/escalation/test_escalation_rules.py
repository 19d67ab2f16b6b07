"""Which messages ask for a human, and who may mark an escalation resolved. Pure, table-style."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.escalation.models import Escalation, EscalationSummary, ExpertRoster
from bot.escalation.rules import is_escalation_request, resolver_role


@pytest.mark.parametrize(
    "text",
    [
        "expert",
        "Expert!",
        "ask an expert",
        "escalate",
        "Please escalate this to someone",
        "can a human look at this?",
        "Could an expert take a look?",
        "can someone... no, can a real person please review this answer",
        "I'd like to talk to a human",
        "can we get a human on this?",
        "could one of the experts weigh in",  # "the experts"
        "Can the experts check this?",
        "can a human look at this and tell us if LoRA is right?",
        "could an expert please have a look at my question",
        "Can someone bring in an expert on this?",
    ],
)
def test_requests_for_a_person_are_recognised(text: str) -> None:
    assert is_escalation_request(text)


@pytest.mark.parametrize(
    "text",
    [
        "Should we fine-tune?",
        "Do we need an expert to fine-tune a model?",
        "Can an expert system help with tone?",
        "What does a human evaluator look at in RAG evals?",
        "experts say prompting first; is that right for 50 examples?",
        "can a model look at our tickets and label them?",
        "Can a human review our dataset instead of building an eval set?",
        "Should we talk to an expert before fine-tuning?",
        "Should we get an expert to label the data?",
        "Could an expert help us write the prompt for support tickets?",
        "",
    ],
)
def test_ordinary_questions_are_not_escalations(text: str) -> None:
    assert not is_escalation_request(text)


def _escalation(asker: str = "U0ASKER", requested_by: str = "U0ASKER") -> Escalation:
    return Escalation(
        escalation_id="abcdef0123456789",
        team_id="T1",
        channel_id="C1",
        thread_ts="1.1",
        requested_by=requested_by,
        asker_id=asker,
        source="button",
        summary=EscalationSummary(question="q"),
    )


@pytest.mark.parametrize(
    ("user_id", "members", "role"),
    [
        ("U0EXPERT", frozenset(), "expert"),  # named in ADVISOR_EXPERT_USER_IDS
        ("U0GROUPIE", frozenset({"U0GROUPIE"}), "expert"),  # member of the experts' group
        ("U0ASKER", frozenset(), "asker"),
        ("U0CLICKER", frozenset(), "asker"),  # asked for the expert on someone's question
        ("U0OTHER", frozenset({"U0GROUPIE"}), None),
        ("U0ASKER", frozenset({"U0ASKER"}), "expert"),  # an expert asking is still an expert
    ],
)
def test_only_experts_and_the_asker_may_resolve(
    user_id: str, members: frozenset[str], role: str | None
) -> None:
    roster = ExpertRoster(user_ids=frozenset({"U0EXPERT"}), group_id="S0GROUP")
    escalation = _escalation(requested_by="U0CLICKER")
    assert resolver_role(user_id, escalation, roster, members) == role


def test_group_members_count_only_when_a_group_is_configured() -> None:
    roster = ExpertRoster(user_ids=frozenset({"U0EXPERT"}))
    assert resolver_role("U0GROUPIE", _escalation(), roster, {"U0GROUPIE"}) is None


@pytest.mark.parametrize("bad", ["<!channel>", "alice", "U0EXPERT>", "<@U0EXPERT>"])
def test_a_roster_holds_only_slack_ids(bad: str) -> None:
    with pytest.raises(ValidationError, match="should match pattern"):
        ExpertRoster(user_ids=frozenset({bad}))
    with pytest.raises(ValidationError, match="should match pattern"):
        ExpertRoster(group_id=bad)
