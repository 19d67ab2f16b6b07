"""/healthz, /readyz and /metrics as aiohttp routes, and a small side server for Socket Mode.

In HTTP mode the routes join the Slack events app on one port; in Socket Mode there is no web
server, so the same routes run on ADVISOR_HEALTH_PORT for probes and scrapes.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from bot.ops.health import HealthChecks
from bot.ops.metrics import Metrics

log = logging.getLogger(__name__)

HEALTH_PATH = "/healthz"
READY_PATH = "/readyz"
METRICS_PATH = "/metrics"


def add_ops_routes(
    web_app: web.Application, health: HealthChecks | None, metrics: Metrics | None
) -> None:
    async def alive(_: web.Request) -> web.Response:
        # Liveness is only "the process serves HTTP": a Redis outage must not restart pods.
        return web.Response(text="ok")

    async def ready(_: web.Request) -> web.Response:
        assert health is not None
        readiness = await health.readiness()
        if not readiness.ok:
            failed = [check.name for check in readiness.checks if not check.ok]
            log.warning("not ready: %s", ", ".join(failed))
        return web.json_response(readiness.body(), status=200 if readiness.ok else 503)

    async def scrape(_: web.Request) -> web.Response:
        assert metrics is not None
        body, content_type = metrics.render()
        # aiohttp wants the charset apart from the media type.
        media_type, _sep, params = content_type.partition(";")
        charset = params.split("charset=")[-1].strip() if "charset=" in params else None
        response = web.Response(body=body, charset=charset)
        response.content_type = media_type.strip()
        return response

    web_app.router.add_get(HEALTH_PATH, alive)
    if health is not None:
        web_app.router.add_get(READY_PATH, ready)
    if metrics is not None:
        web_app.router.add_get(METRICS_PATH, scrape)


def build_ops_app(health: HealthChecks | None, metrics: Metrics | None) -> web.Application:
    web_app = web.Application()
    add_ops_routes(web_app, health, metrics)
    return web_app


@contextlib.asynccontextmanager
async def ops_server(
    host: str, port: int, health: HealthChecks | None, metrics: Metrics | None
) -> AsyncIterator[int | None]:
    """Serve the ops routes on host:port for the block; yields the bound port (None: disabled)."""
    if port == 0:
        yield None
        return
    runner = web.AppRunner(build_ops_app(health, metrics), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    log.info("Health and metrics on http://%s:%d%s", host, port, READY_PATH)
    try:
        yield port
    finally:
        await runner.cleanup()
