import zlib

import pytest

from bot.retrieval import sparse


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Fine-tuning the models", ["finetun", "fine", "tune", "model"]),
        ("Should we use RAG?", ["use", "rag"]),
        ("LoRA adapters, PEFT", ["lora", "adapt", "peft"]),
        ("the and of", []),
        ("JSON output: strict!", ["json", "output", "strict"]),
        ("team's data", ["team", "data"]),
    ],
)
def test_terms_are_lowercased_stemmed_and_stopword_free(text: str, expected: list[str]) -> None:
    assert sparse.terms(text) == expected


def test_term_index_is_stable_and_non_negative() -> None:
    # crc32, not hash(): the same term maps to the same slot in every process.
    assert sparse.term_index("lora") == zlib.crc32(b"lora") & 0x7FFFFFFF
    assert all(0 <= sparse.term_index(t) < 2**31 for t in ("a", "rag", "fine-tune"))


def test_document_vector_saturates_repeated_terms() -> None:
    once_idx, once_val = sparse.document_vector("lora")
    many_idx, many_val = sparse.document_vector("lora " * 50)
    assert once_idx == many_idx
    # BM25 saturation: fifty mentions weigh more than one but less than k1 + 1 times as much.
    assert once_val[0] < many_val[0] < sparse.K1 + 1


def test_longer_documents_weigh_a_term_less() -> None:
    lora = sparse.term_index("lora")
    short_idx, short_val = sparse.document_vector("lora adapters")
    long_idx, long_val = sparse.document_vector("lora adapters " + "filler words here " * 40)
    assert long_val[long_idx.index(lora)] < short_val[short_idx.index(lora)]


def test_query_vector_has_unit_weights_and_sorted_unique_indices() -> None:
    indices, values = sparse.query_vector("RAG rag retrieval RAG")
    assert indices == sorted(set(indices))
    assert len(indices) == 2
    assert values == [1.0, 1.0]


def test_heading_path_weighs_more_than_body_words_in_a_chunks_vectors() -> None:
    from bot.models import Chunk
    from bot.retrieval.represent import HEADING_WEIGHT, embedding_text, sparse_vector

    chunk = Chunk(
        source="a.md",
        title="Guide",
        headings=("Adapters", "Choosing a rank"),
        position=0,
        text="Start at eight and measure the rank on held-out data.",
        content_hash="h",
    )
    indices, values = sparse_vector(chunk)
    weight = dict(zip(indices, values, strict=True))
    heading_only = sparse.term_index(sparse.terms("choosing")[0])
    body_only = sparse.term_index(sparse.terms("eight")[0])
    assert HEADING_WEIGHT > 1
    assert weight[heading_only] > weight[body_only]
    assert sparse_vector(chunk, heading_weight=1) != (indices, values)
    # The embedded text names the title, the heading path and the passage.
    text = embedding_text(chunk)
    assert text.startswith("Guide\nAdapters > Choosing a rank\n")
    assert text.endswith(chunk.text)
