"""OpenTelemetry export: a real answer's trace arrives at an OTLP/HTTP endpoint as nested spans."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

pytestmark = pytest.mark.slow  # a generated answer (the decoder)


class _Collector(BaseHTTPRequestHandler):
    received: ClassVar[list[ExportTraceServiceRequest]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        self.received.append(request)
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.end_headers()
        self.wfile.write(b"")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def collector():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Collector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Collector.received = []
    yield f"http://127.0.0.1:{server.server_address[1]}/v1/traces", _Collector.received
    server.shutdown()


def test_answer_trace_is_exported_as_otlp_spans(collector, kb_tandem) -> None:
    endpoint, received = collector
    bot = kb_tandem(otlp_endpoint=endpoint, prefer_quotes=False)  # a generated answer has every span
    answer = bot.ask("What does error E04 mean on the display?")
    assert bot.otlp is not None and bot.otlp.flush()
    spans = [s for r in received for rs in r.resource_spans for ss in rs.scope_spans for s in ss.spans]
    by_name = {s.name: s for s in spans}
    assert {"tandem.ask", "retrieve", "dense", "generate", "prefill", "decode"} <= set(by_name)
    root = by_name["tandem.ask"]
    assert len({s.trace_id for s in spans}) == 1
    assert by_name["retrieve"].parent_span_id == root.span_id
    assert by_name["dense"].parent_span_id == by_name["retrieve"].span_id
    assert by_name["prefill"].parent_span_id == by_name["generate"].span_id
    for span in spans:
        assert root.start_time_unix_nano <= span.start_time_unix_nano <= span.end_time_unix_nano
    attributes = {a.key: a.value for a in root.attributes}
    assert attributes["tandem.trace_id"].string_value == answer.trace_id
    assert attributes["tandem.citations"].int_value == len(answer.citations)
    resource = {a.key: a.value.string_value for a in received[0].resource_spans[0].resource.attributes}
    assert resource["service.name"] == "tandem"
