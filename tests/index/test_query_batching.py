"""Concurrent questions share forward passes of the local embedder, each getting its own vector."""

from __future__ import annotations

import asyncio
import math
import threading

import pytest

from bot.retrieval.embed import LocalEmbedder, QueryBatcher


class HeldEncoder:
    """An encoder whose first pass waits until the test lets it go, so that questions pile up."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.release = threading.Event()
        self.fail_on: str | None = None

    def __call__(self, texts: list[str]) -> list[list[float]]:
        if not self.batches:
            self.release.wait(10)
        self.batches.append(texts)
        if self.fail_on in texts:
            raise RuntimeError("encoder broke")
        return [[float(len(text)), float(ord(text[-1]))] for text in texts]


async def _until_encoding(encoder: HeldEncoder, batcher: QueryBatcher) -> None:
    # The first pass has started (it is waiting on `release`) once the drainer is in to_thread.
    for _ in range(100):
        await asyncio.sleep(0.01)
        if batcher._drainer is not None and not batcher._waiting:
            return


async def test_questions_waiting_for_a_pass_share_the_next_one() -> None:
    encoder = HeldEncoder()
    batcher = QueryBatcher(encoder, max_batch=8)
    first = asyncio.create_task(batcher.embed("alone"))
    await _until_encoding(encoder, batcher)
    texts = [f"question {n:02d}" for n in range(20)]
    rest = [asyncio.create_task(batcher.embed(text)) for text in texts]
    await asyncio.sleep(0.05)
    encoder.release.set()
    vectors = await asyncio.gather(first, *rest)
    assert [len(batch) for batch in encoder.batches] == [1, 8, 8, 4]
    assert batcher.passes == 4
    # Each asker gets the vector of its own text.
    for text, vector in zip(["alone", *texts], vectors, strict=True):
        assert vector == [float(len(text)), float(ord(text[-1]))]


async def test_a_failed_pass_fails_its_questions_only() -> None:
    encoder = HeldEncoder()
    encoder.fail_on = "bad"
    batcher = QueryBatcher(encoder, max_batch=2)
    first = asyncio.create_task(batcher.embed("ok"))
    await _until_encoding(encoder, batcher)
    doomed = [asyncio.create_task(batcher.embed(t)) for t in ("bad", "with bad")]
    fine = asyncio.create_task(batcher.embed("fine"))
    encoder.release.set()
    assert await first == [2.0, float(ord("k"))]
    for task in doomed:
        with pytest.raises(RuntimeError, match="encoder broke"):
            await task
    assert await fine == [4.0, float(ord("e"))]


async def test_a_cancelled_asker_does_not_disturb_the_others() -> None:
    encoder = HeldEncoder()
    batcher = QueryBatcher(encoder, max_batch=8)
    first = asyncio.create_task(batcher.embed("first"))
    await _until_encoding(encoder, batcher)
    gone = asyncio.create_task(batcher.embed("gone"))
    kept = asyncio.create_task(batcher.embed("kept"))
    await asyncio.sleep(0.01)
    gone.cancel()
    encoder.release.set()
    assert await first == [5.0, float(ord("t"))]
    assert await kept == [4.0, float(ord("t"))]
    assert gone.cancelled()


@pytest.mark.slow
async def test_batched_vectors_match_the_ones_computed_alone() -> None:
    embedder = LocalEmbedder()
    questions = [
        "Should we fine-tune for strict JSON output?",
        "When is RAG better than fine-tuning?",
        "How many labelled examples do we need for LoRA?",
        "Our policies change every month; what should we do?",
        "What is LoRA?",
    ]
    alone = [await embedder.embed_query(q) for q in questions]
    passes = embedder._queries.passes
    together = await asyncio.gather(*(embedder.embed_query(q) for q in questions))
    assert embedder._queries.passes - passes < len(questions)  # some shared a pass
    for solo, batched in zip(alone, together, strict=True):
        cosine = sum(a * b for a, b in zip(solo, batched, strict=True))
        assert math.isclose(cosine, 1.0, abs_tol=1e-5)
