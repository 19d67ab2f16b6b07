"""Mentions and disguised links in answers can never reach Slack live, however the model's output
is cut into stream pieces: Slack joins a stream's pieces, so a `<!channel|…>` written across
three pieces would ping the channel if each piece were only checked alone.

Every hostile string is split at every position (and into single characters) and written through
the real AnswerWriter and its Slack parts against the mock Slack Web API; the issue's own split
and the disguised link also go through the real Bolt app, on the stream and on the posted
fallback, which must show the same safe text.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.models import AnswerEvent, DeltaEvent, DoneEvent, Question, StatusEvent
from bot.slack.mrkdwn import sanitize_markdown
from bot.slack.pacing import RatePacer, RateTiers
from bot.slack.parts import MIN_APPEND_SECONDS, Target
from bot.slack.writer import MAX_OPEN_TOKEN_CHARS, AnswerWriter
from tests.support.slack_api import TEAM_ID, MockSlackApi
from tests.support.slack_fixtures import MakeHarness
from tests.support.slack_harness import SlackHarness, streamed_text
from tests.support.slack_requests import CHANNEL, USER, mention

ZWJ = "\u200d"
# A "<" that Slack could read as the start of a mention or a link: in this suite's hostile
# strings every "<" is one, so none may reach Slack unescaped.
LIVE = re.compile(r"<[@#!]|<[A-Za-z][\w+.-]*:|<[^<>|\s]*\|")

HOSTILE: dict[str, str] = {
    "channel with label": "Note <!channel|attention everyone> done",
    "here": "Ask <!here|here> now, please.",
    "everyone alone": "<!everyone>",
    "subteam": "ping <!subteam^S1|@ml-team> today",
    "user with label": "Please ping <@U999|boss> now",
    "user and channel": "x <@U1> in <#C123|general> and <#C9> y",
    "disguised link": "See <http://evil.example/steal|the official LoRA rank guide> first.",
    "nested": "a <@U1|x <!here> y> b",
}
# What a reader sees in place of each construct, however the text was cut.
SHOWN: dict[str, list[str]] = {
    "channel with label": [f"@{ZWJ}channel"],
    "here": [f"@{ZWJ}here"],
    "everyone alone": [f"@{ZWJ}everyone"],
    "subteam": [f"@{ZWJ}ml-team"],
    "user with label": [f"@{ZWJ}boss"],
    "user and channel": [f"@{ZWJ}U1", "#general", "#C9"],
    "disguised link": ["the official LoRA rank guide (http://evil.example/steal)"],
    "nested": [f"@{ZWJ}x"],
}
NO_PACING = RatePacer(RateTiers(budgets={}))


def every_split(text: str) -> list[list[str]]:
    """`text` cut in two at every position, and cut into single characters."""
    splits = [[text[:i], text[i:]] for i in range(1, len(text))]
    return [*splits, list(text)]


@pytest.fixture
async def slack_api() -> AsyncIterator[MockSlackApi]:
    async with MockSlackApi() as api:
        yield api


async def write(api: MockSlackApi, pieces: list[str], thread_ts: str, pause: float = 0.0) -> str:
    """Stream `pieces` as one answer through the real writer, `pause` seconds apart (a model
    that is slow to go on); what Slack joined, in order."""
    api.reset()
    client = AsyncWebClient(token="xoxb-test", base_url=api.url)
    target = Target(
        client,
        channel_id=CHANNEL,
        thread_ts=thread_ts,
        team_id=TEAM_ID,
        user_id=USER,
        pacer=NO_PACING,
    )
    writer = AnswerWriter(target)
    for piece in pieces:
        await writer.append(piece)
        await asyncio.sleep(pause)
    await writer.finish([])
    assert writer.native  # the stream path, not the posted fallback
    return streamed_text(api)


@pytest.mark.parametrize("case", list(HOSTILE))
async def test_no_split_of_a_hostile_string_reaches_slack_live(
    slack_api: MockSlackApi, case: str
) -> None:
    text = HOSTILE[case]
    for number, pieces in enumerate(every_split(text)):
        shown = await write(slack_api, pieces, f"1.{number}")
        assert not LIVE.search(shown), (pieces, shown)
        # Held back until complete, so every cut renders the same as the whole.
        assert shown == sanitize_markdown(text), (pieces, shown)
        for inert in SHOWN[case]:
            assert inert in shown, (pieces, shown)


async def test_the_issues_four_pieces(slack_api: MockSlackApi) -> None:
    pieces = ["Note ", "<!channel|attention", " every", "one> done"]
    shown = await write(slack_api, pieces, "2.1")
    assert shown == f"Note @{ZWJ}channel done"
    # "Note " went out as soon as it was safe: only the construct was held back.
    [start] = slack_api.calls_to("chat.startStream")
    assert start.params["markdown_text"] == "Note "


async def test_an_unclosed_angle_is_released_escaped_never_dropped(
    slack_api: MockSlackApi,
) -> None:
    filler = "word " * (MAX_OPEN_TOKEN_CHARS // 5 + 20)
    pieces = ["Ranks < 64 and <!channel|x ", filler, "end> done"]
    # Slow enough for the released text to be appended before the ">" arrives.
    shown = await write(slack_api, pieces, "3.1", pause=MIN_APPEND_SECONDS + 0.1)
    assert not LIVE.search(shown)
    assert shown.startswith("Ranks &lt; 64 and &lt;!channel|x word")  # released, escaped
    assert shown.count("word") == filler.count("word") and shown.endswith("end> done")
    [start] = slack_api.calls_to("chat.startStream")
    assert start.params["markdown_text"] == "Ranks "  # held from the "<", then released
    assert "&lt;!channel|x" in slack_api.calls_to("chat.appendStream")[0].params["markdown_text"]


@dataclass
class PiecesResponder:
    """Streams each question's answer in the given pieces (keyed by question text)."""

    script: dict[str, list[str]]
    asked: list[str] = field(default_factory=list)

    async def respond(self, question: Question) -> AsyncIterator[AnswerEvent]:
        self.asked.append(question.text)
        pieces = self.script[question.text]
        yield StatusEvent(stage="drafting", message="Drafting...")
        for piece in pieces:
            yield DeltaEvent(text=piece)
        yield DoneEvent(mode="llm", answer="".join(pieces), citations=(), index_version="idx-1")


