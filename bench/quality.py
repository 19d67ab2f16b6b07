"""Retrieval quality in `make bench`: knowledge/ and, when the folder exists, the five saved
articles in ../shared/seeds/ with the development set in bench/seed_questions.yaml and the blind
holdout in bench/seed_questions_holdout.yaml, each scored by the same code as `advisor eval` and
beside plain BM25 over 1,000/200-character windows of the same folder (measured in the same
run). Then the chunking policies compared on the knowledge and development sets.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path

from rich.console import Console

from bench.baseline import bm25_baseline
from bench.chunking import compare_policies
from bot.cli.eval_run import eval_settings, evaluate_folder, print_eval
from bot.config import Settings, load_settings
from bot.deps import aclose, build_deps
from bot.retrieval.evaluation import EvalReport, QuestionSet, load_questions

ROOT = Path(__file__).resolve().parent.parent
KNOWLEDGE = ROOT / "knowledge"
# ../shared/seeds relative to the repository (a developer's checkout sits beside shared/).
SEEDS = Path(os.environ.get("BENCH_SEEDS", ROOT.parent / "shared" / "seeds"))
SEED_QUESTIONS = ROOT / "bench" / "seed_questions.yaml"
SEED_HOLDOUT = ROOT / "bench" / "seed_questions_holdout.yaml"
GOAL_FACT_HIT = 0.95


async def _folder(settings: Settings, folder: Path, questions: QuestionSet) -> EvalReport:
    scoped = eval_settings(settings, folder)
    deps = await build_deps(scoped, with_memory=False)
    try:
        return await evaluate_folder(deps, folder, questions)
    finally:
        await aclose(deps)


def question_sets(holdout: bool = False) -> list[tuple[str, Path, QuestionSet]]:
    """The knowledge set and, when the seed articles exist, their development set (and, with
    `holdout`, the blind holdout: reported, never used to choose between variants)."""
    sets = [("knowledge", KNOWLEDGE, load_questions(KNOWLEDGE / "questions.yaml"))]
    if SEEDS.is_dir():
        sets.append(("seeds", SEEDS, load_questions(SEED_QUESTIONS)))
        if holdout:
            sets.append(("seeds holdout", SEEDS, load_questions(SEED_HOLDOUT)))
    else:
        print(f"\n{SEEDS} not found: the seed-article question sets are skipped.")
    return sets


async def run_quality(settings: Settings) -> None:
    console = Console(width=110)
    for label, folder, questions in question_sets(holdout=True):
        report = await _folder(settings, folder, questions)
        baseline = bm25_baseline(folder, questions)
        print()
        print_eval(console, report, folder, Path(label), baselines=(baseline,))
        hybrid = report.mode("hybrid")
        if hybrid.fact_hit_at_3 is not None and baseline.fact_hit_at_3 is not None:
            # The goal is set on the development set; the holdout says how far it carries.
            lead = (
                f"Goal fact-hit@3 >= {GOAL_FACT_HIT} and above BM25"
                if label == "seeds"
                else "Blind holdout, not tuned on"
            )
            print(
                f"{lead}: hybrid {hybrid.fact_hit_at_3:.3f} vs BM25 "
                f"{baseline.fact_hit_at_3:.3f}; on-topic refused: {len(report.refused)}"
            )
    deps = await build_deps(eval_settings(settings, ROOT / "bench"), with_memory=False)
    try:
        await compare_policies(deps, question_sets())
    finally:
        await aclose(deps)


def main() -> None:
    """`python -m bench.quality`: only the question sets (about a minute), e.g. to measure a
    reranker: run it with and without ADVISOR_RERANK_URL set."""
    with tempfile.TemporaryDirectory(prefix="advisor-quality-") as data_dir:
        asyncio.run(run_quality(load_settings(env_file=None, core={"data_dir": Path(data_dir)})))


if __name__ == "__main__":
    main()
