"""`python -m gateway.composition`: prints the supergraph, or lists the errors and exits non-zero."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import respx
from composition_support import REPO, SCENARIOS
from strawberry_subgraphs import members_schema, points_schema, service_sdl

from gateway.composition.__main__ import main

ENUMS = SCENARIOS / "enums"


def test_prints_the_supergraph_for_files(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "--subgraph",
            f"a={ENUMS / 'a.graphql'}",
            "--subgraph",
            f"b={ENUMS / 'b.graphql'}",
            "--routing-url",
            "a=http://a:4001/graphql",
            "--routing-url",
            "b=http://b:4002/graphql",
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0
    assert out.startswith('schema\n  @link(url: "https://specs.apollo.dev/link/v1.0")')
    assert 'B @join__graph(name: "b", url: "http://b:4002/graphql")' in out
    assert "hint[" not in out


def test_hints_can_be_silenced(capsys: pytest.CaptureFixture[str]) -> None:
    args = [
        "-s",
        f"a={ENUMS / 'a.graphql'}",
        "-s",
        f"b={ENUMS / 'b.graphql'}",
        "--routing-url",
        "a=http://a",
        "--routing-url",
        "b=http://b",
    ]
    assert main([*args, "--no-hints"]) == 0
    assert capsys.readouterr().err == ""
    assert main(args) == 0
    assert "hint[UNUSED_ENUM_TYPE]" in capsys.readouterr().err


def test_writes_to_a_file_and_shows_hints(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "supergraph.graphql"
    code = main(
        [
            "-s",
            f"a={ENUMS / 'a.graphql'}",
            "-s",
            f"b={ENUMS / 'b.graphql'}",
            "--routing-url",
            "a=http://a",
            "--routing-url",
            "b=http://b",
            "-o",
            str(target),
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0 and out == ""
    assert "enum join__Graph" in target.read_text()
    assert "hint[INCONSISTENT_ENUM_VALUE_FOR_INPUT_ENUM]" in err


@respx.mock
def test_fetches_urls(capsys: pytest.CaptureFixture[str]) -> None:
    for host, schema in (("members.test", members_schema), ("points.test", points_schema)):
        respx.post(f"http://{host}/graphql").mock(
            return_value=httpx.Response(200, json={"data": {"_service": {"sdl": service_sdl(schema)}}})
        )
    code = main(["-s", "members=http://members.test/graphql", "-s", "points=http://points.test/graphql"])
    out, _ = capsys.readouterr()
    assert code == 0
    assert 'MEMBERS @join__graph(name: "members", url: "http://members.test/graphql")' in out


@respx.mock
def test_fetches_urls_as_a_service_when_asked(capsys: pytest.CaptureFixture[str]) -> None:
    """Subgraphs with introspection off (production) give `_service { sdl }` only to services."""
    from shared.auth.tokens import principal_from_authorization_header

    callers = []

    def answer(request: httpx.Request) -> httpx.Response:
        callers.append(principal_from_authorization_header(request.headers.get("authorization")))
        return httpx.Response(200, json={"data": {"_service": {"sdl": service_sdl(members_schema)}}})

    respx.post("http://members.test/graphql").mock(side_effect=answer)
    assert main(["-s", "members=http://members.test/graphql", "--service-token", "gateway"]) == 0
    assert [(c.kind.value, c.subject) for c in callers] == [("service", "gateway")]
    assert main(["-s", "members=http://members.test/graphql"]) == 0
    assert callers[-1].is_anonymous
    capsys.readouterr()


def test_lists_errors_and_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    link = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])\n'
    (tmp_path / "a.graphql").write_text(
        link + 'type Query { m: Member }\ntype Member @key(fields: "id") { id: ID! name: String }'
    )
    (tmp_path / "b.graphql").write_text(link + 'type Member @key(fields: "id") { id: ID! name: String }')
    code = main(
        [
            "-s",
            f"a={tmp_path / 'a.graphql'}",
            "-s",
            f"b={tmp_path / 'b.graphql'}",
            "--routing-url",
            "a=http://a",
            "--routing-url",
            "b=http://b",
        ]
    )
    out, err = capsys.readouterr()
    assert code == 1 and out == ""
    assert 'error[INVALID_FIELD_SHARING]: Non-shareable field "Member.name"' in err
    assert "(subgraphs: a, b; at: Member.name)" in err
    assert "composition failed with 1 error(s)" in err


def test_file_needs_a_routing_url(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["-s", f"a={ENUMS / 'a.graphql'}"])
    assert info.value.code == 2
    assert "--routing-url a=http://" in capsys.readouterr().err


def test_unreadable_subgraph_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-s", "a=missing.graphql", "--routing-url", "a=http://a"]) == 2
    assert 'error: subgraph "a": cannot read missing.graphql' in capsys.readouterr().err


def test_runs_as_a_module() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "gateway.composition", "-s", f"a={ENUMS / 'a.graphql'}", "--routing-url", "a=http://a"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    assert completed.returncode == 0, completed.stderr
    assert "type Query" in completed.stdout
    assert json.dumps("a") in completed.stdout  # join__graph(name: "a", ...)
