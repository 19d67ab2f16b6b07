"""`make bench`: indexing throughput, retrieval latency and retrieval quality, on this machine.

Everything runs on embedded defaults in a temporary data dir (the local embedder, embedded Qdrant),
so the figures are the ones a new user gets. Results are printed with the machine they came from.
"""

from __future__ import annotations

import asyncio
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bench.load import run_load
from bench.slack_bench import run_slack_bench
from bench.stats import percentile
from bot.config import load_settings
from bot.deps import Deps, aclose, build_deps
from bot.models import Chunk
from bot.retrieval.evaluation import QUESTIONS_FILE, evaluate, load_questions
from bot.retrieval.indexer import chunk_all, reindex
from bot.retrieval.ingest import scan_folder
from bot.retrieval.represent import sparse_vector
from bot.retrieval.retriever import Retriever, SearchMode
from bot.retrieval.store import KnowledgeStore

ROOT = Path(__file__).resolve().parent.parent
KNOWLEDGE = ROOT / "knowledge"
SYNTHETIC_CHUNKS = int(os.environ.get("BENCH_SYNTHETIC_CHUNKS", "10000"))
LATENCY_QUERIES = 200


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kib / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return f"{os.cpu_count()} cores ({cpu}){memory}, Python {platform.python_version()}"


async def latency(
    retriever: Retriever, questions: Sequence[str], mode: SearchMode = "hybrid"
) -> tuple[float, float]:
    await retriever.retrieve(questions[0], mode=mode)  # warm caches; not counted
    timings = []
    for i in range(LATENCY_QUERIES):
        started = time.perf_counter()
        await retriever.retrieve(questions[i % len(questions)], mode=mode)
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings), percentile(timings, 95)


def synthetic_chunks(seed_chunks: Sequence[Chunk], count: int) -> list[Chunk]:
    """Plausible passages: random runs of real sentences from the knowledge folder."""
    rng = random.Random(7)
    sentences = [s.strip() for c in seed_chunks for s in c.text.split(". ") if len(s) > 30]
    out = []
    for i in range(count):
        text = ". ".join(rng.sample(sentences, k=min(3, len(sentences)))) + "."
        out.append(
            Chunk(
                source=f"synthetic/doc-{i // 10:04d}.md",
                title=f"Synthetic document {i // 10}",
                headings=(f"Part {i % 10}",),
                position=i % 10,
                text=text,
                content_hash=f"synthetic-{i}",
            )
        )
    return out


async def run(data_dir: Path) -> None:
    print(f"Machine: {machine()}")
    settings = load_settings(env_file=None, core={"data_dir": data_dir, "knowledge_dir": KNOWLEDGE})
    deps: Deps = await build_deps(settings)
    try:
        await full_build_and_quality(deps)
        await run_load(deps)
    finally:
        await aclose(deps)
    noop_cli(settings.core.data_dir)
    # `advisor serve` in its own process, with its own data dir: it must own its embedded index.
    await run_slack_bench(data_dir / "slack")
    deps = await build_deps(settings, with_memory=False)
    try:
        await large_corpus(deps)
    finally:
        await aclose(deps)


