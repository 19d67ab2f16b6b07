"""Chunking policies and heading weights compared on the question sets, through the real index.

Each variant gets its own embedded index (a Qdrant Edge root in a temporary folder, written
through the index port), is queried through the real Retriever and scored by the same
`run_eval` as `advisor eval`. Embeddings are cached by text, so variants that share chunks do
not pay twice. The default policy and `HEADING_WEIGHT` in the code are the winners here.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

from bot.deps import Deps
from bot.models import Chunk
from bot.retrieval.chunking import ChunkPolicy, chunk_document, default_policy
from bot.retrieval.coverage import is_covered
from bot.retrieval.embed import Embedder
from bot.retrieval.evaluation import EvalReport, QuestionSet, run_eval
from bot.retrieval.index.edge import EdgeIndex
from bot.retrieval.index.port import new_version
from bot.retrieval.ingest import scan_folder
from bot.retrieval.represent import (
    EMBED_HEADING_WEIGHT,
    HEADING_WEIGHT,
    embedding_text,
    sparse_vector,
)
from bot.retrieval.retriever import Retrieval, Retriever, SearchMode

# (label, policy, heading path weight in BM25, in the embedded text)
VARIANTS: list[tuple[str, ChunkPolicy, int, int]] = [
    ("<=1200, headings x1/x1 (before)", ChunkPolicy(1200), 1, 1),
    ("<=1200, headings x3/x1", ChunkPolicy(1200), 3, 1),
    ("<=1200, headings x3/x2", ChunkPolicy(1200), 3, 2),
    ("<=600, headings x3/x2", ChunkPolicy(600), 3, 2),
    ("<=600 + overlap, headings x3/x2", ChunkPolicy(600, overlap=True), 3, 2),
    ("merge <300 into <=1200, headings x3/x2", ChunkPolicy(1200, merge_below=300), 3, 2),
]
IN_USE = (default_policy(1200), HEADING_WEIGHT, EMBED_HEADING_WEIGHT)


class _CachedQueries:
    """The bench embedder with query embeddings cached: every variant asks the same questions."""

    def __init__(self, embedder: Embedder) -> None:
        self.inner = embedder
        self.queries: dict[str, list[float]] = {}

    @property
    def name(self) -> str:
        return self.inner.name

    async def dimension(self) -> int:
        return await self.inner.dimension()

    async def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        return await self.inner.embed_documents(texts)

    async def embed_query(self, text: str) -> list[float]:
        if text not in self.queries:
            self.queries[text] = await self.inner.embed_query(text)
        return self.queries[text]

    async def warm_up(self) -> None:
        await self.inner.warm_up()


class _Embeddings:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.cache: dict[str, list[float]] = {}
        self.embedder = _CachedQueries(deps.embedder)

    async def of(self, chunks: Sequence[Chunk], heading_weight: int) -> list[list[float]]:
        texts = [embedding_text(c, heading_weight) for c in chunks]
        missing = sorted({t for t in texts if t not in self.cache})
        for start in range(0, len(missing), 64):
            batch = missing[start : start + 64]
            for text, vector in zip(
                batch, await self.deps.embedder.embed_documents(batch), strict=True
            ):
                self.cache[text] = vector
        return [self.cache[t] for t in texts]


async def _score(
    deps: Deps,
    embeddings: _Embeddings,
    name: str,
    chunks: list[Chunk],
    weights: tuple[int, int],
    questions: QuestionSet,
) -> EvalReport:
    root = Path(tempfile.mkdtemp(prefix=f"advisor-{name}-"))
    index = EdgeIndex(root)
    dense = await embeddings.of(chunks, weights[1])
    build = await index.create_build(new_version(), len(dense[0]), deps.embedder.name, "bench")
    await index.upsert(build, chunks, dense, [sparse_vector(c, weights[0]) for c in chunks])
    await index.finish_build(build, len({c.source for c in chunks}))
    await index.publish(build)
    retriever = Retriever(index, embeddings.embedder, deps.settings.retrieval.top_k)
    min_score = deps.settings.retrieval.min_score

    async def retrieve(text: str, limit: int, mode: SearchMode) -> Retrieval:
        return await retriever.retrieve(text, limit, mode)

    def covered(text: str, retrieval: Retrieval) -> bool:
        return is_covered(text, retrieval, min_score)

    try:
        return await run_eval(retrieve, covered, questions, deps.settings.retrieval.top_k)
    finally:
        await index.close()
        shutil.rmtree(root, ignore_errors=True)


async def compare_policies(deps: Deps, sets: Sequence[tuple[str, Path, QuestionSet]]) -> None:
    embeddings = _Embeddings(deps)
    documents = {label: scan_folder(folder).documents for label, folder, _ in sets}
    print("\nChunking policies (hybrid hit@3 / MRR / fact-hit@3; chunks):")
    print(f"  {'variant':<40} " + " ".join(f"{label:>30}" for label, _, _ in sets))
    for number, (variant, policy, sparse_weight, dense_weight) in enumerate(VARIANTS):
        cells = []
        for label, _, questions in sets:
            chunks = [c for d in documents[label] for c in chunk_document(d, policy=policy)]
            name = f"bench-chunks-{number}-{label}"
            weights = (sparse_weight, dense_weight)
            report = await _score(deps, embeddings, name, chunks, weights, questions)
            hybrid = report.mode("hybrid")
            fact = "-" if hybrid.fact_hit_at_3 is None else f"{hybrid.fact_hit_at_3:.3f}"
            cells.append(f"{hybrid.hit_at[3]:.3f} / {hybrid.mrr:.3f} / {fact}; {len(chunks):>3}")
        marker = " <- in use" if (policy, sparse_weight, dense_weight) == IN_USE else ""
        print(f"  {variant:<40} " + " ".join(f"{cell:>30}" for cell in cells) + marker)
