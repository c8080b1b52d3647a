"""Command line: compose a supergraph, run the gateway from it, or print a query's plan.

    python -m gateway supergraph -s members=http://127.0.0.1:4001/graphql -s points=... [-o FILE]
    python -m gateway serve --supergraph supergraph.graphql --port 4000 [--workers 4]
    python -m gateway plan --supergraph supergraph.graphql '{ me { id } }'
    python -m gateway api-schema --supergraph supergraph.graphql
    python -m gateway trusted-documents operations/*.graphql -o trusted-documents.json

Server settings also come from `ABG_GATEWAY_*` environment variables (see gateway/README.md);
command-line options win.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from graphql import print_schema


def _supergraph(path: str):  # noqa: ANN202 - imported lazily to keep `--help` fast
    from .supergraph import SupergraphError, load_supergraph_file

    try:
        return load_supergraph_file(path)
    except (OSError, SupergraphError) as error:
        sys.exit(f"cannot load supergraph {path}: {error}")


def _serve(args: argparse.Namespace) -> int:
    from .http.settings import ServerSettings, parse_timeouts

    settings = ServerSettings.from_env()
    if args.host:
        settings.host = args.host
    if args.port:
        settings.port = args.port
    if args.workers:
        settings.workers = args.workers
    if args.watch:
        settings.watch_supergraph = True
    if args.no_introspection:
        settings.introspection = False
    if args.no_verify_tokens:
        settings.verify_tokens = False
    if args.no_metrics:
        settings.metrics = False
    if args.trusted_documents:
        settings.trusted_documents = args.trusted_documents
    if args.trusted_documents_mode:
        settings.trusted_documents_mode = args.trusted_documents_mode
    for timeout in args.subgraph_timeout or ():
        if "=" in timeout:
            settings.subgraph_timeouts.update(parse_timeouts([timeout]))
        else:
            settings.subgraph_timeout_seconds = float(timeout)
    if args.override_label:
        settings.override_labels = tuple(args.override_label)
    if args.cors_origin:
        settings.cors_origins = tuple(args.cors_origin)

    worker_id = " [%(process)d]" if settings.workers > 1 else ""
    logging.basicConfig(
        level=args.log_level.upper(), format=f"%(asctime)s %(levelname)s{worker_id} %(name)s %(message)s"
    )
    supergraph = _supergraph(args.supergraph)
    log = logging.getLogger("gateway")
    log.info("gateway for %d subgraphs (supergraph %s)", len(supergraph.subgraphs), args.supergraph)
    if settings.workers > 1:
        from .serving.supervisor import Supervisor, prepare_metrics_directory

        metrics_dir = prepare_metrics_directory() if settings.metrics else None
        try:
            return Supervisor(settings, supergraph, args.supergraph, args.log_level, metrics_dir).run()
        except OSError as error:
            sys.exit(f"cannot listen on {settings.host}:{settings.port}: {error}")

    from .serving.worker import ConfigurationError, serve

    log.info("listening on http://%s:%d%s", settings.host, settings.port, settings.graphql_path)
    try:
        serve(settings, supergraph, args.supergraph, args.log_level)
    except ConfigurationError as error:
        sys.exit(str(error))
    return 0


def _plan(args: argparse.Namespace) -> int:
    from .execution.pipeline import Gateway
    from .planning.plan import print_plan
    from .planning.planner import PlanningError

    gateway = Gateway(_supergraph(args.supergraph))
    query = sys.stdin.read() if args.query == "-" else args.query
    variables = json.loads(args.variables) if args.variables else None
    try:
        plan = gateway.plan(query, args.operation_name, variables)
    except PlanningError as error:
        print(f"cannot plan: {error}", file=sys.stderr)
        return 1
    print(print_plan(plan))
    return 0


def _trusted_documents(args: argparse.Namespace) -> int:
    from .http.trusted import TrustedDocumentsError, build_manifest

    try:
        manifest = build_manifest(args.files)
    except (OSError, TrustedDocumentsError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    text = json.dumps(manifest, indent=2, sort_keys=True) + "\n"
    if args.output:
        args.output.write_text(text)
    else:
        sys.stdout.write(text)
    return 0


def _api_schema(args: argparse.Namespace) -> int:
    print(print_schema(_supergraph(args.supergraph).api_schema))
    return 0


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["supergraph"]:
        # composition has its own options (-s NAME=URL_OR_FILE, --routing-url, -o): hand them over whole
        from .composition.__main__ import main as compose_main

        return compose_main(argv[1:], prog="python -m gateway supergraph")
    parser = argparse.ArgumentParser(prog="python -m gateway", description="Alliance Benefits Graph federation gateway")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser(
        "supergraph", help="compose subgraphs (URLs or SDL files) and print the supergraph SDL", add_help=False
    )

    serve = commands.add_parser("serve", help="serve GraphQL over HTTP from a supergraph SDL file")
    serve.add_argument("--supergraph", required=True, help="supergraph SDL file (join spec)")
    serve.add_argument("--host", help="interface to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (default 4000)")
    serve.add_argument(
        "--workers",
        type=_positive_int,
        help="processes serving the port (default: one per core with ABG_ENV=production, else 1; ABG_GATEWAY_WORKERS)",
    )
    serve.add_argument(
        "--watch", action="store_true", help="reload the supergraph file when it changes, as SIGHUP does"
    )
    serve.add_argument("--no-introspection", action="store_true", help="refuse __schema/__type queries")
    serve.add_argument(
        "--subgraph-timeout",
        action="append",
        metavar="[NAME=]SECONDS",
        help="seconds to wait for subgraphs (default 30), or for one subgraph with NAME=SECONDS; repeatable",
    )
    serve.add_argument("--override-label", action="append", help="progressive @override label to enable")
    serve.add_argument(
        "--no-verify-tokens", action="store_true", help="do not verify bearer tokens (ABG_GATEWAY_VERIFY_TOKENS=false)"
    )
    serve.add_argument("--cors-origin", action="append", help="allowed CORS origin ('*' for any)")
    serve.add_argument("--no-metrics", action="store_true", help="do not serve Prometheus metrics at /metrics")
    serve.add_argument("--trusted-documents", metavar="FILE", help="manifest of trusted documents (id -> document)")
    serve.add_argument(
        "--trusted-documents-mode", choices=["enforce", "allow"], help="enforce (default): only trusted documents run"
    )
    serve.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    serve.set_defaults(run=_serve)

    plan = commands.add_parser("plan", help="print the query plan of an operation")
    plan.add_argument("--supergraph", required=True)
    plan.add_argument("--operation-name")
    plan.add_argument("--variables", help="variables as JSON (they decide @skip/@include)")
    plan.add_argument("query", help="the operation, or - to read it from stdin")
    plan.set_defaults(run=_plan)

    api = commands.add_parser("api-schema", help="print the API schema clients see")
    api.add_argument("--supergraph", required=True)
    api.set_defaults(run=_api_schema)

    trusted = commands.add_parser(
        "trusted-documents", help="print a trusted documents manifest (sha256 -> document) for .graphql files"
    )
    trusted.add_argument("files", nargs="+", type=Path, help="one operation document per file")
    trusted.add_argument("--output", "-o", type=Path, help="write the manifest here instead of stdout")
    trusted.set_defaults(run=_trusted_documents)

    args = parser.parse_args(argv)
    return int(args.run(args))
