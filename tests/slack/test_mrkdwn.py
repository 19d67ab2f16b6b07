from __future__ import annotations

import time

import pytest

from bot.slack.mrkdwn import (
    echo_text,
    escape,
    neutralise_mentions,
    sanitize_markdown,
    to_mrkdwn,
)

Z = "\u200d"


@pytest.mark.parametrize(
    ("markdown", "expected"),
    [
        ("a & b < c > d", "a &amp; b &lt; c &gt; d"),
        ("**bold** and __also__", "*bold* and *also*"),
        ("*italic* text", "_italic_ text"),
        ("~~gone~~", "~gone~"),
        ("# Title\nbody", "*Title*\nbody"),
        ("### **Deep** title ###", "*Deep title*"),
        ("[the guide](https://x.io/a?b=1&c=2)", "<https://x.io/a?b=1&amp;c=2|the guide>"),
        ("[evil](javascript:alert)", "evil"),
        ("- one\n  * two", "• one\n  • two"),
        ("`<code> & **x**`", "`&lt;code&gt; &amp; **x**`"),
        ("```python\nif a < b:\n    **x**\n```", "```if a &lt; b:\n    **x**```"),
        ("<!channel> hi", f"@{Z}channel hi"),
        ("<!here|here> and <!everyone>", f"@{Z}here and @{Z}everyone"),
        ("<!subteam^S1|@ml-team> look", f"@{Z}ml-team look"),
        ("<!subteam^S1>", f"@{Z}group"),
        ("@here and @channel!", f"@{Z}here and @{Z}channel!"),
        ("mail me@here.com", "mail me@here.com"),
        # Slack constructs the bot did not write: inert, a link showing its real target.
        ("<@U123> <https://evil|click>", f"@{Z}U123 click (https://evil)"),
        ("<http://a.b/?x=1&y=2>", "http://a.b/?x=1&amp;y=2"),
        ("a < b and c > d", "a &lt; b and c &gt; d"),
        ("x\x00y", "xy"),
    ],
)
def test_to_mrkdwn(markdown: str, expected: str) -> None:
    assert to_mrkdwn(markdown) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("**keep** [md](https://a.b)", "**keep** [md](https://a.b)"),
        ("<!here> now", f"@{Z}here now"),
        ("<!date^123^{date}|Jan 1>", "Jan 1"),
        ("@everyone", f"@{Z}everyone"),
    ],
)
def test_sanitize_markdown_keeps_markdown(text: str, expected: str) -> None:
    assert sanitize_markdown(text) == expected


# Hostile text in a document or a model's answer, and what both paths show instead.
SAME_ON_BOTH_PATHS = [
    ("Please ping <@U999|boss>", f"Please ping @{Z}boss"),
    ("Please ping <@U999>", f"Please ping @{Z}U999"),
    ("<@W1|@here>", f"@{Z}here"),
    ("join <#C123|general> or <#C9>", "join #general or #C9"),
    (
        "<http://evil.example/steal|the official LoRA rank guide>",
        "the official LoRA rank guide (http://evil.example/steal)",
    ),
    ("<https://x.io|https://x.io>", "https://x.io"),
    ("<mailto:a@b.io|write to us>", "write to us (mailto:a@b.io)"),
    ("<www.evil.example|the guide>", "the guide (www.evil.example)"),
    ("<!channel|attention everyone> done", f"@{Z}channel done"),
    ("<!subteam^S1|@ml-team>", f"@{Z}ml-team"),
    ("<!date^1^{date}|Jan 1>", "Jan 1"),
    # A construct inside a label cannot come back to life once the outer one is rewritten.
    ("<@U1|x <!here> y>", f"@{Z}x \u2039!here y&gt;"),
    ("<foo|<!channel>>", "\u2039!channel (foo)&gt;"),
]


@pytest.mark.parametrize(("hostile", "shown"), SAME_ON_BOTH_PATHS)
def test_stream_and_post_show_the_same_inert_text(hostile: str, shown: str) -> None:
    assert to_mrkdwn(hostile) == escape(shown.replace("&gt;", ">"))
    assert sanitize_markdown(hostile) == shown.replace("&gt;", ">")


@pytest.mark.parametrize("text", ["x <!channel|a", "see <http://evil|guide", "tail <", "<@U1"])
def test_the_stream_escapes_a_construct_nothing_closes(text: str) -> None:
    # A later piece's ">" must not complete it: Slack joins a stream's pieces.
    start = text.index("<")
    assert sanitize_markdown(text) == text[:start] + "&lt;" + text[start + 1 :]


def test_the_stream_keeps_closed_non_slack_angles() -> None:
    assert sanitize_markdown("List<int> and a < b > c") == "List<int> and a < b > c"


@pytest.mark.parametrize(
    ("typed", "echoed"),
    [
        ("what is\x00 lora\u202e rank", "what is lora rank"),
        ("\u2066isolate\u2069 \u200fmark\u200e \x1b[31mred\x7f", "isolate mark [31mred"),
        ("tabs\tand\nlines stay", "tabs\tand\nlines stay"),
        ("<!channel>", f"@{Z}channel"),
        ("<@U1|boss> & <b>", f"@{Z}boss &amp; &lt;b&gt;"),
        ("@here", f"@{Z}here"),
    ],
)
def test_echoed_user_text_is_stripped_neutralised_and_escaped(typed: str, echoed: str) -> None:
    assert echo_text(typed) == echoed


def test_neutralised_text_is_stable() -> None:
    once = neutralise_mentions("<!channel> @here")
    assert neutralise_mentions(once) == once


@pytest.mark.parametrize("unit", ["<@", "<a|", "<http:", "<!channel|"])
def test_sanitising_hostile_text_takes_linear_time(unit: str) -> None:
    # Openers that nothing closes, repeated: a scan to the end for each would take seconds.
    text = unit * (48_000 // len(unit))
    started = time.perf_counter()
    shown = sanitize_markdown(text)
    assert time.perf_counter() - started < 1.0
    assert "<" not in shown and shown.count("&lt;") == text.count("<")
