"""Follow-up answers and outcome summaries, pure: who may answer, how parts merge, the counts."""

from __future__ import annotations

import pytest

from bot.checklist import outcomes
from bot.checklist.history import NOTE_LIMIT, Decision, FollowUp, Outcome


def _decision(started_by: str | None = "U1", followup_user: str | None = None) -> Decision:
    followup = (
        FollowUp(scheduled_message_id="Q1", channel_id="C1", post_at=10, user_id=followup_user)
        if followup_user
        else None
    )
    return Decision(
        team_id="T1",
        channel_id="C1",
        thread_ts="1.1",
        recommendation="prompting_first",
        label="Prompting first",
        checklist_version="2025.1",
        started_by=started_by,
        followup=followup,
    )


def test_parts_merge_and_an_empty_note_clears_the_note() -> None:
    decision = outcomes.answer(_decision(), "U1", now=1.0, choice="other")
    decision = outcomes.answer(decision, "U1", now=2.0, result="partly")
    decision = outcomes.answer(decision, "U1", now=3.0, note="  x" * 1000)
    assert decision.outcome is not None
    assert (decision.outcome.choice, decision.outcome.result) == ("other", "partly")
    assert decision.outcome.note is not None and len(decision.outcome.note) == NOTE_LIMIT
    assert decision.outcome.updated_at == 3.0
    cleared = outcomes.answer(decision, "U1", now=4.0, note="   ")
    assert cleared.outcome is not None and cleared.outcome.note is None
    assert cleared.outcome.result == "partly"
    assert outcomes.describe(cleared.outcome) == "Chose something else · Partly"


@pytest.mark.parametrize(
    ("decision", "user", "refusal"),
    [
        (_decision(), "U2", "Only <@U1> was asked"),
        # The follow-up names who it asked; that person, not the starter, answers.
        (_decision(followup_user="U3"), "U1", "Only <@U3> was asked"),
        (_decision(started_by=None), "U1", "Only the person who ran the checklist was asked"),
    ],
)
def test_only_the_person_asked_may_answer(decision: Decision, user: str, refusal: str) -> None:
    with pytest.raises(outcomes.FollowUpRefused, match=refusal):
        outcomes.answer(decision, user, now=1.0, result="worked")


def test_a_note_alone_is_not_a_report() -> None:
    assert not outcomes.reported(Outcome(user_id="U1", note="later", updated_at=1.0))
    assert outcomes.reported(Outcome(user_id="U1", result="did_not", updated_at=1.0))
    assert not outcomes.reported(None)
    noted = _decision().model_copy(
        update={"outcome": Outcome(user_id="U1", note="later", updated_at=1.0)}
    )
    [summary] = outcomes.summarise([noted, _decision()])
    assert (summary.decisions, summary.reported) == (2, 0)
    assert summary.line == "Prompting first: 2 decisions, 0 reported, 0 worked"
    assert outcomes.summarise([]) == []
