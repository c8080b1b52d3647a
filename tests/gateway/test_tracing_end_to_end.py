"""One trace across processes: a client's query through a gateway process to a members process,
both exporting over OTLP/HTTP to a collector this test stands in for."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from live_services import Processes, free_port, start_processes
from shared.auth.tokens import mint_token
from shared.settings import PROJECT_ROOT, settings_of_environment
from tests.shared.telemetry.kit import TraceParent


@dataclass(frozen=True)
class ExportedSpan:
    service: str
    name: str
    trace_id: int
    span_id: int
    parent_id: int | None


class Collector:
    """An OTLP/HTTP trace receiver on loopback that keeps every span it is sent."""

    def __init__(self) -> None:
        self.spans: list[ExportedSpan] = []
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the standard library's name
                body = self.rfile.read(int(self.headers["content-length"]))
                if self.headers.get("content-encoding") == "gzip":
                    body = gzip.decompress(body)
                collector.receive(self.path, body)
                answer = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("content-type", "application/x-protobuf")
                self.send_header("content-length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def receive(self, path: str, body: bytes) -> None:
        assert path == "/v1/traces", path
        request = ExportTraceServiceRequest.FromString(body)
        for resource_spans in request.resource_spans:
            attributes = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    self.spans.append(ExportedSpan(
                        attributes["service.name"], span.name, int.from_bytes(span.trace_id, "big"),
                        int.from_bytes(span.span_id, "big"),
                        int.from_bytes(span.parent_span_id, "big") if span.parent_span_id else None,
                    ))


@pytest.fixture
def collector() -> Iterator[Collector]:
    found = Collector()
    found.thread.start()
    yield found
    found.server.shutdown()
    found.server.server_close()


def _gateway(supergraph: Path, port: int, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as handle:
        process = subprocess.Popen(
            [sys.executable, "-m", "gateway", "serve", "--supergraph", str(supergraph), "--port", str(port)],
            cwd=PROJECT_ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 60
    while True:
        assert process.poll() is None, log.read_text()
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.2)


@pytest.mark.timeout(240)
def test_a_gateway_span_and_a_subgraph_span_share_the_clients_trace(
    database_url: str, tmp_path: Path, collector: Collector
) -> None:
    otel = {"OTEL_EXPORTER_OTLP_ENDPOINT": collector.endpoint, "OTEL_BSP_SCHEDULE_DELAY": "100"}
    members: Processes = start_processes(["members"], database_url=database_url, log_dir=tmp_path, env=otel)
    gateway = None
    try:
        supergraph = tmp_path / "supergraph.graphql"
        subprocess.run(
            [sys.executable, "-m", "gateway", "supergraph", "-s", f"members={members.urls['members']}", "-o", str(supergraph)],
            cwd=PROJECT_ROOT, check=True, capture_output=True, timeout=120,
        )
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "OTEL_"))}
        gateway = _gateway(supergraph, port, env | {"ABG_ENV": "test"} | otel, tmp_path / "gateway.log")
        token = mint_token("staff", "ops-tracing", roles=["operator"], settings=settings_of_environment({}))
        client = TraceParent.new()
        answer = httpx.post(
            f"http://127.0.0.1:{port}/graphql",
            json={"query": "query FirstMembers { members(first: 1) { edges { node { id } } } }"},
            headers={"authorization": f"Bearer {token}", "traceparent": client.header()},
            timeout=30,
        ).json()
        assert "errors" not in answer, answer
    finally:
        # A process exports what it still holds as it stops: stopped, every span has arrived.
        if gateway is not None:
            gateway.terminate()
            gateway.wait(timeout=30)
        members.close()
    in_trace = [span for span in collector.spans if span.trace_id == client.trace_id]
    fetch = next(span for span in in_trace if span.service == "gateway" and span.name == "subgraph members")
    served = next(span for span in in_trace if span.service == "members" and span.name == "POST /graphql")
    assert served.parent_id == fetch.span_id
    gateway_server = next(span for span in in_trace if span.service == "gateway" and span.name == "POST /graphql")
    assert gateway_server.parent_id == client.span_id

