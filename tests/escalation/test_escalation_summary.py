"""The summary experts read: the thread's question, the verdict and facts, what the guidance
said. Pure."""

from __future__ import annotations

from bot.escalation.summary import clip, guidance_excerpt, summarise
from bot.models import Turn

VERDICT_ANSWER = (
    "**Recommendation: Prompting first** (provisional)\n"
    "Improve the prompt before anything else.\n\n"
    "**Read from what you wrote**\n- Examples: Tens (“about 50 example posts”)\n\n"
    "**Why**\n- Tens of examples are too few to train reliably. (guidance: Data)\n\n"
    "**What the guidance says** (no language model configured: the most relevant sentences)\n"
    "- Write a system prompt describing the voice [1].\n- Include a few examples [2].\n\n"
    "**When this would change**\n- Fine-tuning encodes the style [3]\n\n"
    "**To firm this up**\n- Have you tried careful prompting?"
)


def test_the_guidance_part_of_a_verdict_answer_is_kept_without_marks() -> None:
    excerpt = guidance_excerpt(VERDICT_ANSWER)
    assert excerpt == "Write a system prompt describing the voice. Include a few examples."


def test_a_generated_verdict_answer_has_no_guidance_heading() -> None:
    answer = VERDICT_ANSWER.replace(
        "**What the guidance says** (no language model configured: the most relevant sentences)\n",
        "",
    )
    assert guidance_excerpt(answer).startswith("Write a system prompt")
    assert "Fine-tuning encodes" not in guidance_excerpt(answer)


def test_an_ordinary_answer_is_clipped_at_a_word() -> None:
    answer = "## Recommendation\n\n**Prompt first**, then add RAG [1]. " + "word " * 300
    excerpt = guidance_excerpt(answer, limit=80)
    assert excerpt.startswith("Recommendation Prompt first, then add RAG.")
    assert len(excerpt) <= 80 and excerpt.endswith("…") and "[1]" not in excerpt


def test_clip_keeps_short_text_and_flattens_lines() -> None:
    assert clip("a\n b", 10) == "a b"
    assert clip("x" * 20, 10) == "x" * 9 + "…"


def test_the_first_question_leads_and_the_latest_follows() -> None:
    turns = [
        Turn(role="user", content="Should we fine-tune for tone?"),
        Turn(role="assistant", content="Prompt first [1]."),
        Turn(role="user", content="We have 50 examples now"),
        Turn(role="assistant", content="Still prompting first."),
    ]
    summary = summarise(turns, verdict="Prompting first (provisional)", facts=["Examples: Tens"])
    assert summary.question == "Should we fine-tune for tone?"
    assert summary.latest == "We have 50 examples now"
    assert summary.guidance == "Still prompting first."
    assert (summary.verdict, summary.facts) == (
        "Prompting first (provisional)",
        ("Examples: Tens",),
    )


def test_the_answer_under_the_button_wins_over_memory() -> None:
    turns = [Turn(role="user", content="Q1"), Turn(role="assistant", content="A1")]
    summary = summarise(turns, question="Q2", answer="A2 [1]", sources=["Doc", "Doc", " "])
    assert (summary.question, summary.latest, summary.guidance) == ("Q1", "Q2", "A2")
    assert summary.sources == ("Doc",)


def test_without_memory_the_answer_record_is_enough() -> None:
    summary = summarise([], question="Q", answer="A")
    assert (summary.question, summary.latest, summary.guidance) == ("Q", None, "A")


def test_an_empty_thread_gives_an_empty_summary() -> None:
    summary = summarise([])
    assert (summary.question, summary.latest, summary.guidance) == ("", None, "")
