"""`GET /metrics` in Prometheus' text format, and the HTTP request counter behind it.

Outbox and check-in numbers are read from the database at each scrape, so every process (web or worker)
reports the same totals; HTTP requests are counted in this process. Labels carry kinds, channels, routes
and statuses: never a name, a number or a text.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import APIRouter, FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from storage.stats import OutboxCounts, outbox_counts

router = APIRouter()

_OUTBOX_HELP = "Outbox rows by status (pending, sent, delivered, failed, uncertain, ...), channel and kind"


class _Snapshot:
    """Holds the counts read for this scrape; the registry collects them synchronously."""

    def __init__(self) -> None:
        self.counts: OutboxCounts | None = None
        self.lag_s: float = 0.0

    def collect(self):  # noqa: ANN201 - prometheus_client's collector protocol
        if self.counts is None:
            return
        messages = GaugeMetricFamily("ocrebot_messages", _OUTBOX_HELP, labels=["status", "channel", "kind"])
        for (status, channel, kind), count in sorted(self.counts.messages.items()):
            messages.add_metric([status, channel, kind], count)
        yield messages
        inbound = CounterMetricFamily(
            "ocrebot_inbound_messages", "Inbound messages stored, by channel", labels=["channel"]
        )
        for channel, count in sorted(self.counts.inbound.items()):
            inbound.add_metric([channel], count)
        yield inbound
        yield GaugeMetricFamily(
            "ocrebot_dispatcher_lag_seconds",
            "Now minus the due time of the oldest pending row already due (0 when none)",
            value=self.lag_s,
        )
        yield GaugeMetricFamily(
            "ocrebot_check_ins_awaiting_acknowledgement",
            "Flagged check-ins no operator has acknowledged yet",
            value=self.counts.flagged_waiting,
        )


class Metrics:
    """One app's registry: the database snapshot and the HTTP counter."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.snapshot = _Snapshot()
        self.registry.register(self.snapshot)  # type: ignore[arg-type]
        self.requests = Counter(
            "ocrebot_http_requests",
            "HTTP requests by route template, method and status",
            ["route", "method", "status"],
            registry=self.registry,
        )


def install(app: FastAPI) -> Metrics:
    """Adds the request counter middleware and `GET /metrics` to `app`."""
    metrics = Metrics()
    app.state.metrics = metrics

    @app.middleware("http")
    async def count_requests(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        metrics.requests.labels(_route_of(request), request.method, str(response.status_code)).inc()
        return response

    app.include_router(router)
    return metrics


@router.get("/metrics", include_in_schema=False)
async def scrape(request: Request) -> Response:
    """The current numbers, in Prometheus' text format."""
    services = request.app.state.services
    metrics: Metrics = request.app.state.metrics
    now = services.clock.now()
    async with services.sessions() as session:
        counts = await outbox_counts(session, now)
    metrics.snapshot.counts = counts
    metrics.snapshot.lag_s = (
        max((now - counts.oldest_due_at).total_seconds(), 0.0) if counts.oldest_due_at else 0.0
    )
    return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)


def _route_of(request: Request) -> str:
    """The matched route's template ("/api/patients/{id}"), never the raw path (which may hold ids)."""
    route = request.scope.get("route")
    return str(getattr(route, "path", "unmatched"))
