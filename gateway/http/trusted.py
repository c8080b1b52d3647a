"""Trusted documents: clients send an id, the gateway runs the document the manifest has for it.

In production (`enforce`) only operations in the manifest run, so nobody can send the gateway
an operation the frontend teams did not ship; in `allow` mode ids are resolved and any other
document still runs (development). The manifest is built with the client at release time:

* a JSON object `{"<sha256 hex>": "<document>", ...}` (GraphQL Codegen's persisted documents,
  Relay's persisted queries), or
* Apollo's persisted query manifest
  `{"format": "apollo-persisted-query-manifest", "version": 1, "operations": [{"id", "body", ...}]}`.

Keys that look like sha256 hashes must be the hash of their document: a manifest that does not
match its documents is a deployment error and is refused at start-up. Requests name a document
by `documentId` (GraphQL over HTTP) or `extensions.persistedQuery.sha256Hash` (Apollo's form);
the gateway never learns documents from clients (no automatic registration).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from ..execution.pipeline import GraphQLRequest

_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")
MODES = ("allow", "enforce")


class TrustedDocumentsError(ValueError):
    """The manifest cannot be used."""


def sha256_of(document: str) -> str:
    return hashlib.sha256(document.encode()).hexdigest()


class TrustedDocuments:
    def __init__(self, documents: dict[str, str]) -> None:
        self.by_id = documents
        # the hashes of every known text, so a full known document is recognised in enforce mode
        self.known_hashes = frozenset(sha256_of(text) for text in documents.values())

    def __len__(self) -> int:
        return len(self.by_id)

    def lookup(self, document_id: str) -> str | None:
        found = self.by_id.get(document_id)
        if found is None and _SHA256.match(document_id):
            found = self.by_id.get(document_id.lower())
        return found

    def knows_text(self, document: str) -> bool:
        return sha256_of(document) in self.known_hashes

    @classmethod
    def from_file(cls, path: str | Path) -> TrustedDocuments:
        try:
            raw = Path(path).read_bytes()
        except OSError as error:
            raise TrustedDocumentsError(f"cannot read the trusted documents manifest {path}: {error}") from error
        try:
            manifest = orjson.loads(raw)
        except orjson.JSONDecodeError as error:
            raise TrustedDocumentsError(f"the trusted documents manifest {path} is not JSON: {error}") from error
        return cls.from_manifest(manifest, str(path))

    @classmethod
    def from_manifest(cls, manifest: Any, source: str = "manifest") -> TrustedDocuments:
        if isinstance(manifest, dict) and manifest.get("format") == "apollo-persisted-query-manifest":
            if manifest.get("version") != 1:
                raise TrustedDocumentsError(f"{source}: only version 1 of Apollo's manifest format is known")
            operations = manifest.get("operations")
            if not isinstance(operations, list):
                raise TrustedDocumentsError(f'{source}: "operations" must be a list')
            pairs: list[tuple[Any, Any]] = []
            for index, operation in enumerate(operations):
                if not isinstance(operation, dict):
                    raise TrustedDocumentsError(f"{source}: operations[{index}] is not an object")
                pairs.append((operation.get("id"), operation.get("body")))
            return cls(_checked(pairs, source))
        if isinstance(manifest, dict):
            return cls(_checked(manifest.items(), source))
        raise TrustedDocumentsError(
            f"{source}: expected an object of id -> document, or Apollo's persisted query manifest"
        )


def _checked(pairs: Iterable[tuple[Any, Any]], source: str) -> dict[str, str]:
    documents: dict[str, str] = {}
    for document_id, text in pairs:
        if not isinstance(document_id, str) or not document_id:
            raise TrustedDocumentsError(f"{source}: an entry has no id (ids must be non-empty strings)")
        if not isinstance(text, str) or not text.strip():
            raise TrustedDocumentsError(f"{source}: the document of {document_id!r} is empty or not a string")
        key = document_id.lower() if _SHA256.match(document_id) else document_id
        if _SHA256.match(document_id) and sha256_of(text) != key:
            raise TrustedDocumentsError(
                f"{source}: {document_id!r} is not the sha256 of its document (it is {sha256_of(text)}); "
                "the manifest and the documents it was built from differ"
            )
        if key in documents and documents[key] != text:
            raise TrustedDocumentsError(f"{source}: {document_id!r} appears twice with different documents")
        documents[key] = text
    if not documents:
        raise TrustedDocumentsError(f"{source}: the manifest has no documents")
    return documents


def build_manifest(paths: Iterable[Path]) -> dict[str, str]:
    """sha256 -> document for .graphql files (one operation document each), for a release."""
    manifest: dict[str, str] = {}
    for path in paths:
        text = path.read_text()
        if not text.strip():
            raise TrustedDocumentsError(f"{path} is empty")
        manifest[sha256_of(text)] = text
    return manifest


def _refuse(message: str, code: str, status: int) -> Response:
    body = {"errors": [{"message": message, "extensions": {"code": code}}]}
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


def _requested_id(request: GraphQLRequest) -> tuple[str | None, Response | None]:
    if request.document_id is not None:
        return request.document_id, None
    persisted = (request.extensions or {}).get("persistedQuery")
    if persisted is None:
        return None, None
    if not isinstance(persisted, dict) or persisted.get("version") != 1:
        return None, _refuse("extensions.persistedQuery must be {version: 1, sha256Hash}.", "BAD_REQUEST", 400)
    digest = persisted.get("sha256Hash")
    if not isinstance(digest, str) or not _SHA256.match(digest):
        return None, _refuse("persistedQuery.sha256Hash must be 64 hex digits.", "BAD_REQUEST", 400)
    return digest.lower(), None


def trusted_documents_hook(store: TrustedDocuments, mode: str):  # noqa: ANN201 - a RequestHook
    """A request hook that resolves document ids and, in enforce mode, refuses unknown documents."""
    if mode not in MODES:
        raise TrustedDocumentsError(f"trusted documents mode must be one of {', '.join(MODES)}, not {mode!r}")
    enforce = mode == "enforce"

    async def check(request: Request, graphql: GraphQLRequest) -> Response | None:
        document_id, problem = _requested_id(graphql)
        if problem is not None:
            return problem
        if document_id is not None:
            text = store.lookup(document_id)
            if text is None:
                # 200 as Apollo's clients expect; they cannot register documents here, though
                return _refuse("PersistedQueryNotFound", "PERSISTED_QUERY_NOT_FOUND", 200)
            if graphql.query and graphql.query != text:
                return _refuse("The query does not match the trusted document of that id.", "BAD_REQUEST", 400)
            graphql.query = text
            return None
        if enforce and graphql.query and not store.knows_text(graphql.query):
            return _refuse(
                "Only trusted documents may be run here: send the id of an operation in the manifest.",
                "PERSISTED_QUERY_NOT_IN_LIST",
                400,
            )
        return None

    return check