async def full_build_and_quality(deps: Deps) -> None:
    settings = deps.settings
    options = {
        "chunk_chars": settings.retrieval.chunk_chars,
        "max_file_bytes": settings.retrieval.max_file_bytes,
    }
    started = time.perf_counter()
    await deps.embedder.embed_query("warm up")  # model load is reported separately
    load_seconds = time.perf_counter() - started
    report = await reindex(deps.store, deps.embedder, KNOWLEDGE, full=True, **options)
    print(f"\nEmbedding model load: {load_seconds:.1f} s")
    print(
        f"Full build of knowledge/: {report.documents} documents, {report.chunks} chunks in "
        f"{report.duration_seconds:.2f} s = {report.chunks / report.duration_seconds:.1f} chunks/s"
    )
    noop = await reindex(deps.store, deps.embedder, KNOWLEDGE, **options)
    print(
        f"No-op re-run (in process): {noop.duration_seconds * 1000:.0f} ms, "
        f"embedded {noop.embedded} (goal < 2 s)"
    )
    questions = load_questions(KNOWLEDGE / QUESTIONS_FILE)
    texts = [q.question for q in questions.questions]
    p50, p95 = await latency(deps.retriever, texts)
    print(
        f"Retrieval latency at {report.chunks} chunks (query embedding included): "
        f"p50 {p50:.1f} ms, p95 {p95:.1f} ms"
    )
    print(f"\nRetrieval quality on {len(texts)} questions ({QUESTIONS_FILE}):")
    print(f"  {'mode':<8} {'hit@3':>6} {'MRR':>6}")
    for mode in ("hybrid", "dense", "sparse"):

        async def search(text: str, mode: SearchMode = mode) -> list[str]:  # type: ignore[assignment]
            result = await deps.retriever.retrieve(text, limit=10, mode=mode)
            return [p.chunk.source for p in result.passages]

        result = await evaluate(search, questions, k=3)
        print(f"  {mode:<8} {result.hit_at_k:>6.3f} {result.mrr:>6.3f}")


def noop_cli(data_dir: Path) -> None:
    env = {**os.environ, "ADVISOR_DATA_DIR": str(data_dir), "ADVISOR_KNOWLEDGE_DIR": str(KNOWLEDGE)}
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "bot", "reindex", "--json"], env=env, check=True, capture_output=True
    )
    print(
        f"No-op `advisor reindex` (whole command, process start included): "
        f"{time.perf_counter() - started:.2f} s"
    )


async def large_corpus(deps: Deps) -> None:
    seed = chunk_all(scan_folder(KNOWLEDGE), deps.settings.retrieval.chunk_chars)
    chunks = synthetic_chunks(seed, SYNTHETIC_CHUNKS)
    # Embedding 10,000 passages on two CPU cores takes many minutes and says nothing about
    # query latency, so each synthetic passage gets the normalised mean of the real embeddings
    # of its sentences. Sparse vectors and every query embedding are computed for real.
    started = time.perf_counter()
    sentences = sorted({s for c in chunks for s in split_synthetic(c.text)})
    vectors = dict(zip(sentences, await deps.embedder.embed_documents(sentences), strict=True))
    dense = []
    for chunk in chunks:
        mean = np.mean([vectors[s] for s in split_synthetic(chunk.text)], axis=0)
        dense.append([float(x) for x in mean / (np.linalg.norm(mean) or 1.0)])
    embed_seconds = time.perf_counter() - started
    store = KnowledgeStore(deps.qdrant, "bench10k")
    collection = await store.create_collection(
        "synthetic", len(dense[0]), deps.embedder.name, "bench"
    )
    started = time.perf_counter()
    await store.upsert(collection, chunks, dense, [sparse_vector(c) for c in chunks])
    await store.publish(collection)
    write_seconds = time.perf_counter() - started
    print(
        f"\nSynthetic corpus: {len(chunks)} chunks from {len(sentences)} distinct sentences "
        f"(embedded in {embed_seconds:.1f} s), written to Qdrant in {write_seconds:.1f} s"
    )
    retriever = Retriever(store, deps.embedder, deps.settings.retrieval.top_k)
    questions = load_questions(KNOWLEDGE / QUESTIONS_FILE)
    texts = [q.question for q in questions.questions]
    for mode in ("hybrid", "dense"):
        p50, p95 = await latency(retriever, texts, mode)
        print(
            f"Retrieval latency at {len(chunks)} chunks, {mode} (query embedding included): "
            f"p50 {p50:.1f} ms, p95 {p95:.1f} ms (goal p50 < 30 ms)"
        )


def split_synthetic(text: str) -> list[str]:
    return [part.strip().rstrip(".") for part in text.split(". ") if part.strip()]


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="advisor-bench-") as tmp:
        asyncio.run(run(Path(tmp)))


if __name__ == "__main__":
    main()
