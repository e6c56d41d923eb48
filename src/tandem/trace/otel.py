"""Optional OpenTelemetry export: each stored trace is replayed as OTLP spans to a collector.

Enabled by the `otlp_endpoint` setting (e.g. `http://collector:4318/v1/traces`); headers such as an
API key come from the standard `OTEL_EXPORTER_OTLP_HEADERS` variable. Spans are sent in the
background by the SDK's batch processor, so a slow or absent collector never delays an answer.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from tandem.errors import ConfigError

if TYPE_CHECKING:
    from tandem.trace.record import TraceRecord

ROOT_SPAN = "tandem.ask"


def _attribute(value: object) -> str | bool | int | float:
    """OTel attributes are primitives: anything else is sent as JSON text."""
    if isinstance(value, str | bool | int | float):
        return value
    return json.dumps(value, default=str)


class OtlpExporter:
    """Send traces (the dicts from `record.build_trace`) to an OTLP/HTTP endpoint."""

    def __init__(self, endpoint: str, service_name: str = "tandem") -> None:
        try:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
            from opentelemetry.sdk.resources import Resource
            from opentelemetry.sdk.trace import TracerProvider
            from opentelemetry.sdk.trace.export import BatchSpanProcessor
        except ImportError:
            raise ConfigError(
                "otlp_endpoint is set but the OpenTelemetry SDK is missing; "
                "run `pip install opentelemetry-sdk opentelemetry-exporter-otlp-proto-http`"
            ) from None
        self.provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
        self.provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint, timeout=5)))
        self.tracer = self.provider.get_tracer("tandem")

    def export(self, trace: TraceRecord) -> None:
        """Replay `trace` as a root span with its stages as children, at their real times."""
        from opentelemetry.trace import set_span_in_context

        origin_ns = int((trace["created"] - trace["total_ms"] / 1000) * 1e9)
        versions = trace.get("versions") or {}
        root = self.tracer.start_span(
            ROOT_SPAN,
            start_time=origin_ns,
            attributes={
                "tandem.trace_id": trace.get("id", ""),
                "tandem.mode": trace["mode"],
                "tandem.abstained": trace["abstained"],
                "tandem.route": route["action"] if (route := trace.get("route")) else "answer",
                "tandem.citations": len(trace["citations"]),
                **{f"tandem.version.{k}": _attribute(v) for k, v in versions.items()},
            },
        )
        started: dict[str, object] = {}
        spans = sorted(trace["spans"], key=lambda s: (s["parent"] is not None, s["start_ms"]))
        for span in spans:
            parent = started.get(span["parent"], root) if span["parent"] else root
            child = self.tracer.start_span(
                span["name"],
                context=set_span_in_context(parent),  # type: ignore[arg-type]
                start_time=origin_ns + int(span["start_ms"] * 1e6),
                attributes={
                    f"tandem.{k}": _attribute(v) for k, v in span["attributes"].items() if v is not None
                },
            )
            child.end(end_time=origin_ns + int(span["end_ms"] * 1e6))
            started.setdefault(span["name"], child)
        root.end(end_time=origin_ns + int(trace["total_ms"] * 1e6))

    def flush(self, timeout_ms: int = 5000) -> bool:
        return self.provider.force_flush(timeout_ms)

    def shutdown(self) -> None:
        self.provider.shutdown()
