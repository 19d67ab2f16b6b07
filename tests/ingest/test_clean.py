"""Table tests for the pure cleaning functions."""

from __future__ import annotations

import pytest

from bot.retrieval.boilerplate import strip_boilerplate_lines
from bot.retrieval.text_repair import repair_text
from bot.retrieval.webpage import html_to_markdown


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("the modelâ€™s weights", "the model’s weights"),
        ("the â€œadvancedâ€\x9d option", "the “advanced” option"),
        # The 0x9D byte of "”" lost by a scraper: ftfy alone would produce "†".
        ("the â€œadvancedâ€ option", "the “advanced” option"),
        ("prompt â€” then measure", "prompt — then measure"),
        ("cafÃ© rÃ©sumÃ©", "café résumé"),
        ("### âŒ Myth", "### ❌ Myth"),
        ("> ðŸ“ **Key Takeaways**", "> 📝 **Key Takeaways**"),
        ("ðŸ‘‰ next", "👉 next"),
        ("already “clean” text’s fine", "already “clean” text’s fine"),
        ("pâte São fête", "pâte São fête"),
    ],
)
def test_repair_text_fixes_mojibake(raw: str, expected: str) -> None:
    assert repair_text(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("a\r\nb\rc", "a\nb\nc"),
        ("one\n\n\n\n\ntwo", "one\n\ntwo"),
        ("bell\x07 and nul\x00 gone\tkept", "bell and nul gone\tkept"),
        ("zero\u200bwidth soft\u00adhyphen", "zerowidth softhyphen"),
        ("e\u0301", "é"),  # NFC
        ("non\u00a0breaking  \ntrailing   ", "non breaking\ntrailing"),
        ("\n\n  indented first\n\n", "  indented first"),
        ("", ""),
    ],
)
def test_repair_text_normalises(raw: str, expected: str) -> None:
    assert repair_text(raw) == expected


@pytest.mark.parametrize(
    "line",
    [
        "Skip to main content",
        "Back to BlogArtificial Intelligence",
        "Back to top",
        "Share this article",
        "Share on Twitter",
        "- [Share on LinkedIn](https://linkedin.com/share)",
        "5 min read",
        "Read more »",
        "12 minute read",
        "Accept all cookies",
        "We use cookies to improve your experience. By continuing you agree.",
        "Leave a Comment",
        "Leave a Reply",
        "3 Comments",
        "Your email address will not be published. Required fields are marked *",
        "This site uses Akismet to reduce spam. Learn how your comment data is processed.",
        "Subscribe to our newsletter",
        "Sign up for our newsletter and get weekly tips",
        "© 2025 Acme AI. All rights reserved.",
        "Copyright 2024 Example Corp",
        "Acme Inc. All rights reserved.",
        "Scroll to Top",
    ],
)
def test_strip_boilerplate_drops_page_furniture(line: str) -> None:
    text = f"Real paragraph one.\n\n{line}\n\nReal paragraph two."
    assert strip_boilerplate_lines(text) == "Real paragraph one.\n\nReal paragraph two."


@pytest.mark.parametrize(
    "line",
    [
        "Prompting needs no training, so you can skip to main results quickly when iterating.",
        "Share this article with your team if fine-tuning costs worry them.",
        "We use cookies as an example of state the model cannot see.",
        "Leave a comment in the prompt telling the model the expected format.",
        "The dataset licence says all rights reserved, so we cannot fine-tune on it.",
        "Copyright law and training data",
        "5 minutes",
        "## Back to basics",
        "Accept",
        "Read more about LoRA in the appendix before you start.",
    ],
)
def test_strip_boilerplate_keeps_content(line: str) -> None:
    text = f"Real paragraph one.\n\n{line}\n\nReal paragraph two."
    assert strip_boilerplate_lines(text) == text


