"""A loopback mock of the Slack Web API: records every call, can fail or rate-limit on demand.

async with MockSlackApi() as slack:
    settings = SlackSettings(api_url=slack.url, ...)
    slack.fail("chat.startStream", "unknown_method")       # next call answers ok:false
    slack.rate_limit("chat.postMessage", retry_after=0)    # next call answers 429
    slack.server_error("chat.appendStream", status=503)    # next call answers 503
    slack.drop_connection("chat.postMessage")              # next call: connection closed, no answer
    slack.budget("chat.startStream", 20, window=60)         # 429 + Retry-After past 20 a window
    await slack.wait_for("chat.stopStream")
    slack.calls_to("chat.postMessage")[0].params["text"]
    slack.messages_in("1700000000.000001")                  # what a thread shows, message by message
    slack.uploads["F0001"]                                  # bytes sent by files_upload_v2
    slack.clock = lambda: 1_800_000_000.0                   # "now" for scheduled messages
    slack.scheduled["Q0001"]                                # pending chat.scheduleMessage posts
    slack.send_due()                                        # post those whose post_at has come
    slack.usergroups["S0EXPERTS"] = ["U0EXPERT"]            # what usergroups.users.list answers
    slack.add_reply(CHANNEL, thread_ts, "U0EXPERT", "Use LoRA")  # a person replies in a thread

Like Slack it refuses a message whose text passes MESSAGE_TEXT_LIMIT (`msg_too_long`; streamed
text counts as it accumulates) and an append or stop on a stream already stopped
(`message_not_in_streaming_state`), so every test checks those limits as a side effect.

Scheduled messages follow chat.scheduleMessage's documented rules: `channel` must be a
conversation id (a user id is `channel_not_found`), `post_at` must be in the future
(`time_in_past`) and at most 120 days ahead (`time_too_far`), and at most 30 may be due in one
channel within 5 minutes (`restricted_too_many`). chat.deleteScheduledMessage answers
`invalid_scheduled_message_id` for one already sent or deleted.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

BOT_USER_ID = "UBOT0001"
BOT_ID = "BBOT0001"
TEAM_ID = "T0001"
MESSAGE_TEXT_LIMIT = 12_000  # characters of text (the `text` plus every text in the blocks)
SCHEDULE_LIMIT_SECONDS = 120 * 86_400  # chat.scheduleMessage: at most 120 days ahead
SCHEDULE_WINDOW_SECONDS, SCHEDULE_WINDOW_MAX = 300, 30  # per channel


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
    drop: bool = False  # close the connection instead of answering


@dataclass
class Message:
    """One message as a user sees it: posted or streamed, then edited or stopped."""

    ts: str
    channel: str
    thread_ts: str | None
    text: str = ""  # `text`, or the streamed markdown so far
    blocks: list[Any] = field(default_factory=list)
    streaming: bool = False
    streamed: bool = False
    edits: int = 0

    def size(self) -> int:
        return len(self.text) + blocks_text_size(self.blocks)

    def shown(self) -> str:
        """What the message displays: streamed text and its blocks, or (for a posted or edited
        message, whose `text` is only the notification) its blocks."""
        blocks = json.dumps(self.blocks, ensure_ascii=False)
        return blocks if self.edits or not self.streamed else self.text + "\n" + blocks


@dataclass(frozen=True)
class Scheduled:
    """A message Slack holds until `post_at`."""

    scheduled_message_id: str
    channel: str
    post_at: int
    thread_ts: str | None
    text: str
    blocks: list[Any]


@dataclass
class _Budget:
    per_window: int
    window: float
    calls: deque[float] = field(default_factory=deque)


class MockSlackApi:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.messages: dict[str, Message] = {}
        self._budgets: dict[str, _Budget] = {}
        self._planned: dict[str, list[_Planned]] = {}
        self._ts_counter = 0
        self._file_counter = 0
        self.uploads: dict[str, bytes] = {}  # file id -> content posted to its upload URL
        self.scheduled: dict[str, Scheduled] = {}  # pending, by scheduled_message_id
        self.clock: Callable[[], float] = time.time  # Slack's "now" for scheduled messages
        self._scheduled_counter = 0
        self._view_counter = 0
        self.usergroups: dict[str, list[str]] = {}  # user group id -> member user ids
        self.human_replies: list[
            dict[str, Any]
        ] = []  # people's thread replies, as Slack lists them
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def __aenter__(self) -> MockSlackApi:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._handle)
        # files.getUploadURLExternal hands out URLs on this server (step 2 of files_upload_v2).
        app.router.add_post("/upload/{file_id}", self._upload)
        # For a mock running in its own process (benchmarks): what it has seen so far.
        app.router.add_get("/_mock/summary", self._summary)
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

    def drop_connection(self, method: str, times: int = 1) -> None:
        """The next `times` calls of `method` lose their connection before any answer."""
        self._plan(method, _Planned(0, {}, drop=True), times)

    def budget(self, method: str, per_window: int, window: float = 60.0) -> None:
        """Past `per_window` calls of `method` in any `window` seconds, answer 429 with the
        Retry-After (whole seconds) until a call is allowed again, as Slack's tiers do."""
        self._budgets[method] = _Budget(per_window, window)

    def reset(self) -> None:
        self.calls.clear()
        self.messages.clear()
        self._planned.clear()

    def send_due(self) -> list[Message]:
        """Post every scheduled message whose `post_at` has come (by `clock`), as Slack would."""
        now = self.clock()
        sent = []
        for scheduled in sorted(self.scheduled.values(), key=lambda m: m.post_at):
            if scheduled.post_at > now:
                continue
            del self.scheduled[scheduled.scheduled_message_id]
            ts = self._next_ts()
            message = Message(
                ts, scheduled.channel, scheduled.thread_ts, scheduled.text, scheduled.blocks
            )
            self.messages[ts] = message
            sent.append(message)
        return sent

    def add_reply(self, channel: str, thread_ts: str, user: str, text: str) -> str:
        """A person's reply in a thread, for conversations.replies to list; returns its ts."""
        ts = self._next_ts()
        self.human_replies.append(
            {
                "type": "message",
                "channel": channel,
                "thread_ts": thread_ts,
                "ts": ts,
                "user": user,
                "text": text,
            }
        )
        return ts

    def messages_in(self, thread_ts: str) -> list[Message]:
        """The bot's messages in a thread, in the order they were created."""
        return [m for m in self.messages.values() if m.thread_ts == thread_ts]

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

    async def wait_until(self, done: Callable[[], bool], within: float = 5.0) -> None:
        """Wait until `done()` is true, checked after every call the bot makes."""
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(done), within)

    def answered_threads(self) -> set[str]:
        """Threads holding a finished answer: a message carrying an answer's feedback buttons."""
        return {
            str(m.thread_ts)
            for m in self.messages.values()
            if not m.streaming
            and any(
                isinstance(b, dict) and str(b.get("block_id", "")).startswith("answer_actions:")
                for b in m.blocks
            )
        }

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

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        params = await _params(request)
        queue = self._planned.get(method)
        if queue:
            planned = queue.pop(0)
            if planned.drop:
                # As if the connection broke mid-request: the client gets no answer at all.
                assert request.transport is not None
                request.transport.close()
                await self._record(Call(method, params, 0))
                return web.Response(status=500)
            await self._record(Call(method, params, planned.status))
            return web.json_response(planned.body, status=planned.status, headers=planned.headers)
        retry_after = self._over_budget(method)
        if retry_after is not None:
            body = {"ok": False, "error": "ratelimited"}
            await self._record(Call(method, params, 429, body))
            return web.json_response(body, status=429, headers={"Retry-After": str(retry_after)})
        body = self._answer(method, params)
        await self._record(Call(method, params, 200, body))
        return web.json_response(body)

    def _over_budget(self, method: str) -> int | None:
        budget = self._budgets.get(method)
        if budget is None:
            return None
        now = time.monotonic()
        while budget.calls and budget.calls[0] <= now - budget.window:
            budget.calls.popleft()
        if len(budget.calls) >= budget.per_window:
            return max(1, math.ceil(budget.calls[0] + budget.window - now))
        budget.calls.append(now)
        return None

    async def _summary(self, _: web.Request) -> web.Response:
        per_thread = Counter(str(m.thread_ts) for m in self.messages.values())
        return web.json_response(
            {
                "calls": len(self.calls),
                "answered": sorted(self.answered_threads()),
                "messages_per_thread": per_thread,
                "streamed": sum(m.streamed for m in self.messages.values()),
                "rate_limited": sum(c.status == 429 for c in self.calls),
            }
        )

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
        if method in _MESSAGE_METHODS:
            return self._message(method, params, str(channel))
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
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": self._next_ts()}
        if method == "chat.delete":
            # A bot token may delete only the bot's own messages: here, any message it posted.
            if self.messages.pop(str(params.get("ts")), None) is None:
                return {"ok": False, "error": "message_not_found"}
            return {"ok": True, "channel": channel, "ts": params.get("ts")}
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
        if method == "chat.scheduleMessage":
            return self._schedule(params, str(channel or ""))
        if method == "chat.deleteScheduledMessage":
            pending = self.scheduled.get(str(params.get("scheduled_message_id") or ""))
            if pending is None or pending.channel != channel:
                return {"ok": False, "error": "invalid_scheduled_message_id"}
            del self.scheduled[pending.scheduled_message_id]
            return {"ok": True}
        if method == "views.open":
            view = params.get("view")
            if not params.get("trigger_id") or not isinstance(view, dict):
                return {"ok": False, "error": "invalid_arguments"}
            self._view_counter += 1
            opened = {"id": f"V{self._view_counter:04d}", "team_id": TEAM_ID, **view}
            return {"ok": True, "view": opened}
            return {"ok": True, "view": {"id": "V0001"}}
        if method == "usergroups.users.list":
            members = self.usergroups.get(str(params.get("usergroup")))
            if members is None:
                return {"ok": False, "error": "no_such_subteam"}
            return {"ok": True, "users": list(members)}
        if method == "conversations.replies":
            return self._replies(str(channel), str(params.get("ts")), params.get("oldest"))
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

    def _schedule(self, params: dict[str, Any], channel: str) -> dict[str, Any]:
        if not channel.startswith(("C", "G", "D")):
            return {"ok": False, "error": "channel_not_found"}  # a conversation id, not a user
        try:
            post_at = int(str(params.get("post_at")))
        except ValueError:
            return {"ok": False, "error": "invalid_time"}
        now = self.clock()
        if post_at <= now:
            return {"ok": False, "error": "time_in_past"}
        if post_at > now + SCHEDULE_LIMIT_SECONDS:
            return {"ok": False, "error": "time_too_far"}
        text = str(params.get("text") or "")
        raw_blocks = params.get("blocks")
        blocks: list[Any] = raw_blocks if isinstance(raw_blocks, list) else []
        if not text and not blocks:
            return {"ok": False, "error": "no_text"}
        if len(text) + blocks_text_size(blocks) > MESSAGE_TEXT_LIMIT:
            return {"ok": False, "error": "msg_too_long"}
        close = [
            m
            for m in self.scheduled.values()
            if m.channel == channel and abs(m.post_at - post_at) < SCHEDULE_WINDOW_SECONDS
        ]
        if len(close) >= SCHEDULE_WINDOW_MAX:
            return {"ok": False, "error": "restricted_too_many"}
        self._scheduled_counter += 1
        scheduled_id = f"Q{self._scheduled_counter:010d}"
        thread = params.get("thread_ts")
        self.scheduled[scheduled_id] = Scheduled(
            scheduled_id, channel, post_at, str(thread) if thread else None, text, blocks
        )
        return {
            "ok": True,
            "channel": channel,
            "scheduled_message_id": scheduled_id,
            "post_at": post_at,
            "message": {
                "text": text,
                "blocks": blocks,
                "bot_id": BOT_ID,
                "type": "delayed_message",
                "subtype": "bot_message",
            },
        }

    def _replies(self, channel: str, thread_ts: str, oldest: object) -> dict[str, Any]:
        """The thread as Slack lists it: the bot's messages and people's replies, oldest first,
        after `oldest` when given (the thread's root is not modelled)."""
        found: list[dict[str, Any]] = [
            {
                "type": "message",
                "ts": m.ts,
                "thread_ts": m.thread_ts,
                "text": m.text,
                "user": BOT_USER_ID,
                "bot_id": BOT_ID,
            }
            for m in self.messages.values()
            if m.channel == channel and m.thread_ts == thread_ts
        ]
        found += [
            reply
            for reply in self.human_replies
            if reply["channel"] == channel and reply["thread_ts"] == thread_ts
        ]
        if oldest is not None:
            found = [m for m in found if Decimal(m["ts"]) > Decimal(str(oldest))]
        found.sort(key=lambda m: Decimal(m["ts"]))
        return {"ok": True, "messages": found, "has_more": False}

    def _message(self, method: str, params: dict[str, Any], channel: str) -> dict[str, Any]:
        """Messages as Slack keeps them, with its size limit and its stream states."""
        text = str(params.get("text") or params.get("markdown_text") or "")
        text += "".join(
            str(c.get("text") or "") for c in params.get("chunks") or [] if isinstance(c, dict)
        )
        raw_blocks = params.get("blocks")
        blocks: list[Any] = raw_blocks if isinstance(raw_blocks, list) else []
        if method in ("chat.postMessage", "chat.startStream"):
            if len(text) + blocks_text_size(blocks) > MESSAGE_TEXT_LIMIT:
                return {"ok": False, "error": "msg_too_long"}
            ts = self._next_ts()
            streaming = method == "chat.startStream"
            thread = params.get("thread_ts")
            self.messages[ts] = Message(
                ts, channel, str(thread) if thread else None, text, blocks, streaming, streaming
            )
            return {"ok": True, "channel": channel, "ts": ts}
        message = self.messages.get(str(params.get("ts")))
        if message is None:
            return {"ok": False, "error": "message_not_found"}
        if method == "chat.update":
            if len(text) + blocks_text_size(blocks) > MESSAGE_TEXT_LIMIT:
                return {"ok": False, "error": "msg_too_long"}
            message.text, message.blocks, message.edits = text, blocks, message.edits + 1
            message.streaming = False  # an edited message is an ordinary message
            return {"ok": True, "channel": channel, "ts": message.ts}
        if not message.streaming:
            return {"ok": False, "error": "message_not_in_streaming_state"}
        if message.size() + len(text) + blocks_text_size(blocks) > MESSAGE_TEXT_LIMIT:
            return {"ok": False, "error": "msg_too_long"}
        message.text += text
        if method == "chat.stopStream":
            message.blocks = blocks
            message.streaming = False
        return {"ok": True, "channel": channel, "ts": message.ts}


_MESSAGE_METHODS = frozenset(
    {"chat.postMessage", "chat.startStream", "chat.appendStream", "chat.stopStream", "chat.update"}
)


def blocks_text_size(value: object) -> int:
    """Characters of text in blocks at any depth (what Slack's message limit counts)."""
    if isinstance(value, dict):
        return sum(
            len(v) if k == "text" and isinstance(v, str) else blocks_text_size(v)
            for k, v in value.items()
        )
    if isinstance(value, list):
        return sum(blocks_text_size(v) for v in value)
    return 0


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


async def _serve_alone() -> None:
    async with MockSlackApi() as api:
        print(api.url, flush=True)
        await asyncio.Event().wait()


if __name__ == "__main__":
    # `python -m tests.support.slack_api`: the mock in a process of its own, so a benchmark's
    # load generator does not share an event loop with it. Prints its base URL.
    asyncio.run(_serve_alone())
