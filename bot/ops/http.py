"""/healthz, /readyz and /metrics as aiohttp routes, and a small side server for Socket Mode.

In HTTP mode the routes join the Slack events app on one port; in Socket Mode there is no web
server, so the same routes run on ADVISOR_HEALTH_PORT for probes and scrapes.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import socket
from collections.abc import AsyncIterator

from aiohttp import web

from bot.errors import ConfigError
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
    await start_site(runner, host, port, "ADVISOR_HEALTH_PORT")
    log.info("Health and metrics on http://%s:%d%s", host, port, READY_PATH)
    try:
        yield port
    finally:
        await runner.cleanup()


async def start_site(runner: web.AppRunner, host: str, port: int, port_variable: str) -> None:
    """Listen on host:port. An address that cannot be used is a setting problem (exit code 2,
    a message naming the settings), not an unexpected OSError with an error id."""
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError as exc:
        await runner.cleanup()
        raise ConfigError(listen_problem(exc, host, port, port_variable)) from None


def listen_problem(exc: OSError, host: str, port: int, port_variable: str) -> str:
    if isinstance(exc, socket.gaierror):
        why = "the host name does not resolve"
    elif exc.errno == errno.EADDRINUSE:
        why = "the port is already in use (by another advisor serve or another program)"
    elif exc.errno == errno.EADDRNOTAVAIL:
        why = "the address does not belong to this machine"
    elif exc.errno == errno.EACCES:
        why = "permission denied (ports below 1024 need privileges)"
    else:
        why = exc.strerror or type(exc).__name__
    return (
        f"Cannot listen on {host}:{port}: {why}. Set {port_variable} to a free port, or "
        "ADVISOR_HOST to an address of this machine."
    )