_LONG = " ".join(["The real article goes on for a long time."] * 5)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Intro.\n\nBody text that is long enough to be the main part of the page.\n\n"
            "Related Articles\nView All\nHow to evaluate\nRAG in production",
            "Intro.\n\nBody text that is long enough to be the main part of the page.",
        ),
        (
            "# Guide\n\nBody.\n\n## You may also like\n\n- Other post\n\n## Next steps\n\nDo it.",
            "# Guide\n\nBody.\n\n## Next steps\n\nDo it.",
        ),
        # A stray "Read more" early in a plain-text page must not swallow the article after it.
        (
            "Teaser.\nRead more\n" + _LONG,
            "Teaser.\n" + _LONG,
        ),
        ("```\nShare this article\n```", "```\nShare this article\n```"),
    ],
)
def test_strip_boilerplate_sections(text: str, expected: str) -> None:
    assert strip_boilerplate_lines(text) == expected


_PAGE = """<html><head><title>Fine-tuning vs RAG | Acme Blog</title></head><body class="has-sidebar">
<header><a href="/">Acme</a></header>
<nav class="menu"><ul><li>Home</li><li>Blog</li></ul></nav>
<div id="cookie-banner"><p>We use cookies.</p><button>Accept</button></div>
<div class="breadcrumbs">Home › Blog</div>
<div class="layout"><main>
<article><h1>Fine-tuning vs RAG</h1>
<p>Fine-tuning changes <b>weights</b>;
RAG changes the <code>context</code>.</p>
<h2>When to use RAG</h2>
<ul><li>Facts change often<ul><li>weekly prices</li></ul></li><li>You need citations</li></ul>
<ol><li>Measure first</li></ol>
<pre><code><span class="token comment"># keep me</span>
x = 1</code></pre>
<table><tr><th>Aspect</th><th>RAG</th></tr><tr><td>Cost</td><td>Low</td></tr></table>
<div class="social-share">Share on Twitter</div>
</article>
<section class="related-posts"><h2>Related</h2><article><h3>Other post</h3></article></section>
<div id="comments"><h3>Leave a Reply</h3><form><textarea></textarea></form></div>
</main><aside>Popular posts</aside></div>
<div class="newsletter-popup">Subscribe now</div>
<footer>© 2024 Acme. All rights reserved.</footer></body></html>"""

_EXPECTED = """# Fine-tuning vs RAG

Fine-tuning changes weights; RAG changes the `context`.

## When to use RAG

- Facts change often
- weekly prices
- You need citations

1. Measure first

```
# keep me
x = 1
```
| Aspect | RAG |
|---|---|
| Cost | Low |"""


def test_html_to_markdown_keeps_the_article_only() -> None:
    title, text = html_to_markdown(_PAGE)
    assert title == "Fine-tuning vs RAG"
    assert text == _EXPECTED


@pytest.mark.parametrize(
    ("html", "title", "kept", "dropped"),
    [
        (
            '<title>Page</title><meta property="og:title" content="OG title"><p>Body</p>',
            "OG title",
            ["Body"],
            [],
        ),
        # The page's only heading is its title; the text keeps the paragraph.
        ("<body><h1>Only heading</h1><p>Text</p></body>", "Only heading", ["Text"], []),
        ("<p>No title here</p>", None, ["No title here"], []),
        (
            "<body><div>Outside</div><main><h2>Inside</h2><p>Main text, long enough.</p></main>"
            "</body>",
            "Inside",
            ["## Inside", "Main text"],
            ["Outside"],
        ),
        (
            "<body><article><p>Short card</p></article><article><p>The long article body"
            " wins over a short card.</p></article></body>",
            None,
            ["long article body"],
            [],
        ),
        (
            '<body><div role="navigation">Menu items</div><div aria-label="Breadcrumb">A › B</div>'
            '<div class="relatedPosts">Other</div><p>Kept text</p><div class="ad-slot">Buy</div>'
            '<div class="gdpr-consent">Consent</div><div class="modal">Pop</div></body>',
            None,
            ["Kept text"],
            ["Menu", "A › B", "Other", "Buy", "Consent", "Pop"],
        ),
        ("<p>line one<br>line two</p>", None, ["line one\nline two"], []),
        ("", None, [], []),
        ("<script>alert(1)</script><style>p{}</style>", None, [], ["alert", "p{}"]),
    ],
)
def test_html_to_markdown_cases(
    html: str, title: str | None, kept: list[str], dropped: list[str]
) -> None:
    got_title, text = html_to_markdown(html)
    assert got_title == title
    for fragment in kept:
        assert fragment in text
    for fragment in dropped:
        assert fragment not in text
