"""Retrieval quality in `make bench`: knowledge/ and, when the folder exists, the five saved
articles in ../shared/seeds/ with the development set in bench/seed_questions.yaml, each scored
by the same code as `advisor eval` and beside plain BM25 over 1,000/200-character windows of the
same folder (measured in the same run). Then the chunking policies compared on both sets.
"""

from __future__ import annotations

import os
from pathlib import Path

from rich.console import Console

from bench.baseline import bm25_baseline
from bench.chunking import compare_policies
from bot.cli.eval_run import eval_settings, evaluate_folder, print_eval
from bot.config import Settings
from bot.deps import aclose, build_deps
from bot.retrieval.evaluation import EvalReport, QuestionSet, load_questions

ROOT = Path(__file__).resolve().parent.parent
KNOWLEDGE = ROOT / "knowledge"
# ../shared/seeds relative to the repository (a developer's checkout sits beside shared/).
SEEDS = Path(os.environ.get("BENCH_SEEDS", ROOT.parent / "shared" / "seeds"))
SEED_QUESTIONS = ROOT / "bench" / "seed_questions.yaml"
GOAL_FACT_HIT = 0.95


async def _folder(settings: Settings, folder: Path, questions: QuestionSet) -> EvalReport:
    scoped = eval_settings(settings, folder)
    deps = await build_deps(scoped, with_memory=False)
    try:
        return await evaluate_folder(deps, folder, questions)
    finally:
        await aclose(deps)


def question_sets() -> list[tuple[str, Path, QuestionSet]]:
    sets = [("knowledge", KNOWLEDGE, load_questions(KNOWLEDGE / "questions.yaml"))]
    if SEEDS.is_dir():
        sets.append(("seeds", SEEDS, load_questions(SEED_QUESTIONS)))
    else:
        print(f"\n{SEEDS} not found: the seed-article development set is skipped.")
    return sets


async def run_quality(settings: Settings) -> None:
    console = Console(width=110)
    sets = question_sets()
    for label, folder, questions in sets:
        report = await _folder(settings, folder, questions)
        baseline = bm25_baseline(folder, questions)
        print()
        print_eval(console, report, folder, Path(label), baselines=(baseline,))
        hybrid = report.mode("hybrid")
        if hybrid.fact_hit_at_3 is not None and baseline.fact_hit_at_3 is not None:
            print(
                f"Goal fact-hit@3 >= {GOAL_FACT_HIT} and above BM25: hybrid "
                f"{hybrid.fact_hit_at_3:.3f} vs BM25 {baseline.fact_hit_at_3:.3f}; "
                f"on-topic refused: {len(report.refused)}"
            )
    deps = await build_deps(eval_settings(settings, ROOT / "bench"), with_memory=False)
    try:
        await compare_policies(deps, sets)
    finally:
        await aclose(deps)
