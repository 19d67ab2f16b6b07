"""A real engine for admin tests: openai embedder on the loopback server, embedded Qdrant, real
Redis, a small knowledge folder with questions.yaml, and the admin service built by build_admin."""

from __future__ import annotations

import textwrap
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest_asyncio
from redis.asyncio import Redis

from bot.admin.service import AdminService
from bot.admin.settings import AdminSettings
from bot.admin.wiring import build_admin
from bot.deps import Deps, aclose, build_deps
from bot.memory.embedded_redis import EmbeddedRedis
from tests.conftest import make_settings
from tests.support.openai_server import OpenAIServer

ADMIN = "UADMIN1"
OTHER_ADMIN = "UADMIN2"

DOCS = {
    "lora.md": "# LoRA adapters\nLoRA trains small low-rank adapter matrices; adapters make "
    "fine-tuning cheap because few parameters are trained.",
    "rag.md": "# Retrieval augmented generation\nRAG puts fresh documents into the prompt at "
    "question time, so answers follow knowledge that changes every week.",
    "json.md": "# Strict JSON output\nA JSON schema, examples and constrained decoding keep "
    "structured output valid.",
    "eval.md": "# Evaluation sets\nHold out a labelled evaluation set and measure accuracy "
    "before and after any change.",
    "cost.md": "# Cost and latency\nServing cost and latency grow with prompt length; "
    "smaller fine-tuned models answer faster and cheaper.",
    "privacy.md": "# Privacy and governance\nPersonal data needs consent, retention limits, "
    "audit logs and a review before training.",
}
QUESTIONS = """
questions:
  - question: "What are LoRA low-rank adapter matrices?"
    expected: [lora.md]
  - question: "How does RAG keep answers fresh when knowledge changes?"
    expected: [rag.md]
  - question: "How do we keep strict JSON structured output valid?"
    expected: [json.md]
  - question: "How should we build a labelled evaluation set to measure accuracy?"
    expected: [eval.md]
  - question: "Why do serving cost and latency grow with prompt length?"
    expected: [cost.md]
  - question: "What does personal data need before training: consent, retention, audit?"
    expected: [privacy.md]
"""
UNRELATED = {
    "pizza.md": "# Sourdough pizza\nKnead the dough, let it rise overnight, bake very hot.",
    "garden.md": "# Tomatoes\nWater tomatoes in the morning and stake them when they grow tall.",
    "cycling.md": "# Bicycle repair\nPatch the inner tube and check the tyre pressure weekly.",
}


def write_docs(folder: Path, docs: dict[str, str], *, replace: bool = False) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    if replace:
        for old in folder.glob("*.md"):
            old.unlink()
    for name, body in docs.items():
        (folder / name).write_text(textwrap.dedent(body).strip() + "\n", encoding="utf-8")


@dataclass
class AdminEnv:
    deps: Deps
    admin: AdminService
    folder: Path
    openai: OpenAIServer

    async def live_version(self) -> str | None:
        return await self.deps.index_version()


@pytest_asyncio.fixture
async def admin_env(
    tmp_path: Path, openai_server: OpenAIServer, redis_server: EmbeddedRedis, redis_client: Redis
) -> AsyncIterator[AdminEnv]:
    # `redis_client` is requested for its flush: no lock or feedback left by another test.
    folder = tmp_path / "knowledge"
    write_docs(folder, DOCS)
    (folder / "questions.yaml").write_text(QUESTIONS, encoding="utf-8")
    settings = make_settings(
        tmp_path / "data",
        core={"knowledge_dir": folder},
        redis={"url": redis_server.url},
        # No retries: one queued 500 is one failed embedding call.
        llm={"api_key": "sk-test", "base_url": openai_server.url, "max_retries": 0},
        embedding={"provider": "openai", "openai_model": "test-embed"},
    )
    deps = await build_deps(settings)
    admin = build_admin(
        deps,
        AdminSettings(admin_user_ids=f"{ADMIN},{OTHER_ADMIN}", reindex_lock_ttl_seconds=30),
    )
    try:
        yield AdminEnv(deps, admin, folder, openai_server)
    finally:
        await aclose(deps)
