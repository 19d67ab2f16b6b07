"""Recognisable secret values never appear in logs (DEBUG), `advisor config`, error output or
anything sent to Slack, across an answer with a failing LLM and the CLI's config and status."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import LLMSettings
from bot.deps import Deps
from bot.llm.chat import ChatClient, build_openai_client
from tests.support.openai_server import OpenAIServer
from tests.support.slack_api import BOT_USER_ID
from tests.support.slack_harness import deps_redis, engine_services, open_harness
from tests.support.slack_requests import message_event

pytestmark = pytest.mark.slow
SECRETS = {
    "OPENAI_API_KEY": "sk-SECRETopenai0123456789",
    "SLACK_BOT_TOKEN": "xoxb-SECRETbot0123456789",
    "SLACK_SIGNING_SECRET": "SECRETsigning0123456789",
    "QDRANT_API_KEY": "SECRETqdrant0123456789",
}
REDIS_PASSWORD = "SECRETredis0123456789"


def leaks(text: str) -> list[str]:
    return [v for v in [*SECRETS.values(), REDIS_PASSWORD] if v in text]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_no_secret_in_debug_logs_or_slack_calls(
    knowledge_deps: Deps, openai_server: OpenAIServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    # A provider that echoes the key in its 401 message, as some do.
    openai_server.queue_failure(
        401, body={"error": {"message": f"Incorrect API key {SECRETS['OPENAI_API_KEY']}"}}
    )
    settings = LLMSettings(api_key=SECRETS["OPENAI_API_KEY"], base_url=openai_server.url)
    chat = ChatClient(build_openai_client(settings), openai_server.model, max_retries=0)
    async with open_harness(
        engine_services(knowledge_deps, chat=chat),
        deps_redis(knowledge_deps),
        secret=SECRETS["SLACK_SIGNING_SECRET"],
    ) as rig:
        event = message_event(f"<@{BOT_USER_ID}> Should we fine-tune?", kind="app_mention")
        assert await rig.post_event(event) == 200
        await rig.api.wait_for("chat.stopStream", within=30)
        await rig.api.settle()
        assert "authentication failed" in rig.sent()  # the reason, without the key
        assert leaks(rig.sent()) == []
    assert leaks(caplog.text) == []
    assert leaks(" ".join(str(r.args) for r in caplog.records)) == []


@pytest.mark.parametrize(
    "command",
    [["config"], ["status", "--json"], ["ask", "hello"]],
    ids=["config", "status", "ask"],
)
def test_no_secret_in_cli_config_status_or_errors(tmp_path: Path, command: list[str]) -> None:
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ADVISOR_", "OPENAI_", "SLACK_", "REDIS_", "QDRANT_"))
    }
    env = {
        **base,
        **SECRETS,
        "REDIS_URL": f"redis://advisor:{REDIS_PASSWORD}@127.0.0.1:{closed_port()}/0",
        "QDRANT_URL": f"http://127.0.0.1:{closed_port()}",
        "OPENAI_BASE_URL": f"http://127.0.0.1:{closed_port()}/v1",
        "ADVISOR_EMBEDDER": "local",
        "ADVISOR_DATA_DIR": str(tmp_path / "data"),
        "ADVISOR_LOG_LEVEL": "DEBUG",
        "HF_HUB_OFFLINE": "1",
        "COLUMNS": "250",
    }
    run = subprocess.run(
        [sys.executable, "-m", "bot", *command],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert leaks(run.stdout + run.stderr) == [], (run.stdout, run.stderr)
