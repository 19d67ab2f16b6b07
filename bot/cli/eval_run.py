"""What `advisor eval` runs: an index of the folder beside the live one, scored for hybrid, dense and
sparse search, and the report for a terminal. `make bench` and the tests use the same code."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bot.config import Settings
from bot.deps import Deps
from bot.retrieval.coverage import is_covered
from bot.retrieval.evaluation import (
    KS,
    EvalReport,
    ModeReport,
    QuestionSet,
    run_eval,
)
from bot.retrieval.indexer import reindex
from bot.retrieval.retriever import Retrieval, SearchMode


def eval_settings(loaded: Settings, folder: Path) -> Settings:
    """The settings with an index of their own for `folder`, beside (never in) the live one.

    The data dir and the collection alias are named after the folder, so evaluating another
    folder never touches the index the bot answers from, and a second run reuses the vectors
    of the first (only changed chunks are embedded again).
    """
    real = folder.resolve()
    slug = re.sub(r"[^a-z0-9]+", "-", real.name.lower()).strip("-") or "folder"
    key = f"{slug}-{hashlib.sha256(str(real).encode()).hexdigest()[:8]}"
    groups = loaded.groups()
    core = loaded.core.model_copy(
        update={"data_dir": loaded.core.data_dir / "eval" / key, "knowledge_dir": real}
    )
    retrieval = loaded.retrieval.model_copy(
        update={"collection": f"{loaded.retrieval.collection}-eval-{key}"}
    )
    return Settings(**{**groups, "core": core, "retrieval": retrieval})  # type: ignore[arg-type]


async def evaluate_folder(deps: Deps, folder: Path, questions: QuestionSet) -> EvalReport:
    """Bring the folder's eval index up to date, then score it."""
    retrieval_settings = deps.settings.retrieval
    await reindex(
        deps.index,
        deps.embedder,
        folder,
        chunk_chars=retrieval_settings.chunk_chars,
        max_file_bytes=retrieval_settings.max_file_bytes,
        built_by="eval",
    )
    deps.retriever.forget_info()

    async def retrieve(text: str, limit: int, mode: SearchMode) -> Retrieval:
        return await deps.retriever.retrieve(text, limit, mode)

    def covered(text: str, retrieval: Retrieval) -> bool:
        return is_covered(text, retrieval, retrieval_settings.min_score)

    report = await run_eval(retrieve, covered, questions, retrieval_settings.top_k)
    reranker = deps.retriever.reranker
    return report.model_copy(update={"reranker": reranker.name if reranker else None})


def print_eval(
    out: Console,
    report: EvalReport,
    folder: Path,
    questions_file: Path,
    baselines: Sequence[ModeReport] = (),
) -> None:
    """The figures per mode (and any baselines measured beside them), refusals and misses."""
    out.print(
        f"[bold]{questions_file}[/bold] on {folder}: {report.questions} questions "
        f"({report.paraphrased} paraphrased), {report.off_topic} off-topic"
    )
    table = Table(show_edge=False)
    table.add_column("mode")
    for k in KS:
        table.add_column(f"hit@{k}", justify="right")
    table.add_column("MRR", justify="right")
    table.add_column("fact-hit@3", justify="right")
    for mode in (*report.modes, *baselines):
        fact = "n/a" if mode.fact_hit_at_3 is None else f"{mode.fact_hit_at_3:.3f}"
        table.add_row(mode.mode, *(f"{mode.hit_at[k]:.3f}" for k in KS), f"{mode.mrr:.3f}", fact)
    out.print(table)
    if report.reranker:
        out.print(f"hybrid is reranked by {report.reranker} (dense and sparse are not)")
    out.print(
        f"No-match on on-topic questions: {len(report.refused)}/{report.questions} "
        f"({report.no_match_rate:.3f})"
    )
    for question in report.refused:
        out.print(f"  refused: {question}")
    if report.off_topic:
        out.print(
            f"Off-topic questions answered: {len(report.off_topic_answered)}/{report.off_topic}"
        )
        for question in report.off_topic_answered:
            out.print(f"  answered: {question}")
    hybrid = report.mode("hybrid")
    for question in hybrid.misses:
        out.print(f"  hybrid miss (no expected document in the top 3): {question}")
    for question in hybrid.fact_misses:
        if question not in hybrid.misses:
            out.print(f"  hybrid fact miss (no top-3 passage holds a phrase): {question}")
