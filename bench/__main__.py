"""`make bench`: indexing throughput, retrieval latency and retrieval quality, on this machine.

Everything runs on embedded defaults in a temporary data dir (the local embedder, Qdrant Edge),
so the figures are the ones a new user gets. Results are printed with the machine they came from.
"""

from __future__ import annotations

import asyncio
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

from bench.index_bench import run_index_bench
from bench.load import run_load
from bench.quality import run_quality
from bench.serve_start import time_to_first_answer
from bench.situations import run_situation_bench
from bench.slack_bench import run_slack_bench
from bench.stats import percentile
from bot.config import load_settings
from bot.deps import Deps, aclose, build_deps
from bot.retrieval.evaluation import QUESTIONS_FILE, evaluate, load_questions
from bot.retrieval.index.local_qdrant import ThreadedLocalQdrant
from bot.retrieval.index.server import ServerIndex
from bot.retrieval.indexer import reindex
from bot.retrieval.retriever import Retriever, SearchMode

ROOT = Path(__file__).resolve().parent.parent
KNOWLEDGE = ROOT / "knowledge"
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


async def run(data_dir: Path) -> None:
    print(f"Machine: {machine()}")
    await run_situation_bench(KNOWLEDGE)
    settings = load_settings(env_file=None, core={"data_dir": data_dir, "knowledge_dir": KNOWLEDGE})
    deps: Deps = await build_deps(settings)
    try:
        await full_build_and_quality(deps)
        await run_quality(settings)
        await run_load(deps)
    finally:
        await aclose(deps)
    noop_cli(settings.core.data_dir)
    await time_to_first_answer(settings.core.data_dir)
    # `advisor serve` in its own process, with its own data dir: it must own its embedded index.
    await run_slack_bench(data_dir / "slack")
    await run_index_bench()


async def full_build_and_quality(deps: Deps) -> None:
    settings = deps.settings
    chunk_chars, max_bytes = settings.retrieval.chunk_chars, settings.retrieval.max_file_bytes
    started = time.perf_counter()
    await deps.embedder.embed_query("warm up")  # model load is reported separately
    load_seconds = time.perf_counter() - started
    report = await reindex(
        deps.index,
        deps.embedder,
        KNOWLEDGE,
        full=True,
        chunk_chars=chunk_chars,
        max_file_bytes=max_bytes,
    )
    print(f"\nEmbedding model load: {load_seconds:.1f} s")
    print(
        f"Full build of knowledge/: {report.documents} documents, {report.chunks} chunks in "
        f"{report.duration_seconds:.2f} s = {report.chunks / report.duration_seconds:.1f} chunks/s"
    )
    noop = await reindex(
        deps.index, deps.embedder, KNOWLEDGE, chunk_chars=chunk_chars, max_file_bytes=max_bytes
    )
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
    # The same questions on the server adapter (qdrant-client local mode as the stand-in), built
    # from the same folder with the same embedder: the engines must agree.
    with tempfile.TemporaryDirectory(prefix="advisor-bench-local-") as local_dir:
        local = ServerIndex(ThreadedLocalQdrant(local_dir), "bench")  # type: ignore[arg-type]
        await reindex(
            local,
            deps.embedder,
            KNOWLEDGE,
            full=True,
            chunk_chars=chunk_chars,
            max_file_bytes=max_bytes,
        )
        retrievers = {
            "Qdrant Edge": deps.retriever,
            "local mode": Retriever(local, deps.embedder, settings.retrieval.top_k),
        }
        print(f"\nRetrieval quality on {len(texts)} questions ({QUESTIONS_FILE}):")
        print(f"  {'adapter':<12} {'mode':<8} {'hit@3':>6} {'MRR':>6}")
        for label, retriever in retrievers.items():
            for mode in ("hybrid", "dense", "sparse"):
                result = await evaluate(searcher(retriever, mode), questions, k=3)
                print(f"  {label:<12} {mode:<8} {result.hit_at_k:>6.3f} {result.mrr:>6.3f}")
        await local.close()


def searcher(retriever: Retriever, mode: SearchMode) -> Callable[[str], Awaitable[list[str]]]:
    async def search(text: str) -> list[str]:
        result = await retriever.retrieve(text, limit=10, mode=mode)
        return [p.chunk.source for p in result.passages]

    return search


def noop_cli(data_dir: Path) -> None:
    env = {**os.environ, "ADVISOR_DATA_DIR": str(data_dir), "ADVISOR_KNOWLEDGE_DIR": str(KNOWLEDGE)}
    advisor = str(Path(sys.executable).with_name("advisor"))
    timings = []
    for _ in range(5):
        started = time.perf_counter()
        subprocess.run([advisor, "reindex", "--json"], env=env, check=True, capture_output=True)
        timings.append(time.perf_counter() - started)
    print(
        f"No-op `advisor reindex` (whole command, interpreter start included), 5 runs: "
        f"median {statistics.median(timings):.2f} s, best {min(timings):.2f} s (goal < 1 s)"
    )


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="advisor-bench-") as tmp:
        asyncio.run(run(Path(tmp)))


if __name__ == "__main__":
    main()
