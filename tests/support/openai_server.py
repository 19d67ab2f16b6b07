"""A real loopback OpenAI-compatible HTTP server for tests, with scriptable faults.

It runs an aiohttp app on 127.0.0.1 (port 0) inside a background thread with its own event loop,
so sync tests, async tests and the real `openai` client can all talk to it over real sockets.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import math
import re
import socket
import struct
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import web

Endpoint = Literal["chat", "embeddings", "models", "rerank"]
ReplyFn = Callable[[list[dict[str, Any]]], str]
_TOKEN = re.compile(r"[a-z0-9]+")
_PIECE = re.compile(r"\S+\s*|\s+")


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    json: Any
    at: float  # time.monotonic() when the request arrived, to check back-off waits


@dataclass(frozen=True)
class _Fault:
    kind: Literal["status", "hang", "cut", "end"]
    endpoint: Endpoint | None
    status: int = 500
    headers: Mapping[str, str] = field(default_factory=dict)
    body: Any = None
    seconds: float = 0.0
    after_chunks: int = 0
    finish_reason: str | None = None


def default_reply(messages: list[dict[str, Any]]) -> str:
    """A reply derived from the last user message's last line, citing [1]."""
    text = ""
    for message in reversed(messages):
        if message.get("role") == "user" and isinstance(message.get("content"), str):
            text = message["content"]
            break
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    last = lines[-1][:80] if lines else "your question"
    return f"The guidance covers this: {last} [1]."


def hash_embedding(text: str, dim: int) -> list[float]:
    """Hashed bag of words: deterministic, and texts sharing words get a positive cosine."""
    vector = [0.0] * dim
    tokens = _TOKEN.findall(text.lower()) or [text]
    for token in tokens:
        digest = hashlib.sha256(token.encode()).digest()
        index = int.from_bytes(digest[:4], "big") % dim
        vector[index] += 1.0 if digest[4] & 1 else -1.0
    norm = math.sqrt(sum(v * v for v in vector)) or 1.0
    return [v / norm for v in vector]


