"""The node's operations endpoints, on a small HTTP server of its own
(``HOTLINE_OPS_HOST``:``HOTLINE_OPS_PORT``; an empty host: none):

    /metrics   Prometheus exposition of the node's registry (text, or OpenMetrics on request)
    /healthz   200 while the process answers: a liveness probe
    /readyz    200 when the node can take calls, else 503 (``ivr.ops.readiness``); JSON parts

Its own server rather than the console's: every node has one, also where no console runs, and a
probe or a scrape never goes through the console's sessions. Nothing here is personal (counts,
timings, states), and nothing needs an account; bind it where only the monitoring reaches.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web

from ivr.ops.metrics import NodeMetrics
from ivr.ops.readiness import Readiness

__all__ = ["HttpServer", "OpsServer", "ops_app", "serve", "start_ops"]

SHUTDOWN_TIMEOUT_S = 2.0


def ops_app(metrics: NodeMetrics, readiness: Readiness) -> web.Application:
    async def scrape(request: web.Request) -> web.Response:
        body, content_type = metrics.exposition(request.headers.get("Accept", ""))
        response = web.Response(body=body)
        response.headers["Content-Type"] = content_type  # with its version: not split by aiohttp
        return response

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def readyz(request: web.Request) -> web.Response:
        report = await readiness.check()
        return web.json_response(report.body(), status=report.http_status)

    app = web.Application()
    app.router.add_get("/metrics", scrape)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    return app


@dataclass(frozen=True)
class HttpServer:
    """A running aiohttp application (this node's ops endpoints, or the console)."""

    runner: web.AppRunner
    host: str
    port: int

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def close(self) -> None:
        await self.runner.cleanup()


OpsServer = HttpServer


async def serve(
    app: web.Application, *, host: str, port: int, shutdown_timeout: float, access_log: bool
) -> HttpServer:
    """``app`` on ``host:port`` (port 0: a free one, told by ``HttpServer.port``)."""
    quiet: dict[str, Any] = {} if access_log else {"access_log": None}  # aiohttp's default logger
    runner = web.AppRunner(app, shutdown_timeout=shutdown_timeout, **quiet)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port, reuse_address=True)
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    return HttpServer(runner, host, int(runner.addresses[0][1]))


async def start_ops(
    metrics: NodeMetrics, readiness: Readiness, *, host: str, port: int
) -> OpsServer:
    """Serve the endpoints on ``host:port`` (port 0: a free one, told by ``OpsServer.port``)."""
    app = ops_app(metrics, readiness)
    return await serve(
        app, host=host, port=port, shutdown_timeout=SHUTDOWN_TIMEOUT_S, access_log=False
    )
