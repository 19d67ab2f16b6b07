"""Table tests for heading-aware chunking and content hashes."""

from __future__ import annotations

import itertools

import pytest

from bot.models import Document
from bot.retrieval.chunking import ChunkPolicy, chunk_document, content_hash, split_section

GUIDE = """# RAG or Fine-Tuning

Intro before any section.

## When retrieval wins

Facts change weekly.

### Citations

Answers must cite sources.

## When fine-tuning wins

Form, not facts.

```bash
# a comment, not a heading
train --epochs 3
```

Setext Section
--------------

Under a setext heading.

---

# Appendix

Trailing notes.
"""


def _doc(text: str, title: str = "RAG or Fine-Tuning", **extra: object) -> Document:
    return Document.model_validate(
        {"source": "guides/rag.md", "title": title, "text": text} | extra
    )


def test_heading_paths_positions_and_metadata() -> None:
    doc = _doc(GUIDE, url="https://example.com/rag", tags=("rag", "decision"))
    chunks = chunk_document(doc)
    assert [(c.position, c.headings, c.text) for c in chunks] == [
        (0, (), "Intro before any section."),
        (1, ("When retrieval wins",), "Facts change weekly."),
        (2, ("When retrieval wins", "Citations"), "Answers must cite sources."),
        (
            3,
            ("When fine-tuning wins",),
            "Form, not facts.\n\n```bash\n# a comment, not a heading\ntrain --epochs 3\n```",
        ),
        (4, ("Setext Section",), "Under a setext heading."),
        (5, ("Appendix",), "Trailing notes."),
    ]
    for chunk in chunks:
        assert (chunk.source, chunk.title, chunk.url) == (doc.source, doc.title, doc.url)
        assert chunk.tags == ("rag", "decision")
        assert chunk.content_hash == content_hash(chunk.title, chunk.headings, chunk.text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Plain text, no headings.", [((), "Plain text, no headings.")]),
        ("# Title\n\n## Empty\n\n## Full\n\nBody", [(("Full",), "Body")]),
        ("# Other H1\n\nBody", [(("Other H1",), "Body")]),
        ("# title\n\nCase-insensitive match", [((), "Case-insensitive match")]),
        ("## **Bold** `code` [link](http://x)\n\nB", [(("Bold code link",), "B")]),
        ("## snake_case_name ##\n\nB", [(("snake_case_name",), "B")]),
        (
            "#hashtag is text\n\n####### seven is text",
            [((), "#hashtag is text\n\n####### seven is text")],
        ),
        ("- item\n---\nafter", [((), "- item\n\nafter")]),  # a rule, not a setext underline
        ("Title\n===\nBody", [((), "Body")]),
        ("Other\n===\nBody", [(("Other",), "Body")]),
        ("#\n\nBody", [((), "Body")]),
        ("# Title\n\n---\n\n***\n", []),
        ("   \n\n", []),
        ("## A\n\n### B\n\nb\n\n## C\n\nc", [(("A", "B"), "b"), (("C",), "c")]),
    ],
)
def test_sections(text: str, expected: list[tuple[tuple[str, ...], str]]) -> None:
    chunks = chunk_document(_doc(text, title="Title"))
    assert [(c.headings, c.text) for c in chunks] == expected
    assert [c.position for c in chunks] == list(range(len(chunks)))


SENTENCE = "Fine-tuning changes the weights while prompting changes the context."


