"""Slack's rate tiers under a burst: 60 questions in one workspace within a "minute" all get
complete answers, once each, while the mock Slack answers 429 + Retry-After past each method's
budget (Tier 2 for starting and stopping streams, Tier 3 for edits, Tier 4 for appends).

Time is scaled so the test runs in seconds: the bot's pacer and the mock agree on a short window
in place of Slack's minute; budgets per window are Slack's own.
"""

from __future__ import annotations

import asyncio
from collections import Counter

from bot.slack.pacing import TIER_2, TIER_3, RatePacer, RateTiers
from tests.support.scripted import ScriptedResponder
from tests.support.slack_fixtures import MakeHarness
from tests.support.slack_requests import mention

WINDOW = 4.0  # seconds standing in for Slack's minute
QUESTIONS = 60
ANSWER = " ".join(f"Step {n}: write the prompt, measure it, then decide." for n in range(30))


async def test_a_burst_of_sixty_questions_is_answered_completely_once_each(
    make_harness: MakeHarness,
) -> None:
    responder = ScriptedResponder(answer=ANSWER, piece_chars=60, delay_seconds=0.02)
    harness = await make_harness(responder, pacer=RatePacer(RateTiers(window_seconds=WINDOW)))
    api = harness.api
    api.budget("chat.startStream", TIER_2, WINDOW)
    api.budget("chat.stopStream", TIER_2, WINDOW)
    api.budget("chat.update", TIER_3, WINDOW)
    # Lower than the bot's own Tier 4 count, as if another replica had used part of it: the
    # 429s and their Retry-After must be honoured too.
    api.budget("chat.appendStream", 10, WINDOW)

    events = [mention(f"Question {n}: should we fine-tune?") for n in range(QUESTIONS)]
    threads = {str(event["ts"]) for event in events}
    statuses = await asyncio.gather(*(harness.post_event(event) for event in events))
    assert statuses == [200] * QUESTIONS
    await api.wait_until(lambda: threads <= api.answered_threads(), within=90)
    await api.settle(quiet=0.5, within=30)

    for thread in threads:
        [message] = api.messages_in(thread)  # one message per answer: nothing duplicated
        shown = message.shown()
        assert shown.count("then decide.") == ANSWER.count("then decide."), thread
    assert len(harness.responder.questions) == QUESTIONS
    # Streams only within the Tier 2 budget; the rest were posted and edited instead.
    streamed = [m for m in api.messages.values() if m.streamed]
    assert 0 < len(streamed) < QUESTIONS
    limited = Counter(c.method for c in api.calls if c.status == 429)
    assert limited["chat.appendStream"] > 0  # the backstop was exercised...
    assert limited["chat.startStream"] == 0  # ...while the pacer kept the rest in budget
    assert limited["chat.update"] == 0
