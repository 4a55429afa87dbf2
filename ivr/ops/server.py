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

from aiohttp import web

from ivr.ops.metrics import NodeMetrics
from ivr.ops.readiness import Readiness

__all__ = ["OpsServer", "ops_app", "start_ops"]

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
class OpsServer:
    runner: web.AppRunner
    host: str
    port: int

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def close(self) -> None:
        await self.runner.cleanup()


async def start_ops(
    metrics: NodeMetrics, readiness: Readiness, *, host: str, port: int
) -> OpsServer:
    """Serve the endpoints on ``host:port`` (port 0: a free one, told by ``OpsServer.port``)."""
    runner = web.AppRunner(
        ops_app(metrics, readiness), shutdown_timeout=SHUTDOWN_TIMEOUT_S, access_log=None
    )
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port, reuse_address=True)
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    return OpsServer(runner, host, int(runner.addresses[0][1]))