class OpenAIServer:
    def __init__(self, *, model: str = "test-model", embedding_dim: int = 64) -> None:
        self.model = model
        self.embedding_dim = embedding_dim
        self.requests: list[RecordedRequest] = []
        self.stream_delay_seconds = 0.0  # between streamed chunks, as a slow model would
        self._reply: str | ReplyFn = default_reply
        self._refusal: str | None = None  # non-streamed replies refuse with this text when set
        self._faults: list[_Fault] = []
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._stopping: asyncio.Event | None = None
        self._port = 0

    # --- lifecycle -------------------------------------------------------------------------
    def start(self) -> OpenAIServer:
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(target=loop.run_forever, name="openai-server", daemon=True)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._serve(), loop).result(timeout=10)
        return self

    def stop(self) -> None:
        if self._loop is None or self._thread is None:
            return
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()
        self._loop = None
        self._thread = None

    def __enter__(self) -> OpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}/v1"

    # --- scripting ---------------------------------------------------------------------------
    def set_reply(self, reply: str | ReplyFn | None) -> None:
        """Fixed reply text, a function of the request messages, or None for `default_reply`."""
        with self._lock:
            self._reply = default_reply if reply is None else reply

    def set_refusal(self, refusal: str | None) -> None:
        """Non-streamed completions answer with `refusal` (content null), as structured-output
        models do when they decline; None goes back to normal replies."""
        with self._lock:
            self._refusal = refusal

    def queue_failure(
        self,
        status: int = 500,
        headers: Mapping[str, str] | None = None,
        body: Any = None,
        endpoint: Endpoint | None = None,
    ) -> None:
        self._queue(
            _Fault("status", endpoint, status=status, headers=dict(headers or {}), body=body)
        )

    def queue_hang(self, seconds: float, endpoint: Endpoint | None = None) -> None:
        """Sleep before answering normally, so client timeouts fire."""
        self._queue(_Fault("hang", endpoint, seconds=seconds))

    def queue_stream_cut(self, after_chunks: int = 2, endpoint: Endpoint | None = None) -> None:
        """Send `after_chunks` SSE chunks (nothing for non-stream calls), then drop the socket."""
        self._queue(_Fault("cut", endpoint, after_chunks=after_chunks))

    def queue_stream_end(
        self,
        after_chunks: int = 2,
        endpoint: Endpoint | None = None,
        *,
        finish_reason: str | None = None,
    ) -> None:
        """Send `after_chunks` SSE chunks, then end the body cleanly. Without `finish_reason`
        neither a finishing chunk nor `data: [DONE]` is sent (a server or proxy that gave up
        mid-answer); with one, the stream ends normally with that reason (e.g. "length")."""
        self._queue(_Fault("end", endpoint, after_chunks=after_chunks, finish_reason=finish_reason))

    def requests_to(self, endpoint: Endpoint) -> list[RecordedRequest]:
        suffix = {
            "chat": "/chat/completions", "embeddings": "/embeddings", "models": "/models",
            "rerank": "/rerank",
        }  # fmt: skip
        return [r for r in self.requests if r.path.endswith(suffix[endpoint])]

    def _queue(self, fault: _Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def _next_fault(self, endpoint: Endpoint) -> _Fault | None:
        with self._lock:
            for i, fault in enumerate(self._faults):
                if fault.endpoint in (None, endpoint):
                    return self._faults.pop(i)
        return None

    # --- server ------------------------------------------------------------------------------
    async def _serve(self) -> None:
        self._stopping = asyncio.Event()
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_post("/v1/embeddings", self._embeddings)
        app.router.add_get("/v1/models", self._models)
        app.router.add_post("/v1/rerank", self._rerank)
        # A short shutdown timeout: hung handlers must not hold up the end of a test.
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        # Bind the socket ourselves so the chosen port is known without reaching into aiohttp.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self._port = int(sock.getsockname()[1])
        await web.SockSite(self._runner, sock).start()

    async def _shutdown(self) -> None:
        if self._stopping is not None:
            self._stopping.set()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _record(self, request: web.Request) -> Any:
        body: Any = None
        if request.can_read_body:
            raw = await request.read()
            try:
                body = json.loads(raw)
            except ValueError:
                body = raw.decode(errors="replace")
        self.requests.append(
            RecordedRequest(
                request.method, request.path, dict(request.headers), body, time.monotonic()
            )
        )
        return body

    async def _apply_fault(
        self, request: web.Request, endpoint: Endpoint
    ) -> web.Response | _Fault | None:
        """A response to send instead, a cut to perform later, or None to answer normally."""
        fault = self._next_fault(endpoint)
        if fault is None:
            return None
        if fault.kind == "hang":
            assert self._stopping is not None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), fault.seconds)
            return None
        if fault.kind in ("cut", "end"):
            return fault
        body = fault.body or {
            "error": {"message": f"scripted {fault.status}", "type": "test_error", "code": None}
        }
        return web.json_response(body, status=fault.status, headers=dict(fault.headers))

    async def _unary(
        self, request: web.Request, endpoint: Endpoint
    ) -> tuple[Any, web.StreamResponse | None]:
        """Record a non-streamed request and apply any scripted fault: (body, None) to answer
        normally, or (body, the scripted error or a dropped connection) to send instead."""
        body = await self._record(request)
        outcome = await self._apply_fault(request, endpoint)
        if isinstance(outcome, web.Response):
            return body, outcome
        if isinstance(outcome, _Fault):
            return body, self._drop(request)
        return body, None

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        body = await self._record(request)
        outcome = await self._apply_fault(request, "chat")
        if isinstance(outcome, web.Response):
            return outcome
        messages = body.get("messages", []) if isinstance(body, dict) else []
        with self._lock:
            reply = self._reply
        text = reply if isinstance(reply, str) else reply(messages)
        cut = outcome.after_chunks if isinstance(outcome, _Fault) else None
        end = outcome if isinstance(outcome, _Fault) and outcome.kind == "end" else None
        if isinstance(body, dict) and body.get("stream"):
            try:
                return await self._stream(request, text, cut, end=end)
            except ConnectionResetError:
                # The client gave up (a timeout test); nothing left to answer.
                return web.Response(status=499)
        if cut is not None:
            return self._drop(request)
        completion = self._completion(text)
        with self._lock:
            refusal = self._refusal
        if refusal is not None:
            completion["choices"][0]["message"].update(content=None, refusal=refusal)
        return web.json_response(completion)

    async def _stream(
        self, request: web.Request, text: str, cut: int | None, *, end: _Fault | None = None
    ) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        chunk_id = f"chatcmpl-{len(self.requests)}"
        deltas: list[dict[str, Any]] = [{"role": "assistant", "content": ""}]
        deltas += [{"content": piece} for piece in _PIECE.findall(text)]
        for sent, delta in enumerate(deltas):
            if cut is not None and sent >= cut:
                break
            if sent and self.stream_delay_seconds:
                await asyncio.sleep(self.stream_delay_seconds)
            await response.write(_sse(self._chunk(chunk_id, delta, None)))
        if end is not None and end.finish_reason is None:
            await response.write_eof()  # a well-formed end of body: only the stop is missing
            return response
        if cut is not None and end is None:
            return self._drop(request, response)
        finish = end.finish_reason if end is not None else "stop"
        await response.write(_sse(self._chunk(chunk_id, {}, finish)))
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response

    def _drop(
        self, request: web.Request, response: web.StreamResponse | None = None
    ) -> web.StreamResponse:
        # Abort rather than close: the client must see a broken body, not a clean end.
        if request.transport is not None:
            request.transport.abort()
        return response or web.StreamResponse()

    def _chunk(self, chunk_id: str, delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
        return {
            "id": chunk_id,
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": self.model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
        }

    def _completion(self, text: str) -> dict[str, Any]:
        return {
            "id": f"chatcmpl-{len(self.requests)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": self.model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text, "refusal": None},
                    "finish_reason": "stop",
                    "logprobs": None,
                }
            ],
            "usage": {
                "prompt_tokens": 10,
                "completion_tokens": len(text.split()),
                "total_tokens": 10 + len(text.split()),
            },
        }

    async def _embeddings(self, request: web.Request) -> web.StreamResponse:
        body, instead = await self._unary(request, "embeddings")
        if instead is not None:
            return instead
        raw = body.get("input", []) if isinstance(body, dict) else []
        texts = [raw] if isinstance(raw, str) else [str(item) for item in raw]
        dim = int(body.get("dimensions") or self.embedding_dim)
        as_base64 = body.get("encoding_format") == "base64"
        data = []
        for index, text in enumerate(texts):
            vector = hash_embedding(text, dim)
            encoded: Any = (
                base64.b64encode(struct.pack(f"<{dim}f", *vector)).decode() if as_base64 else vector
            )
            data.append({"object": "embedding", "index": index, "embedding": encoded})
        tokens = sum(len(text.split()) for text in texts)
        return web.json_response(
            {
                "object": "list",
                "data": data,
                "model": body.get("model", self.model),
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            }
        )

    async def _models(self, request: web.Request) -> web.StreamResponse:
        _, instead = await self._unary(request, "models")
        if instead is not None:
            return instead
        model = {"id": self.model, "object": "model", "created": 0, "owned_by": "test"}
        return web.json_response({"object": "list", "data": [model]})

    async def _rerank(self, request: web.Request) -> web.StreamResponse:
        """The Jina / Cohere rerank API, as vLLM serves it beside chat and embeddings. Relevance
        is `rerank_score`: deterministic, and unlike the fused order of a hybrid search."""
        body, instead = await self._unary(request, "rerank")
        if instead is not None:
            return instead
        query = str(body.get("query", ""))
        documents = [str(d) for d in body.get("documents", [])]
        scored = sorted(
            ((rerank_score(query, doc), i) for i, doc in enumerate(documents)),
            key=lambda pair: (-pair[0], pair[1]),
        )
        top_n = int(body.get("top_n") or len(documents))
        results = [{"index": i, "relevance_score": score} for score, i in scored[:top_n]]
        return web.json_response({"model": body.get("model", self.model), "results": results})


def rerank_score(query: str, document: str) -> float:
    """Share of the query's distinct words (three letters or more) the document contains."""
    words = {w for w in _TOKEN.findall(query.lower()) if len(w) > 2}
    found = set(_TOKEN.findall(document.lower()))
    return len(words & found) / (len(words) or 1)


def _sse(payload: dict[str, Any]) -> bytes:
    return f"data: {json.dumps(payload)}\n\n".encode()
