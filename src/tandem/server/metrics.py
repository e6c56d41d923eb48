"""Prometheus metrics for `GET /metrics`: requests, latency, the generation queue, answers."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from fastapi import Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from tandem.server.admission import AdmissionQueue

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class Metrics:
    """One registry per app, so several apps in one process (tests) never share counters."""

    def __init__(self, queue: AdmissionQueue) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "tandem_http_requests",
            "HTTP requests by route and status.",
            ["route", "method", "status"],
            registry=r,
        )
        self.latency = Histogram(
            "tandem_http_request_seconds", "Time to the response headers.", ["route"],
            buckets=LATENCY_BUCKETS, registry=r,
        )  # fmt: skip
        self.answers = Counter("tandem_answers", "Answers by mode.", ["mode"], registry=r)
        self.cancelled = Counter(
            "tandem_generation_cancelled", "Answers stopped because the client went away.", registry=r
        )
        self.feedback = Counter("tandem_feedback", "Feedback by rating.", ["rating"], registry=r)
        self.stream_errors = Counter(
            "tandem_stream_errors", "Answer streams that ended with an error event.", ["code"], registry=r
        )
        running = Gauge("tandem_generation_running", "Requests holding a generator slot.", registry=r)
        waiting = Gauge("tandem_generation_waiting", "Requests waiting for a generator slot.", registry=r)
        rejected = Gauge("tandem_generation_rejected", "Requests turned away by backpressure.", registry=r)
        running.set_function(lambda: queue.running)
        waiting.set_function(lambda: queue.waiting)
        rejected.set_function(lambda: queue.rejected)

    async def middleware(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        status = "500"  # an exception escaping the app becomes a 500 outside this middleware
        try:
            response = await call_next(request)
            status = str(response.status_code)
            return response
        finally:
            name = getattr(request.scope.get("route"), "path", "unmatched")
            self.requests.labels(name, request.method, status).inc()
            self.latency.labels(name).observe(time.perf_counter() - started)

    def render(self) -> Response:
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)