def answer_text(harness: SlackHarness, thread: str) -> str:
    """What the answer's message shows (streamed text or posted sections), without its footer."""
    [message] = harness.api.messages_in(thread)
    if message.streamed and not message.edits:
        return message.text
    return "\n".join(
        str(block["text"]["text"])
        for block in message.blocks
        if block.get("type") == "section" and "answer_actions" not in str(block)
    )


DOCUMENT_ANSWER = (
    "Please ping <@U999|boss> about it, and read "
    "<http://evil.example/steal|the official LoRA rank guide> first."
)


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "post fallback"])
async def test_through_the_app_every_split_is_inert_on_both_paths(
    make_harness: MakeHarness, stream: bool
) -> None:
    texts = {
        "issue": ["Note ", "<!channel|attention", " every", "one> done"],
        **{f"doc {i}": [DOCUMENT_ANSWER[:i], DOCUMENT_ANSWER[i:]] for i in range(1, 40)},
        "doc by char": list(DOCUMENT_ANSWER),
    }
    harness = await make_harness(PiecesResponder(texts), pacer=NO_PACING)
    if not stream:
        harness.api.fail("chat.startStream", "feature_not_enabled", times=len(texts))
    threads = {}
    for question in texts:
        event = mention(question)
        assert await harness.post_event(event) == 200
        threads[question] = str(event["ts"])
    await harness.api.wait_until(
        lambda: set(threads.values()) <= harness.api.answered_threads(), within=30
    )
    await harness.api.settle()
    for question, thread in threads.items():
        shown = answer_text(harness, thread)
        assert not LIVE.search(shown), (question, shown)
        if question == "issue":
            assert f"@{ZWJ}channel done" in shown
            continue
        # The same words on both paths: no ping, and the link's real target in plain sight.
        assert f"Please ping @{ZWJ}boss about it" in shown, shown
        assert "the official LoRA rank guide (http://evil.example/steal) first." in shown, shown
    streamed = [c for c in harness.api.ok_calls() if "Stream" in c.method and c.response.get("ok")]
    assert bool(streamed) == stream
    assert "<@U999" not in harness.sent() and "<http://evil" not in harness.sent()
