from __future__ import annotations

import pytest

from bot.slack.mrkdwn import neutralise_mentions, sanitize_markdown, to_mrkdwn

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
        ("<@U123> <https://evil|click>", "&lt;@U123&gt; &lt;https://evil|click&gt;"),
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


def test_neutralised_text_is_stable() -> None:
    once = neutralise_mentions("<!channel> @here")
    assert neutralise_mentions(once) == once
