"""`make bench`, the index part: retrieval latency at 1k / 10k / 50k chunks on both adapters,
build throughput against the raw encoder, memory with a 10k index, and time to first answer
after `advisor serve` starts. Run alone with `python -m bench.index_bench`.

Latency corpora are synthetic passages made of real sentences from knowledge/; each passage's
dense vector is the normalised mean of its sentences' real embeddings (embedding 50,000 passages
on two cores would take most of an hour and says nothing about query latency). Query embeddings,
sparse vectors and the build-throughput corpus are computed for real.
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import cast

import numpy as np
from qdrant_client import AsyncQdrantClient

from bench.stats import percentile
from bot.models import Chunk
from bot.retrieval import sparse
from bot.retrieval.embed import Embedder, LocalEmbedder
from bot.retrieval.evaluation import QUESTIONS_FILE, load_questions
from bot.retrieval.index.edge import EdgeIndex
from bot.retrieval.index.local_qdrant import ThreadedLocalQdrant
from bot.retrieval.index.port import IndexPort, SearchMode
from bot.retrieval.index.server import ServerIndex
from bot.retrieval.indexer import chunk_all, reindex
from bot.retrieval.ingest import scan_folder
from bot.retrieval.represent import embedding_text, sparse_vector
from bot.retrieval.retriever import Retriever

ROOT = Path(__file__).resolve().parent.parent
KNOWLEDGE = ROOT / "knowledge"
SIZES = [int(n) for n in os.environ.get("BENCH_INDEX_SIZES", "1000,10000,50000").split(",")]
# qdrant-client's local mode scores sparse vectors in Python and writes slowly; above this it
# takes too long for a benchmark run and is skipped (said in the output).
SERVER_MAX = int(os.environ.get("BENCH_LOCAL_MODE_MAX", "10000"))
BUILD_CHUNKS = int(os.environ.get("BENCH_BUILD_CHUNKS", "10000"))
QUERIES = 200
MODES: tuple[SearchMode, ...] = ("hybrid", "dense", "sparse")


def split(text: str) -> list[str]:
    return [part.strip().rstrip(".") for part in text.split(". ") if part.strip()]


def synthetic_chunks(count: int, seed: int = 7) -> list[Chunk]:
    seed_chunks = chunk_all(scan_folder(KNOWLEDGE), 1200)
    sentences = [s.strip() for c in seed_chunks for s in c.text.split(". ") if len(s) > 30]
    rng = random.Random(seed)
    return [
        Chunk(
            source=f"synthetic/doc-{i // 10:05d}.md",
            title=f"Synthetic document {i // 10}",
            headings=(f"Part {i % 10}",),
            position=i % 10,
            text=". ".join(rng.sample(sentences, k=min(3, len(sentences)))) + ".",
            content_hash=f"synthetic-{seed}-{i}",
        )
        for i in range(count)
    ]


async def mean_vectors(embedder: Embedder, chunks: Sequence[Chunk]) -> list[list[float]]:
    sentences = sorted({s for c in chunks for s in split(c.text)})
    vectors = dict(zip(sentences, await embedder.embed_documents(sentences), strict=True))
    out = []
    for chunk in chunks:
        mean = np.mean([vectors[s] for s in split(chunk.text)], axis=0)
        out.append([float(x) for x in mean / (np.linalg.norm(mean) or 1.0)])
    return out


async def timed(call: Callable[[], Awaitable[object]], n: int = QUERIES) -> tuple[float, float]:
    await call()  # warm; not counted
    timings = []
    for _ in range(n):
        started = time.perf_counter()
        await call()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings), percentile(timings, 95)


async def measure(
    index: IndexPort, retriever: Retriever, mode: SearchMode, vectors: dict[str, list[float]]
) -> str:
    questions = list(vectors)
    turn = iter(range(10**9))

    async def alone() -> object:
        q = questions[next(turn) % len(questions)]
        return await index.search(vectors[q], sparse.query_vector(q), 5, mode=mode)

    async def full() -> object:
        q = questions[next(turn) % len(questions)]
        return await retriever.retrieve(q, mode=mode)

    a50, a95 = await timed(alone)
    f50, f95 = await timed(full)
    return f"{a50:5.1f}/{a95:5.1f} | {f50:5.1f}/{f95:5.1f}"


async def latency_table(embedder: Embedder, tmp: Path) -> None:
    questions = [q.question for q in load_questions(KNOWLEDGE / QUESTIONS_FILE).questions]
    query_vectors = {q: await embedder.embed_query(q) for q in questions}
    print("\nRetrieval latency (ms, p50 / p95): retrieval alone | with the query embedding")
    print(f"  {'chunks':>7} {'adapter':<18} {'build s':>8} " + " ".join(f"{m:>24}" for m in MODES))
    for size in SIZES:
        chunks = synthetic_chunks(size)
        dense = await mean_vectors(embedder, chunks)
        sparse_vectors = [sparse_vector(c) for c in chunks]
        for kind in ("edge", "server"):
            if kind == "server" and size > SERVER_MAX:
                print(f"  {size:>7} {'local mode':<18} skipped (above BENCH_LOCAL_MODE_MAX)")
                continue
            index: IndexPort = (
                EdgeIndex(tmp / f"edge-{size}")
                if kind == "edge"
                else ServerIndex(
                    cast(AsyncQdrantClient, ThreadedLocalQdrant(str(tmp / f"local-{size}"))),
                    "bench",
                )
            )
            started = time.perf_counter()
            build = await index.create_build(f"bench-{size}", len(dense[0]), embedder.name, "b")
            for at in range(0, size, 512):
                await index.upsert(build, chunks[at : at + 512], dense[at : at + 512],
                                   sparse_vectors[at : at + 512])  # fmt: skip
            await index.finish_build(build, size // 10)
            await index.publish(build)
            build_seconds = time.perf_counter() - started
            retriever = Retriever(index, embedder, 5)
            cells = [await measure(index, retriever, mode, query_vectors) for mode in MODES]
            label = "Qdrant Edge" if kind == "edge" else "local mode (server)"
            print(
                f"  {size:>7} {label:<18} {build_seconds:>8.1f} "
                + " ".join(f"{c:>24}" for c in cells)
            )
            await index.close()


def write_folder(chunks: Sequence[Chunk], folder: Path) -> None:
    """The synthetic passages as Markdown files, ten sections per file."""
    folder.mkdir(parents=True)
    by_doc: dict[str, list[Chunk]] = {}
    for chunk in chunks:
        by_doc.setdefault(chunk.source, []).append(chunk)
    for source, parts in by_doc.items():
        body = [f"# {parts[0].title}"] + [f"## {c.headings[0]}\n{c.text}" for c in parts]
        (folder / Path(source).name).write_text("\n\n".join(body) + "\n")


async def build_throughput(tmp: Path) -> None:
    folder = tmp / "build-corpus"
    write_folder(synthetic_chunks(BUILD_CHUNKS, seed=11), folder)
    embedder = LocalEmbedder()
    await embedder.warm_up()
    index = EdgeIndex(tmp / "build-index")
    started = time.perf_counter()
    report = await reindex(index, embedder, folder, chunk_chars=1200, max_file_bytes=5_000_000,
                           full=True)  # fmt: skip
    build_seconds = time.perf_counter() - started
    await index.close()
    # The same texts, one call to the same model: what the build would take if writing and
    # everything else were free.
    texts = [embedding_text(c) for c in chunk_all(scan_folder(folder), 1200)]
    started = time.perf_counter()
    await embedder.embed_documents(texts)
    raw_seconds = time.perf_counter() - started
    print(
        f"\nFull build of {report.chunks} chunks ({report.documents} files): {build_seconds:.1f} s; "
        f"raw encoder on the same {len(texts)} texts: {raw_seconds:.1f} s; "
        f"throughput ratio {raw_seconds / build_seconds:.2f} (goal >= 0.9)"
    )


def rss_with_index(data_dir: Path) -> None:
    script = (
        "import asyncio, sys\nfrom pathlib import Path\n"
        "from bot.retrieval.index.edge import EdgeIndex\n"
        "def rss():\n"
        "    for line in open('/proc/self/status'):\n"
        "        if line.startswith('VmRSS:'): return int(line.split()[1]) / 1024\n"
        "async def main():\n"
        f"    index = EdgeIndex(Path({str(data_dir)!r}))\n"
        "    before = rss()\n"
        "    await index.search([0.05] * 384, ([1, 2], [1.0, 1.0]), 5)\n"
        "    print(f'{before:.0f} {rss():.0f}')\n"
        "    from bot.retrieval.embed import LocalEmbedder\n"
        "    embedder = LocalEmbedder(); await embedder.embed_query('warm')\n"
        "    print(f'{rss():.0f}')\n"
        "    await index.close()\n"
        "asyncio.run(main())\n"
    )
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout.split()  # fmt: skip
    print(
        f"\nProcess RSS with the 10,000-chunk Edge index loaded: {out[1]} MiB "
        f"(interpreter and imports alone {out[0]} MiB); with the embedding model too: {out[2]} MiB"
    )


async def run_index_bench() -> None:
    parts = os.environ.get("BENCH_INDEX_PARTS", "latency,rss,build").split(",")
    with tempfile.TemporaryDirectory(prefix="advisor-index-bench-") as tmp_name:
        tmp = Path(tmp_name)
        embedder = LocalEmbedder()
        if "latency" in parts:
            await latency_table(embedder, tmp)
            if "rss" in parts and 10000 in SIZES:
                rss_with_index(tmp / "edge-10000")
        if "build" in parts:
            await build_throughput(tmp)


if __name__ == "__main__":
    asyncio.run(run_index_bench())
