"""ChatClient against the loopback server, through the real AsyncOpenAI client."""

from __future__ import annotations

import contextlib
import logging
import socket
import time
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from openai import AsyncOpenAI
from pydantic import SecretStr

from bot.config import LLMSettings
from bot.errors import ConfigError, LLMUnavailableError
from bot.llm.chat import ChatClient, build_openai_client
from bot.llm.prompts import build_messages
from tests.llm.helpers import passage
from tests.support.openai_server import OpenAIServer

API_KEY = "sk-test-do-not-log-123"
MESSAGES = build_messages("Should we fine-tune?", [], [passage("Use RAG for facts.")])


class ClientFactory:
    """Builds ChatClients the way the app does, and closes their HTTP pools afterwards."""

    def __init__(self) -> None:
        self.opened: list[AsyncOpenAI] = []

    def __call__(
        self, server: OpenAIServer | str, *, retries: int = 2, timeout: float = 2.0
    ) -> ChatClient:
        url = server if isinstance(server, str) else server.url
        settings = LLMSettings(api_key=SecretStr(API_KEY), base_url=url, timeout_seconds=timeout)
        client = build_openai_client(settings)
        self.opened.append(client)
        return ChatClient(
            client,
            "test-model",
            max_retries=retries,
            timeout_seconds=timeout,
            backoff_base=0.01,
            backoff_cap=1.0,
        )


@pytest_asyncio.fixture
async def make_client() -> AsyncIterator[ClientFactory]:
    factory = ClientFactory()
    yield factory
    for client in factory.opened:
        await client.close()


async def collect(stream: AsyncIterator[str], into: list[str] | None = None) -> str:
    parts = into if into is not None else []
    async for text in stream:
        parts.append(text)
    return "".join(parts)


async def test_streamed_reply_is_assembled(
    openai_server: OpenAIServer, make_client: ClientFactory
) -> None:
    openai_server.set_reply("Use RAG when facts change [1]. Fine-tune for style [2].")
    parts: list[str] = []
    text = await collect(make_client(openai_server).stream(MESSAGES), parts)
    assert text == "Use RAG when facts change [1]. Fine-tune for style [2]."
    assert len(parts) > 1  # really streamed, not one blob
    (request,) = openai_server.requests
    assert request.path == "/v1/chat/completions"
    assert request.json["stream"] is True
    assert request.json["model"] == "test-model"
    assert request.json["temperature"] == 0.2
    assert request.json["messages"][0]["role"] == "system"
    assert request.headers["Authorization"] == f"Bearer {API_KEY}"


async def test_default_reply_cites(openai_server: OpenAIServer, make_client: ClientFactory) -> None:
    text = await collect(make_client(openai_server).stream(MESSAGES))
    assert "Should we fine-tune?" in text
    assert "[1]" in text


@pytest.mark.parametrize(
    ("headers", "min_wait"),
    [({"retry-after": "0.3"}, 0.3), ({"retry-after-ms": "250"}, 0.25)],
)
async def test_429_honours_retry_after_then_succeeds(
    openai_server: OpenAIServer,
    make_client: ClientFactory,
    headers: dict[str, str],
    min_wait: float,
) -> None:
    openai_server.queue_failure(status=429, headers=headers)
    openai_server.set_reply("ok [1]")
    assert await collect(make_client(openai_server).stream(MESSAGES)) == "ok [1]"
    first, second = openai_server.requests
    assert second.at - first.at >= min_wait


async def test_500_then_success(openai_server: OpenAIServer, make_client: ClientFactory) -> None:
    openai_server.queue_failure(status=500)
    openai_server.set_reply("fine [1]")
    assert await collect(make_client(openai_server).stream(MESSAGES)) == "fine [1]"
    assert len(openai_server.requests) == 2


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (500, "server error 500 after 3 attempts"),
        (503, "server error 503 after 3 attempts"),
        (429, "rate limited (429) after 3 attempts"),
    ],
)
async def test_retries_exhausted(
    openai_server: OpenAIServer, make_client: ClientFactory, status: int, reason: str
) -> None:
    for _ in range(3):
        openai_server.queue_failure(status=status)
    with pytest.raises(LLMUnavailableError) as caught:
        await collect(make_client(openai_server).stream(MESSAGES))
    assert caught.value.reason == reason
    assert len(openai_server.requests) == 3


