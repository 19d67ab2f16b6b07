"""Retrieval quality on knowledge/questions.yaml with the bundled local embedder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli.eval_run import eval_settings, evaluate_folder
from bot.deps import Deps, aclose, build_deps
from bot.retrieval.coverage import is_covered
from bot.retrieval.evaluation import QUESTIONS_FILE, evaluate, load_questions, run_eval
from bot.retrieval.ingest import scan_folder
from bot.retrieval.retriever import Retrieval, SearchMode
from tests.conftest import KNOWLEDGE, ROOT, make_settings

pytestmark = pytest.mark.slow


def test_question_set_is_large_paraphrased_and_points_at_real_documents() -> None:
    questions = load_questions(KNOWLEDGE / QUESTIONS_FILE).questions
    assert len(questions) >= 40
    assert sum(q.paraphrased for q in questions) >= 15
    sources = {doc.source for doc in scan_folder(KNOWLEDGE).documents}
    for question in questions:
        assert set(question.expected) <= sources, question.question
    # Every document is the expected answer of at least one question.
    assert sources <= {s for q in questions for s in q.expected}


def test_knowledge_folder_reads_cleanly() -> None:
    scan = scan_folder(KNOWLEDGE)
    assert 10 <= len(scan.documents) <= 20
    assert scan.skipped == ()
    for doc in scan.documents:
        assert doc.title and doc.tags and doc.sources, doc.source


async def test_hybrid_hit_at_3_is_at_least_0_9(knowledge_deps: Deps) -> None:
    questions = load_questions(KNOWLEDGE / QUESTIONS_FILE)

    async def search(text: str) -> list[str]:
        result = await knowledge_deps.retriever.retrieve(text, limit=10)
        return [p.chunk.source for p in result.passages]

    result = await evaluate(search, questions, k=3)
    assert result.hit_at_k >= 0.9, result.misses


async def test_knowledge_scores_no_worse_than_before(knowledge_deps: Deps) -> None:
    """Before the ingestion rework: hybrid hit@3 1.000, MRR 0.939 (README, `make bench`).

    The documents were then corrected against their sources (issue 9), which moves a few
    passages: on the corrected folder, with the new ingestion and Qdrant Edge together, hybrid
    gives hit@3 1.000 and MRR 0.936 (one question moving from rank 2 to 3 is 0.0025). Every
    question stays in the top 3; the MRR floor allows that rank noise and nothing more.
    """
    questions = load_questions(KNOWLEDGE / QUESTIONS_FILE)
    retriever = knowledge_deps.retriever
    min_score = knowledge_deps.settings.retrieval.min_score

    async def retrieve(text: str, limit: int, mode: SearchMode) -> Retrieval:
        return await retriever.retrieve(text, limit, mode)

    def covered(text: str, retrieval: Retrieval) -> bool:
        return is_covered(text, retrieval, min_score)

    report = await run_eval(retrieve, covered, questions, knowledge_deps.settings.retrieval.top_k)
    hybrid = report.mode("hybrid")
    assert hybrid.hit_at[3] == 1.0, hybrid.misses
    assert round(hybrid.mrr, 3) >= 0.935
    # The no-match decision keeps every real question (paraphrases included) and rejects
    # questions the guidance has nothing to say about.
    assert report.refused == ()
    assert len(questions.off_topic) >= 10
    assert report.off_topic_answered == ()


FIXTURE_FOLDERS = [
    ROOT / "tests" / "ingest" / "fixtures" / "web",  # saved HTML: docs site, wiki export, blog
    ROOT / "tests" / "ingest" / "fixtures" / "saved",  # plain text saved from web pages
]


@pytest.mark.parametrize("folder", FIXTURE_FOLDERS, ids=lambda p: p.name)
async def test_other_folders_answer_on_topic_and_refuse_off_topic(
    folder: Path, tmp_path: Path
) -> None:
    """The same settings on folders of other styles, through `advisor eval`'s code: every
    on-topic paraphrase answered, every off-topic question refused, answers found."""
    questions = load_questions(folder / QUESTIONS_FILE)
    assert sum(q.paraphrased for q in questions.questions) >= len(questions.questions) // 2
    deps = await build_deps(eval_settings(make_settings(tmp_path), folder), with_memory=False)
    try:
        report = await evaluate_folder(deps, folder, questions)
    finally:
        await aclose(deps)
    assert report.refused == ()
    assert report.off_topic_answered == ()
    hybrid = report.mode("hybrid")
    assert hybrid.hit_at[3] == 1.0, hybrid.misses
    # At most one question whose answering passage is not in the top 3.
    assert hybrid.fact_hit_at_3 is not None, "the fixture questions name phrases"
    assert hybrid.fact_hit_at_3 >= 1 - 1.5 / hybrid.fact_questions, hybrid.fact_misses


def test_advisor_eval_command_prints_json(tmp_path: Path) -> None:
    folder = FIXTURE_FOLDERS[1]
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("ADVISOR_", "QDRANT_"))},
        "ADVISOR_DATA_DIR": str(tmp_path / "data"),
        "HF_HUB_OFFLINE": "1",
    }
    done = subprocess.run(
        [sys.executable, "-m", "bot", "eval", "--dir", str(folder), "--json",
         "--questions", str(folder / QUESTIONS_FILE)],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert [mode["mode"] for mode in report["modes"]] == ["hybrid", "dense", "sparse"]
    assert report["questions"] == 8 and report["off_topic"] == 6
    assert set(report["modes"][0]["hit_at"]) == {"1", "3", "5"}
    # Its index lives beside the live one, never in it.
    assert (tmp_path / "data" / "eval").is_dir()
    missing = subprocess.run(
        [sys.executable, "-m", "bot", "eval", "--questions", str(tmp_path / "nope.yaml")],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert missing.returncode == 2
    assert "Cannot read the question set" in missing.stderr
