"""The weekly gaps digest in Slack: the poster (escaped, mentions made inert, no unfurls) and
the background loop that `advisor serve` runs for as long as it serves."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from slack_sdk.web.async_client import AsyncWebClient

from bot.gaps.digest import Poster, WeeklyDigest
from bot.slack.mrkdwn import escape, neutralise_mentions

log = logging.getLogger(__name__)
INTERVAL_SECONDS = 60.0
STOP_SECONDS = 5.0


def slack_text(text: str) -> str:
    """User-written questions and reasons are in the digest: nothing in them may ping."""
    return escape(neutralise_mentions(text))


def digest_poster(client: AsyncWebClient, channel_id: str) -> Poster:
    async def post(text: str) -> None:
        await client.chat_postMessage(
            channel=channel_id, text=slack_text(text), unfurl_links=False, unfurl_media=False
        )

    return post


@contextlib.asynccontextmanager
async def digest_running(
    digest: WeeklyDigest | None, client: AsyncWebClient, interval: float = INTERVAL_SECONDS
) -> AsyncIterator[None]:
    """Run the digest loop while the block runs; stop it (and wait for it) on the way out."""
    if digest is None:
        yield
        return
    stop = asyncio.Event()
    task = asyncio.create_task(digest.run(digest_poster(client, digest.channel_id), stop, interval))
    try:
        yield
    finally:
        stop.set()
        try:
            await asyncio.wait_for(task, STOP_SECONDS)
        except TimeoutError:
            log.warning("the gaps digest did not stop in %.0f s; cancelled", STOP_SECONDS)
