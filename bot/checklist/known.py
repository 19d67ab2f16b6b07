"""What is known about each checklist question, given answers that may be partial.

A question is answered (its option is known), skipped (its `ask_if` says it does not apply) or
unknown (not answered yet, or it is not yet known whether it applies). A finished checklist has
no unknowns; a situation read from a message usually has many. Everything that scores or gates
an outcome reads answers through `Known.lookup`, so the same rules serve both.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.checklist.definition import Checklist, Truth


class Known:
    __slots__ = ("answers", "skipped", "unknown")

    def __init__(self, checklist: Checklist, answers: Mapping[str, str]) -> None:
        self.answers: dict[str, str] = {}
        self.skipped: set[str] = set()
        self.unknown: list[str] = []  # in definition order
        for question in checklist.questions:
            applies = True if question.ask_if is None else question.ask_if.evaluate(self.lookup)
            if applies is False:
                # An answer to a question that does not apply is dropped, as the checklist would.
                self.skipped.add(question.id)
            elif question.id in answers:
                self.answers[question.id] = answers[question.id]
            else:
                self.unknown.append(question.id)

    def lookup(self, question_id: str, option_ids: tuple[str, ...]) -> Truth:
        """Whether the question's answer is one of `option_ids`; None while it is unknown."""
        chosen = self.answers.get(question_id)
        if chosen is not None:
            return chosen in option_ids
        if question_id in self.skipped:
            return False
        return None

    @property
    def complete(self) -> bool:
        return not self.unknown
