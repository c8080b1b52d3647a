"""A GraphQL explorer page served by the gateway itself, so it works on machines without internet.

The page (hand-written HTML, JS and CSS in `explorer_assets/`, no CDN, web font or build step)
sends POST application/json to the GraphQL path and reads the schema through introspection. Files
are served only from a fixed table of names, never from a path taken from the request, so nothing
else on disk can be reached. The page runs under a strict Content-Security-Policy (no inline
script or style, no other origin); the GraphQL path reaches the script as a `data-endpoint`
attribute rather than inline code.
"""

from __future__ import annotations

import hashlib
import html
from dataclasses import dataclass
from functools import cache
from importlib import resources

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

_ASSET_PACKAGE = __name__.rpartition(".")[0]
_ASSET_FOLDER = "explorer_assets"
_PAGE = "explorer.html"
# The only files the asset route serves: name in the URL -> content type.
_ASSET_TYPES = {
    "explorer.js": "text/javascript; charset=utf-8",
    "explorer.css": "text/css; charset=utf-8",
}

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; font-src 'self'; "
    # data: only for the empty favicon, which saves a 404 on every visit
    "img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)

# Asset URLs carry a hash of the content, so a versioned URL can be cached for good; an old or
# missing version still gets the file, but revalidated (the hash changes with every release).
_IMMUTABLE = "public, max-age=31536000, immutable"
_REVALIDATE = "no-cache"


@dataclass(frozen=True, slots=True)
class _Asset:
    body: bytes
    media_type: str
    version: str  # short content hash, the `v` of the URL the page uses

    @property
    def etag(self) -> str:
        return f'"{self.version}"'


def _read(name: str) -> bytes:
    # importlib.resources rather than __file__ so this also works from a zipped install.
    return resources.files(_ASSET_PACKAGE).joinpath(_ASSET_FOLDER, name).read_bytes()


@cache
def _assets() -> dict[str, _Asset]:
    """The servable files, read once (at first use) and kept in memory: they are small."""
    assets = {}
    for name, media_type in _ASSET_TYPES.items():
        body = _read(name)
        assets[name] = _Asset(body, media_type, hashlib.sha256(body).hexdigest()[:16])
    return assets


@cache
def _template() -> str:
    return _read(_PAGE).decode("utf-8")


def _render_page(graphql_path: str, explorer_path: str) -> bytes:
    assets = _assets()

    def url(name: str) -> str:
        return f"{explorer_path}/assets/{name}?v={assets[name].version}"

    page = _template()
    for placeholder, value in (
        ("{{endpoint}}", graphql_path),
        ("{{css}}", url("explorer.css")),
        ("{{js}}", url("explorer.js")),
    ):
        page = page.replace(placeholder, html.escape(value, quote=True))
    return page.encode("utf-8")


def _etag_matches(request: Request, etag: str) -> bool:
    header = request.headers.get("if-none-match")
    if not header:
        return False
    candidates = [part.strip().removeprefix("W/") for part in header.split(",")]
    return "*" in candidates or etag in candidates


def _not_found() -> Response:
    return Response("Not Found", status_code=404, media_type="text/plain")


def explorer_routes(graphql_path: str, explorer_path: str = "/explorer") -> list[Route]:
    """GET `explorer_path` (the page) and GET `explorer_path/assets/{name}` (its JS and CSS)."""
    for what, path in (("graphql_path", graphql_path), ("explorer_path", explorer_path)):
        # A path, not a URL: the page's CSP only lets it talk to its own origin.
        if not path.startswith("/") or path.startswith("//"):
            raise ValueError(f"{what} must be a path starting with '/', got {path!r}")
    explorer_path = explorer_path.rstrip("/") or "/"
    if explorer_path == "/":
        raise ValueError("explorer_path cannot be '/': its assets live under it")
    if explorer_path == graphql_path.rstrip("/"):
        raise ValueError("explorer_path and graphql_path must differ")

    # Rendered now, not per request: a missing asset file then fails at startup, not for a user.
    page = _render_page(graphql_path, explorer_path)
    assets = _assets()
    page_headers = {
        "content-security-policy": CONTENT_SECURITY_POLICY,
        "x-content-type-options": "nosniff",
        "referrer-policy": "no-referrer",
        "x-frame-options": "DENY",
        # The page names the current asset versions, so it must be revalidated after a deploy.
        "cache-control": _REVALIDATE,
    }

    async def explorer_page(request: Request) -> Response:
        return Response(page, media_type="text/html; charset=utf-8", headers=page_headers)

    async def explorer_asset(request: Request) -> Response:
        asset = assets.get(request.path_params["name"])
        if asset is None:
            return _not_found()
        headers = {
            "etag": asset.etag,
            "cache-control": _IMMUTABLE if request.query_params.get("v") == asset.version else _REVALIDATE,
            "x-content-type-options": "nosniff",
        }
        if _etag_matches(request, asset.etag):
            return Response(status_code=304, headers=headers)
        return Response(asset.body, media_type=asset.media_type, headers=headers)

    return [
        Route(explorer_path, explorer_page, methods=["GET"], name="explorer"),
        Route(explorer_path + "/assets/{name}", explorer_asset, methods=["GET"], name="explorer_asset"),
    ]


__all__ = ["CONTENT_SECURITY_POLICY", "explorer_routes"]
