"""The optional reranker, against the loopback server's Jina / Cohere-style `/v1/rerank` endpoint,
over the real index of knowledge/ and the local embedder: its order is the answer's order (capped
per document), dense and sparse stay raw, and every way the service can fail keeps the fused
order, logged and counted. The composition root wires it from settings and closes it."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from bot.cli.eval_run import evaluate_folder
from bot.deps import Deps, aclose, build_deps
from bot.models import Passage
from bot.ops.metered import MeteredRetriever
from bot.ops.metrics import Metrics
from bot.retrieval import sparse
from bot.retrieval.evaluation import QuestionSet
from bot.retrieval.index.shaping import cap_per_source
from bot.retrieval.represent import embedding_text
from bot.retrieval.rerank import HttpReranker
from bot.retrieval.retriever import Retriever
from tests.conftest import make_settings
from tests.support.openai_server import OpenAIServer, rerank_score

pytestmark = pytest.mark.slow

# Worded so the reranker's word-overlap score and the fused dense + BM25 order disagree.
QUESTION = "Our support bot must cite current product prices; should we fine-tune or retrieve?"
CANDIDATES = 20


@pytest_asyncio.fixture
async def reranker(openai_server: OpenAIServer) -> AsyncIterator[HttpReranker]:
    service = HttpReranker(
        f"{openai_server.url}/rerank", model="rerank-test", api_key="rk-secret", timeout_seconds=1
    )
    yield service
    await service.aclose()


def metered(deps: Deps, reranker: HttpReranker | None) -> tuple[MeteredRetriever, Metrics]:
    metrics = Metrics()
    retriever = MeteredRetriever(
        deps.index, deps.embedder, 5, metrics=metrics, reranker=reranker,
        rerank_candidates=CANDIDATES,
    )  # fmt: skip
    return retriever, metrics


def rerank_count(metrics: Metrics, outcome: str) -> float:
    value = metrics.registry.get_sample_value("advisor_reranks_total", {"outcome": outcome})
    return value or 0.0


async def candidates(deps: Deps) -> tuple[Passage, ...]:
    """The fused top CANDIDATES for QUESTION, uncapped: what the reranker is sent."""
    dense = await deps.embedder.embed_query(QUESTION)
    hits = await deps.index.search(
        dense, sparse.query_vector(QUESTION), CANDIDATES, max_per_source=CANDIDATES
    )
    return hits.passages


async def fused_order(deps: Deps, question: str) -> list[str]:
    """The fused top without a reranker, as chunk hashes."""
    plain = await Retriever(deps.index, deps.embedder, 5).retrieve(question)
    return [p.chunk.content_hash for p in plain.passages]


async def test_hybrid_results_follow_the_rerankers_order_capped_per_document(
    knowledge_deps: Deps, openai_server: OpenAIServer, reranker: HttpReranker
) -> None:
    retriever, metrics = metered(knowledge_deps, reranker)
    reranked = await retriever.retrieve(QUESTION)

    # What the service was asked: the fused top 20, uncapped, each with its title and headings.
    (request,) = openai_server.requests_to("rerank")
    assert request.headers["Authorization"] == "Bearer rk-secret"
    assert request.json["model"] == "rerank-test"
    assert request.json["query"] == QUESTION
    assert request.json["top_n"] == CANDIDATES
    fused = await candidates(knowledge_deps)
    sent = [embedding_text(p.chunk, heading_weight=1) for p in fused]
    assert request.json["documents"] == sent

    # What came back: the service's order by score, then at most two passages per document.
    by_score = sorted(range(len(sent)), key=lambda i: (-rerank_score(QUESTION, sent[i]), i))
    expected = cap_per_source([fused[i] for i in by_score], 5)
    assert [p.chunk.content_hash for p in reranked.passages] == [
        p.chunk.content_hash for p in expected
    ]
    assert [p.chunk.content_hash for p in reranked.passages] != await fused_order(
        knowledge_deps, QUESTION
    )
    assert max(sum(p.chunk.source == s for p in reranked.passages) for s in {
        p.chunk.source for p in reranked.passages
    }) <= 2  # fmt: skip
    assert rerank_count(metrics, "reranked") == 1


async def test_dense_and_sparse_searches_are_not_reranked(
    knowledge_deps: Deps, openai_server: OpenAIServer, reranker: HttpReranker
) -> None:
    retriever, _ = metered(knowledge_deps, reranker)
    await retriever.retrieve(QUESTION, 10, "dense")
    await retriever.retrieve(QUESTION, 10, "sparse")
    assert openai_server.requests_to("rerank") == []


def _broken_reply(server: OpenAIServer, kind: str) -> str:
    """Script one failure of the rerank endpoint; return what the log must say."""
    if kind == "status":
        server.queue_failure(503, endpoint="rerank")
        return "HTTP 503"
    if kind == "timeout":
        server.queue_hang(3.0, endpoint="rerank")
        return "no reply within 1 s"
    if kind == "not the rerank shape":
        server.queue_failure(200, body={"data": [{"index": 0, "score": 1.0}]}, endpoint="rerank")
        return "unexpected reply"
    server.queue_failure(
        200, body={"results": [{"index": 999, "relevance_score": 1.0}]}, endpoint="rerank"
    )
    return "document 999"


@pytest.mark.parametrize(
    "kind", ["status", "timeout", "not the rerank shape", "index out of range"]
)
async def test_a_failing_reranker_keeps_the_fused_order_logged_and_counted(
    knowledge_deps: Deps,
    openai_server: OpenAIServer,
    reranker: HttpReranker,
    kind: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    retriever, metrics = metered(knowledge_deps, reranker)
    reason = _broken_reply(openai_server, kind)
    with caplog.at_level(logging.WARNING, logger="bot.retrieval.retriever"):
        result = await retriever.retrieve(QUESTION)
    assert [p.chunk.content_hash for p in result.passages] == await fused_order(
        knowledge_deps, QUESTION
    )
    (record,) = [r for r in caplog.records if "Reranker" in r.getMessage()]
    assert reason in record.getMessage() and "fused order" in record.getMessage()
    assert rerank_count(metrics, "failed") == 1
    assert rerank_count(metrics, "reranked") == 0


async def test_documents_the_service_leaves_out_follow_in_the_fused_order(
    knowledge_deps: Deps, openai_server: OpenAIServer, reranker: HttpReranker
) -> None:
    # A service that caps top_n returns only its best few; the rest keep their fused places.
    results: list[dict[str, Any]] = [{"index": 7, "relevance_score": 0.9}]
    openai_server.queue_failure(200, body={"results": results}, endpoint="rerank")
    retriever, _ = metered(knowledge_deps, reranker)
    reranked = await retriever.retrieve(QUESTION)
    fused = await candidates(knowledge_deps)
    promoted = fused[7]
    rest = [p for i, p in enumerate(fused) if i != 7]
    expected = cap_per_source([promoted, *rest], 5)
    assert reranked.passages[0].chunk.content_hash == promoted.chunk.content_hash
    assert [p.chunk.content_hash for p in reranked.passages] == [
        p.chunk.content_hash for p in expected
    ]
    assert promoted.chunk.content_hash != fused[0].chunk.content_hash


DOCS = {
    "prices.md": "# Prices\n\nProduct prices change every week, so the bot looks them up at "
    "answer time instead of learning them.\n",
    "tone.md": "# Tone\n\nA consistent brand voice across thousands of replies is a reason to "
    "fine-tune once prompts stop holding it.\n",
}


async def test_the_composition_root_wires_the_reranker_from_settings_and_closes_it(
    tmp_path: Path, openai_server: OpenAIServer
) -> None:
    folder = tmp_path / "guidance"
    folder.mkdir()
    for name, text in DOCS.items():
        (folder / name).write_text(text)
    settings = make_settings(
        tmp_path / "data",
        core={"knowledge_dir": folder},
        retrieval={"rerank_url": f"{openai_server.url}/rerank", "rerank_model": "rr"},
    )
    deps = await build_deps(settings, with_memory=False)
    try:
        questions = QuestionSet.model_validate(
            {"questions": [{"question": "Do product prices belong in the weights?",
                            "expected": ["prices.md"]}]}
        )  # fmt: skip
        report = await evaluate_folder(deps, folder, questions)
        assert report.reranker == f"rr at 127.0.0.1:{openai_server.port}"
        assert report.mode("hybrid").hit_at[1] == 1.0
        # Every hybrid query of the eval went through the service; dense and sparse did not.
        asked = {r.json["query"] for r in openai_server.requests_to("rerank")}
        assert asked == {"Do product prices belong in the weights?"}
        # Once for the ranking, once for the no-match check that answering makes.
        assert len(openai_server.requests_to("rerank")) == 2
        assert rerank_count(deps.metrics, "reranked") == 2
        reranker = deps.retriever.reranker
        assert isinstance(reranker, HttpReranker)
    finally:
        await aclose(deps)
    assert reranker._client.is_closed
