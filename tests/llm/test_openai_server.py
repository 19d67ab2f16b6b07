"""The loopback server speaks the shapes the real openai client parses."""

from __future__ import annotations

import math

from openai import AsyncOpenAI

from tests.support.openai_server import OpenAIServer, hash_embedding


def _client(server: OpenAIServer) -> AsyncOpenAI:
    return AsyncOpenAI(api_key="sk-test", base_url=server.url, max_retries=0, timeout=5)


async def test_non_stream_completion(openai_server: OpenAIServer) -> None:
    openai_server.set_reply(lambda messages: f"{len(messages)} messages [1]")
    async with _client(openai_server) as client:
        reply = await client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "hi"}]
        )
    assert reply.choices[0].message.content == "1 messages [1]"


async def test_embeddings_batched_deterministic_normalised(openai_server: OpenAIServer) -> None:
    texts = ["use rag for facts", "fine-tune for style", "use rag for facts"]
    async with _client(openai_server) as client:
        result = await client.embeddings.create(model="e", input=texts)
    vectors = [d.embedding for d in result.data]
    assert [d.index for d in result.data] == [0, 1, 2]
    assert len(vectors[0]) == openai_server.embedding_dim
    assert vectors[0] == vectors[2]
    assert math.isclose(sum(v * v for v in vectors[1]), 1.0, rel_tol=1e-5)
    assert all(
        math.isclose(a, b, abs_tol=1e-6)
        for a, b in zip(vectors[0], hash_embedding(texts[0], 64), strict=True)
    )
    assert result.usage.total_tokens > 0


async def test_embeddings_float_format_and_dimensions(openai_server: OpenAIServer) -> None:
    async with _client(openai_server) as client:
        result = await client.embeddings.create(
            model="e", input="one text", encoding_format="float", dimensions=8
        )
    assert len(result.data[0].embedding) == 8
    assert openai_server.requests_to("embeddings")[0].json["input"] == "one text"


def test_faults_target_an_endpoint() -> None:
    with OpenAIServer() as server:
        server.queue_failure(status=503, endpoint="embeddings")
        assert server._next_fault("chat") is None
        fault = server._next_fault("embeddings")
        assert fault is not None
        assert fault.status == 503
