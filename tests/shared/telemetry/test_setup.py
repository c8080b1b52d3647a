"""Turning tracing on: only with an OTLP endpoint configured, and without it the SDK never loads."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from shared.settings import PROJECT_ROOT
from shared.telemetry import otlp_configured


@pytest.mark.parametrize(
    ("environ", "on"),
    [
        ({}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": ""}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, True),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, True),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318", "OTEL_SDK_DISABLED": "true"}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318", "OTEL_TRACES_EXPORTER": "none"}, False),
        ({"OTEL_SERVICE_NAME": "gateway"}, False),  # a name alone exports nothing
    ],
)
def test_tracing_is_on_only_with_an_otlp_endpoint(environ: dict[str, str], on: bool) -> None:
    assert otlp_configured(environ) is on


def _run(script: str, **environ: str) -> dict:
    """Runs `script` in a fresh interpreter (this one may have loaded the SDK) and returns its JSON."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")} | environ
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)], cwd=PROJECT_ROOT, env=env,
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_untraced_a_gateway_request_never_loads_the_sdk() -> None:
    found = _run("""
        import asyncio, json, sys
        import httpx
        import shared.federation.app, shared.http
        from gateway.execution.pipeline import Gateway
        from gateway.http.app import create_app
        from gateway.http.settings import ServerSettings
        from gateway.supergraph import load_supergraph_file

        async def main():
            supergraph = load_supergraph_file("tests/gateway/fixtures/shop/supergraph.graphql")
            app = create_app(Gateway(supergraph), ServerSettings(verify_tokens=False))
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
                response = await client.post(
                    "/graphql", json={"query": "{ me { name } }"},
                    headers={"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"},
                )
            return response.json()

        body = asyncio.run(main())
        loaded = sorted(name for name in sys.modules if name.startswith("opentelemetry.sdk"))
        print(json.dumps({"code": body["errors"][0]["extensions"]["code"], "sdk": loaded}))
    """)
    assert found["code"] == "SUBGRAPH_UNREACHABLE"  # the request did go through the whole pipeline
    assert found["sdk"] == []


def test_an_otlp_endpoint_turns_tracing_on_with_the_configured_service_name() -> None:
    found = _run(
        """
        import json
        from opentelemetry import trace
        from shared.telemetry import TRACING, configure_tracing

        on = configure_tracing("points")
        print(json.dumps({
            "on": on and TRACING.on,
            "service": TRACING.provider.resource.attributes["service.name"],
            "global": trace.get_tracer_provider() is TRACING.provider,
        }))
        """,
        OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:9", OTEL_SERVICE_NAME="points-eu",
    )
    assert found == {"on": True, "service": "points-eu", "global": True}  # export itself: the end-to-end test
