"""Suggested prompts for the Messages tab and assistant threads (also in the app manifest)."""

from __future__ import annotations

CHECKLIST_PROMPT = "Start the decision checklist"

SUGGESTED_PROMPTS: tuple[tuple[str, str], ...] = (
    ("Strict JSON output", "Should we fine-tune for strict JSON output?"),
    ("Decision checklist", CHECKLIST_PROMPT),
    ("RAG vs fine-tuning", "When is RAG better than fine-tuning?"),
    ("Prompting first?", "How far can we get with prompting before fine-tuning?"),
)

EMPTY_MENTION_HINT = (
    "Ask me whether to fine-tune, prompt, or use RAG. For example: "
    "_Should we fine-tune for strict JSON output?_"
)


def is_checklist_request(text: str) -> bool:
    return text.strip().rstrip(".!").casefold() == CHECKLIST_PROMPT.casefold()
