"""Command line: compose subgraphs and print the supergraph SDL.

    python -m gateway.composition --subgraph members=http://localhost:8001/graphql \\
        --subgraph points=schemas/points.graphql --routing-url points=http://localhost:8002/graphql

A source that starts with http:// or https:// is fetched with `{ _service { sdl } }` and is also the routing URL;
any other source is a file and needs --routing-url. Hints (things that compose but look unintended, such as an
@override naming an unknown subgraph) go to stderr. Exit status: 0 composed, 1 composition errors, 2 bad usage or a
subgraph that could not be read.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

from .compose import CompositionResult, SubgraphSource, compose
from .errors import CompositionError
from .sources import SubgraphFetchError, fetch_sources, read_sources


def _pairs(values: Sequence[str], flag: str, parser: argparse.ArgumentParser) -> dict[str, str]:
    out: dict[str, str] = {}
    for value in values:
        name, sep, rest = value.partition("=")
        if not sep or not name or not rest:
            parser.error(f"{flag} expects NAME=VALUE, got {value!r}")
        if name in out:
            parser.error(f"{flag} {name} is given twice")
        out[name] = rest
    return out


def _is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


def format_error(e: CompositionError) -> str:
    where = []
    if e.subgraphs:
        where.append("subgraphs: " + ", ".join(e.subgraphs))
    if e.coordinates:
        where.append("at: " + ", ".join(e.coordinates))
    suffix = f"\n  ({'; '.join(where)})" if where else ""
    return f"error[{e.code}]: {e.message}{suffix}"


def build_parser(prog: str = "python -m gateway.composition") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description="Compose federation subgraphs into a supergraph SDL.")
    parser.add_argument(
        "--subgraph", "-s", action="append", default=[], metavar="NAME=URL_OR_FILE", help="a subgraph (repeat)"
    )
    parser.add_argument(
        "--routing-url",
        action="append",
        default=[],
        metavar="NAME=URL",
        help="URL the gateway calls for a subgraph read from a file",
    )
    parser.add_argument(
        "--header", action="append", default=[], metavar="NAME=VALUE", help="HTTP header sent when fetching SDLs"
    )
    parser.add_argument(
        "--service-token",
        metavar="NAME",
        help="fetch SDLs with a service token for NAME, signed with the ABG_JWT_* settings "
        "(subgraphs with introspection off give `_service { sdl }` only to services)",
    )
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for each subgraph (default 10)")
    parser.add_argument("--output", "-o", type=Path, help="write the supergraph here instead of stdout")
    parser.add_argument("--no-hints", action="store_true", help="do not print composition hints (warnings) to stderr")
    return parser


def load_sources(args: argparse.Namespace, parser: argparse.ArgumentParser) -> list[SubgraphSource]:
    subgraphs = _pairs(args.subgraph, "--subgraph", parser)
    if not subgraphs:
        parser.error("give at least one --subgraph NAME=URL_OR_FILE")
    routing = _pairs(args.routing_url, "--routing-url", parser)
    headers = _pairs(args.header, "--header", parser)
    if args.service_token:
        from shared.auth.tokens import service_token

        headers["authorization"] = f"Bearer {service_token(args.service_token)}"
    urls = {name: src for name, src in subgraphs.items() if _is_url(src)}
    files = {}
    for name, src in subgraphs.items():
        if _is_url(src):
            continue
        if name not in routing:
            parser.error(f"subgraph {name} is read from a file: give its --routing-url {name}=http://...")
        files[name] = (src, routing[name])
    fetched = asyncio.run(fetch_sources(urls, headers=headers, timeout=args.timeout)) if urls else []
    by_name = {s.name: s for s in fetched + read_sources(files)}
    sources = []
    for name in subgraphs:
        source = by_name[name]
        if name in routing and name in urls:
            source = SubgraphSource(name, routing[name], source.sdl)
        sources.append(source)
    return sources


def main(argv: Sequence[str] | None = None, prog: str = "python -m gateway.composition") -> int:
    parser = build_parser(prog)
    args = parser.parse_args(argv)
    try:
        sources = load_sources(args, parser)
    except SubgraphFetchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    result: CompositionResult = compose(sources)
    if not args.no_hints:
        for h in result.hints:
            print(f"hint[{h.code}]: {h.message}", file=sys.stderr)
    if not result.ok:
        for e in result.errors:
            print(format_error(e), file=sys.stderr)
        print(f"composition failed with {len(result.errors)} error(s)", file=sys.stderr)
        return 1
    assert result.supergraph_sdl is not None
    if args.output:
        args.output.write_text(result.supergraph_sdl, encoding="utf-8")
    else:
        sys.stdout.write(result.supergraph_sdl)
    return 0


if __name__ == "__main__":
    sys.exit(main())