@pytest.mark.parametrize(
    ("body", "max_chars"),
    [
        ("\n\n".join([SENTENCE * 3] * 12), 300),  # paragraphs
        ("\n".join([f"- {SENTENCE}"] * 40), 250),  # one paragraph of many lines
        (" ".join([SENTENCE] * 40), 200),  # one line of many sentences
        (" ".join(["word"] * 500), 100),  # no sentence ends at all
        ("x" * 5000, 128),  # one enormous token
        ("```\n" + "\n".join(["code line"] * 300) + "\n```", 400),  # a huge code block
    ],
)
def test_long_sections_split_within_max_chars(body: str, max_chars: int) -> None:
    text = f"# Title\n\n## Long\n\n{body}\n\n## Next\n\nafter"
    chunks = chunk_document(_doc(text, title="Title"), max_chars)
    long_chunks = [c for c in chunks if c.headings == ("Long",)]
    assert len(long_chunks) > 1
    assert all(0 < len(c.text) <= max_chars for c in chunks)
    assert all(c.text == c.text.strip() for c in chunks)
    assert chunks[-1].headings == ("Next",)
    # Nothing is lost: the words come back in order.
    assert "".join("".join(c.text.split()) for c in long_chunks) == "".join(body.split())


def test_small_paragraphs_are_merged_and_split_on_boundaries() -> None:
    paragraphs = [f"Paragraph {n}. {SENTENCE}" for n in range(10)]
    pieces = split_section("\n\n".join(paragraphs), 300)
    assert all(len(p) <= 300 for p in pieces)
    assert len(pieces) < len(paragraphs)  # small neighbours share a chunk
    for piece in pieces:  # and each chunk holds whole paragraphs
        assert all(part in paragraphs for part in piece.split("\n\n"))


def test_deterministic_hashes_and_point_ids() -> None:
    doc = _doc(GUIDE)
    first, second = chunk_document(doc), chunk_document(_doc(GUIDE))
    assert first == second
    assert [c.point_id for c in first] == [c.point_id for c in second]
    assert len({c.point_id for c in first}) == len(first)


def test_changed_text_changes_only_that_chunks_hash() -> None:
    before = chunk_document(_doc(GUIDE))
    after = chunk_document(_doc(GUIDE.replace("Facts change weekly.", "Facts change daily.")))
    changed = [
        b.position for b, a in zip(before, after, strict=True) if b.content_hash != a.content_hash
    ]
    assert changed == [1]
    assert [c.point_id for c in before] == [c.point_id for c in after]


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (("T", ("A",), "x"), ("T", ("A",), "y")),
        (("T", ("A",), "x"), ("U", ("A",), "x")),
        (("T", ("A",), "x"), ("T", ("B",), "x")),
        (("T", ("A", "B"), "x"), ("T", ("A B",), "x")),  # framing is unambiguous
        (("T", (), "A\nx"), ("T", ("A",), "x")),
    ],
)
def test_content_hash_covers_title_headings_and_text(
    a: tuple[str, tuple[str, ...], str], b: tuple[str, tuple[str, ...], str]
) -> None:
    assert content_hash(*a) != content_hash(*b)
    assert content_hash(*a) == content_hash(*a)
    assert len(content_hash(*a)) == 64


def test_rejects_nonsense_max_chars() -> None:
    with pytest.raises(ValueError, match="max_chars"):
        chunk_document(_doc("text"), 0)


def test_merge_policy_joins_short_sections_and_keeps_their_headings_as_text() -> None:
    text = "# Title\n\n## One\n\nShort.\n\n## Two\n\nAlso short.\n\n## Three\n\n" + "Long. " * 60
    doc = _doc(text, title="Title")
    merged = chunk_document(doc, policy=ChunkPolicy(max_chars=200, merge_below=50))
    assert merged[0].headings == ("One",)
    assert merged[0].text == "Short.\n\nTwo\nAlso short."
    assert all(len(c.text) <= 200 for c in merged)
    assert [c.headings for c in chunk_document(doc, 200)][:2] == [("One",), ("Two",)]


def test_overlap_policy_repeats_the_last_sentence_of_the_previous_piece() -> None:
    body = " ".join(f"Sentence number {n} is here." for n in range(30))
    doc = _doc(f"# Title\n\n{body}", title="Title")
    pieces = [c.text for c in chunk_document(doc, policy=ChunkPolicy(200, overlap=True))]
    assert len(pieces) > 1
    for previous, piece in itertools.pairwise(pieces):
        assert piece.startswith(previous.split(". ")[-1])
    assert all(len(p) <= 200 for p in pieces)