async def test_hang_times_out_retries_then_gives_up_quickly(
    openai_server: OpenAIServer,
    make_client: ClientFactory,
) -> None:
    openai_server.queue_hang(5)
    openai_server.queue_hang(5)
    started = time.monotonic()
    with pytest.raises(LLMUnavailableError) as caught:
        await collect(make_client(openai_server, retries=1, timeout=0.3).stream(MESSAGES))
    assert caught.value.reason == "timed out after 2 attempts"
    assert time.monotonic() - started < 2.0
    assert len(openai_server.requests) == 2


async def test_hang_then_success(openai_server: OpenAIServer, make_client: ClientFactory) -> None:
    openai_server.queue_hang(5)
    openai_server.set_reply("late but fine [1]")
    text = await collect(make_client(openai_server, timeout=0.3).stream(MESSAGES))
    assert text == "late but fine [1]"


async def test_stream_cut_before_text_is_retried(
    openai_server: OpenAIServer, make_client: ClientFactory
) -> None:
    openai_server.queue_stream_cut(after_chunks=1)  # only the role chunk, no text
    openai_server.set_reply("second try [1]")
    assert await collect(make_client(openai_server).stream(MESSAGES)) == "second try [1]"
    assert len(openai_server.requests) == 2


async def test_stream_cut_after_text_raises_with_partial_text(
    openai_server: OpenAIServer,
    make_client: ClientFactory,
) -> None:
    openai_server.set_reply("one two three four five")
    openai_server.queue_stream_cut(after_chunks=3)  # role chunk + "one " + "two "
    parts: list[str] = []
    with pytest.raises(LLMUnavailableError) as caught:
        await collect(make_client(openai_server).stream(MESSAGES), parts)
    assert "".join(parts) == "one two "
    assert "interrupted" in caught.value.reason
    assert len(openai_server.requests) == 1


async def test_stream_ending_without_finish_reason_is_a_cut_off_answer(
    openai_server: OpenAIServer, make_client: ClientFactory
) -> None:
    # A clean end of body without a finishing chunk and without [DONE]: the text so far is
    # not the whole answer, and (like a dropped connection) retrying would repeat it.
    openai_server.set_reply("one two three four five")
    openai_server.queue_stream_end(after_chunks=3)  # role chunk + "one " + "two "
    parts: list[str] = []
    with pytest.raises(LLMUnavailableError) as caught:
        await collect(make_client(openai_server).stream(MESSAGES), parts)
    assert "".join(parts) == "one two "
    assert caught.value.reason == (
        "stream interrupted after a partial answer (ended before the model finished)"
    )
    assert len(openai_server.requests) == 1


async def test_stream_ending_before_any_text_is_retried(
    openai_server: OpenAIServer, make_client: ClientFactory
) -> None:
    openai_server.queue_stream_end(after_chunks=1)  # only the role chunk, then a clean end
    openai_server.set_reply("second try [1]")
    assert await collect(make_client(openai_server).stream(MESSAGES)) == "second try [1]"
    assert len(openai_server.requests) == 2


async def test_answer_stopped_by_the_length_limit_is_a_cut_off_answer(
    openai_server: OpenAIServer, make_client: ClientFactory
) -> None:
    openai_server.set_reply("one two three four five")
    openai_server.queue_stream_end(after_chunks=3, finish_reason="length")
    parts: list[str] = []
    with pytest.raises(LLMUnavailableError) as caught:
        await collect(make_client(openai_server).stream(MESSAGES), parts)
    assert "".join(parts) == "one two "
    assert caught.value.reason == (
        "stream interrupted after a partial answer (stopped at the length limit)"
    )


