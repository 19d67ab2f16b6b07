"""A loopback mock of the Slack Web API: records every call, can fail or rate-limit on demand.

async with MockSlackApi() as slack:
    settings = SlackSettings(api_url=slack.url, ...)
    slack.fail("chat.startStream", "unknown_method")       # next call answers ok:false
    slack.rate_limit("chat.postMessage", retry_after=0)    # next call answers 429
    slack.server_error("chat.appendStream", status=503)    # next call answers 503
    await slack.wait_for("chat.stopStream")
    slack.calls_to("chat.postMessage")[0].params["text"]
    slack.uploads["F0001"]                                  # bytes sent by files_upload_v2
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

BOT_USER_ID = "UBOT0001"
BOT_ID = "BBOT0001"
TEAM_ID = "T0001"


@dataclass(frozen=True)
class Call:
    method: str
    params: dict[str, Any]
    status: int
    response: dict[str, Any] = field(default_factory=dict)  # e.g. the `ts` a post was given


@dataclass
class _Planned:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


class MockSlackApi:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self._planned: dict[str, list[_Planned]] = {}
        self._ts_counter = 0
        self._file_counter = 0
        self.uploads: dict[str, bytes] = {}  # file id -> content posted to its upload URL
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def __aenter__(self) -> MockSlackApi:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._handle)
        # files.getUploadURLExternal hands out URLs on this server (step 2 of files_upload_v2).
        app.router.add_post("/upload/{file_id}", self._upload)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}/api/"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # -- test controls -------------------------------------------------------------------------

    def fail(self, method: str, error: str, times: int = 1) -> None:
        self._plan(method, _Planned(200, {"ok": False, "error": error}), times)

    def rate_limit(self, method: str, retry_after: int = 0, times: int = 1) -> None:
        planned = _Planned(
            429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(retry_after)}
        )
        self._plan(method, planned, times)

    def server_error(self, method: str, status: int = 500, times: int = 1) -> None:
        """The next `times` calls of `method` answer with an HTTP 5xx, as Slack does in outages."""
        self._plan(method, _Planned(status, {"ok": False, "error": "internal_error"}), times)

    def reset(self) -> None:
        self.calls.clear()
        self._planned.clear()

    def calls_to(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method and call.status == 200]

    def ok_calls(self) -> list[Call]:
        return [call for call in self.calls if call.status == 200]

    async def wait_for(self, method: str, count: int = 1, within: float = 5.0) -> list[Call]:
        """Wait until `count` successful calls of `method` were recorded."""
        async with self._changed:
            await asyncio.wait_for(
                self._changed.wait_for(lambda: len(self.calls_to(method)) >= count), within
            )
        return self.calls_to(method)

    async def settle(self, quiet: float = 0.15, within: float = 5.0) -> None:
        """Wait until no call arrived for `quiet` seconds (background work finished)."""
        deadline = time.monotonic() + within
        seen = -1
        while time.monotonic() < deadline:
            if len(self.calls) == seen:
                return
            seen = len(self.calls)
            await asyncio.sleep(quiet)

    # -- server --------------------------------------------------------------------------------

    def _plan(self, method: str, planned: _Planned, times: int) -> None:
        self._planned.setdefault(method, []).extend([planned] * times)

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await _params(request)
        queue = self._planned.get(method)
        if queue:
            planned = queue.pop(0)
            await self._record(Call(method, params, planned.status))
            return web.json_response(planned.body, status=planned.status, headers=planned.headers)
        body = self._answer(method, params)
        await self._record(Call(method, params, 200, body))
        return web.json_response(body)

    async def _upload(self, request: web.Request) -> web.Response:
        file_id = request.match_info["file_id"]
        self.uploads[file_id] = await request.read()
        await self._record(Call("files.upload", {"file_id": file_id}, 200))
        return web.Response(text="OK")

    async def _record(self, call: Call) -> None:
        async with self._changed:
            self.calls.append(call)
            self._changed.notify_all()

    def _next_ts(self) -> str:
        self._ts_counter += 1
        return f"1700000000.{self._ts_counter:06d}"

    def _answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        channel = params.get("channel") or params.get("channel_id")
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://example.slack.com/",
                "team": "Example",
                "team_id": TEAM_ID,
                "user": "advisor",
                "user_id": BOT_USER_ID,
                "bot_id": BOT_ID,
            }
        if method in ("chat.postMessage", "chat.startStream"):
            return {"ok": True, "channel": channel, "ts": self._next_ts()}
        if method in ("chat.update", "chat.appendStream", "chat.stopStream"):
            return {"ok": True, "channel": channel, "ts": params.get("ts")}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": self._next_ts()}
        if method == "chat.getPermalink":
            ts = str(params.get("message_ts") or "").replace(".", "")
            return {"ok": True, "permalink": f"https://example.slack.com/archives/{channel}/p{ts}"}
        if method == "files.getUploadURLExternal":
            self._file_counter += 1
            file_id = f"F{self._file_counter:04d}"
            upload_url = self.url.replace("/api/", f"/upload/{file_id}")
            return {"ok": True, "file_id": file_id, "upload_url": upload_url}
        if method == "files.completeUploadExternal":
            files = params.get("files")
            listed = files if isinstance(files, list) else []
            return {
                "ok": True,
                "files": [{"id": f.get("id"), "title": f.get("title")} for f in listed],
            }
        if method == "views.open":
            return {"ok": True, "view": {"id": "V0001"}}
        if method == "users.info":
            return {"ok": True, "user": {"id": params.get("user"), "is_bot": False}}
        if method in (
            "reactions.add",
            "reactions.remove",
            "assistant.threads.setStatus",
            "assistant.threads.setSuggestedPrompts",
            "assistant.threads.setTitle",
            "apps.connections.open",
        ):
            return {"ok": True}
        return {"ok": False, "error": "unknown_method"}


async def _params(request: web.Request) -> dict[str, Any]:
    raw = await request.text()
    if request.content_type == "application/json":
        params: dict[str, Any] = json.loads(raw) if raw else {}
    else:
        params = dict(parse_qsl(raw, keep_blank_values=True))
        params.update(request.query)
    # Form-encoded JSON fields (blocks, view) are decoded so tests can inspect them.
    for key in ("blocks", "view", "chunks", "files"):
        value = params.get(key)
        if isinstance(value, str) and value.startswith(("[", "{")):
            params[key] = json.loads(value)
    return params
