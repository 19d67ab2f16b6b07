"""Shared fixtures: a real embedded Redis, a loopback OpenAI-compatible server, and a real index
of knowledge/ built once per session with the bundled local embedder."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from bot.config import Settings, load_settings
from bot.deps import Deps, aclose, build_deps
from bot.memory.embedded_redis import EmbeddedRedis
from bot.retrieval.indexer import reindex

pytest_plugins = ["tests.support.redis_fixtures", "tests.support.openai_fixtures"]

ROOT = Path(__file__).resolve().parent.parent
KNOWLEDGE = ROOT / "knowledge"

# Tests never talk to a real OpenAI or Slack, and never read a developer's .env.
for _name in list(os.environ):
    if _name.startswith(("OPENAI_", "SLACK_", "QDRANT_", "REDIS_", "ADVISOR_")):
        del os.environ[_name]
os.environ["HF_HUB_OFFLINE"] = "1"


def make_settings(data_dir: Path, **groups: dict[str, object]) -> Settings:
    core = {"data_dir": data_dir, "knowledge_dir": KNOWLEDGE, **groups.pop("core", {})}
    return load_settings(env_file=None, core=core, **groups)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def knowledge_deps(
    tmp_path_factory: pytest.TempPathFactory, redis_server: EmbeddedRedis
) -> AsyncIterator[Deps]:
    """The real engine on embedded defaults: local embedder, embedded Qdrant, real Redis,
    no LLM (extractive answers), with knowledge/ indexed once for the whole session."""
    data_dir = tmp_path_factory.mktemp("knowledge-index")
    settings = make_settings(data_dir, redis={"url": redis_server.url})
    deps = await build_deps(settings)
    await reindex(
        deps.index,
        deps.embedder,
        KNOWLEDGE,
        chunk_chars=settings.retrieval.chunk_chars,
        max_file_bytes=settings.retrieval.max_file_bytes,
    )
    yield deps
    await aclose(deps)