async def test_empty_completion_is_a_failure(
    openai_server: OpenAIServer, make_client: ClientFactory
) -> None:
    openai_server.set_reply("")
    with pytest.raises(LLMUnavailableError) as caught:
        await collect(make_client(openai_server, retries=1).stream(MESSAGES))
    assert caught.value.reason == "empty completion after 2 attempts"


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (401, "authentication failed (401)"),
        (400, "bad request (400)"),
        (404, "not found (check the model name and base URL) (404)"),
    ],
)
async def test_client_errors_are_not_retried(
    openai_server: OpenAIServer, make_client: ClientFactory, status: int, reason: str
) -> None:
    # Providers echo part of the key in 401 messages: it must not reach our reason.
    body = {"error": {"message": f"Incorrect API key provided: {API_KEY}", "type": "x"}}
    openai_server.queue_failure(status=status, body=body)
    with pytest.raises(LLMUnavailableError) as caught:
        await collect(make_client(openai_server).stream(MESSAGES))
    assert caught.value.reason == reason
    assert API_KEY not in str(caught.value)
    assert len(openai_server.requests) == 1


async def test_retries_are_logged_without_the_key(
    openai_server: OpenAIServer, make_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    openai_server.queue_failure(status=502)
    with caplog.at_level(logging.WARNING, logger="bot.llm.chat"):
        await collect(make_client(openai_server).stream(MESSAGES))
    warnings = [r for r in caplog.records if r.name == "bot.llm.chat"]
    assert len(warnings) == 1
    assert "server error 502" in warnings[0].getMessage()
    assert API_KEY not in caplog.text


async def test_ping_ok(openai_server: OpenAIServer, make_client: ClientFactory) -> None:
    assert await make_client(openai_server).ping() is None
    assert openai_server.requests[0].path == "/v1/models"


async def test_ping_reports_auth_failure(
    openai_server: OpenAIServer, make_client: ClientFactory
) -> None:
    openai_server.queue_failure(status=401)
    assert await make_client(openai_server).ping() == "authentication failed (401)"


async def test_ping_does_not_hang(openai_server: OpenAIServer, make_client: ClientFactory) -> None:
    openai_server.queue_hang(10, endpoint="models")
    started = time.monotonic()
    assert await make_client(openai_server, timeout=0.3).ping() == "timed out"
    assert time.monotonic() - started < 2.0


async def test_ping_closed_port_returns_reason(make_client: ClientFactory) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    started = time.monotonic()
    reason = await make_client(f"http://127.0.0.1:{port}/v1").ping()
    assert reason == "connection failed"
    assert time.monotonic() - started < 5.0


def test_build_openai_client_uses_settings() -> None:
    settings = LLMSettings(
        api_key=SecretStr(API_KEY), base_url="http://127.0.0.1:9/v1", timeout_seconds=7
    )
    client = build_openai_client(settings)
    assert client.max_retries == 0
    assert str(client.base_url).startswith("http://127.0.0.1:9/v1")
    assert client.api_key == API_KEY
    override = build_openai_client(settings, base_url="http://127.0.0.1:10/v1")
    assert str(override.base_url).startswith("http://127.0.0.1:10/v1")


@pytest.mark.parametrize("key", [None, ""])
def test_build_openai_client_needs_a_key(key: str | None) -> None:
    settings = LLMSettings(api_key=None if key is None else SecretStr(key))
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        build_openai_client(settings)


async def test_caller_may_stop_early(
    openai_server: OpenAIServer, make_client: ClientFactory
) -> None:
    openai_server.set_reply("one two three four")
    stream = make_client(openai_server).stream(MESSAGES)
    async with contextlib.aclosing(stream) as texts:
        async for text in texts:
            assert text == "one "
            break
    assert len(openai_server.requests) == 1
