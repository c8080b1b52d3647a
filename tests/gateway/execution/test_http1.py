"""The gateway's HTTP/1.1 subgraph client against raw asyncio servers that misbehave on purpose."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gateway.execution.http1 import Http1Pool, HttpError, ResponseTooLarge

Reply = Callable[["Request", asyncio.StreamWriter], Awaitable[bool]]  # returns: keep the connection


@dataclass
class Request:
    connection: int
    index_on_connection: int
    head: bytes
    body: bytes


@dataclass
class RawServer:
    reply: Reply
    requests: list[Request] = field(default_factory=list)
    connections: int = 0
    open_now: int = 0
    most_open: int = 0
    port: int = 0
    server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/graphql"

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        number = self.connections
        self.open_now += 1
        self.most_open = max(self.most_open, self.open_now)
        try:
            index = 0
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                body = await reader.readexactly(length)
                request = Request(number, index, head, body)
                self.requests.append(request)
                index += 1
                if not await self.reply(request, writer):
                    return
        finally:
            self.open_now -= 1
            writer.close()


def answer(body: bytes, extra: bytes = b"") -> bytes:
    return b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n%s\r\n%s" % (
        len(body), extra, body
    )


async def echo(request: Request, writer: asyncio.StreamWriter) -> bool:
    writer.write(answer(request.body))
    await writer.drain()
    return True


def slow_echo(seconds: float) -> Reply:
    async def reply(request: Request, writer: asyncio.StreamWriter) -> bool:
        await asyncio.sleep(seconds)
        return await echo(request, writer)

    return reply


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Reply], Awaitable[RawServer]]]:
    servers: list[RawServer] = []

    async def start(reply: Reply) -> RawServer:
        raw = RawServer(reply)
        raw.server = await asyncio.start_server(raw.handle, "127.0.0.1", 0)
        raw.port = raw.server.sockets[0].getsockname()[1]
        servers.append(raw)
        return raw

    yield start
    for raw in servers:
        assert raw.server is not None
        raw.server.close()


async def test_keeps_one_connection_alive_across_requests(serve) -> None:
    server = await serve(echo)
    pool = Http1Pool(server.url, headers={"content-type": "application/json"})
    for n in range(20):
        response = await pool.post(b'{"n": %d}' % n)
        assert (response.status, response.body) == (200, b'{"n": %d}' % n)
    assert server.connections == 1 and pool.connections_made == 1
    head = server.requests[0].head
    assert head.startswith(b"POST /graphql HTTP/1.1\r\n")
    assert f"host: 127.0.0.1:{server.port}".encode() in head and b"content-type: application/json" in head
    await pool.aclose()


async def test_never_opens_more_than_max_connections(serve) -> None:
    server = await serve(slow_echo(0.02))
    pool = Http1Pool(server.url, max_connections=2)
    bodies = await asyncio.gather(*(pool.post(b"%d" % n) for n in range(12)))
    assert [r.body for r in bodies] == [b"%d" % n for n in range(12)]
    assert server.most_open == 2 and server.connections == 2
    assert pool.open_connections == 2 and pool.idle_connections == 2
    await pool.aclose()


async def test_a_connection_the_server_closes_is_not_reused(serve) -> None:
    async def close_after_answer(request: Request, writer: asyncio.StreamWriter) -> bool:
        writer.write(answer(request.body, b"connection: close\r\n"))
        await writer.drain()
        return False

    server = await serve(close_after_answer)
    pool = Http1Pool(server.url)
    for _ in range(3):
        assert (await pool.post(b"{}")).body == b"{}"
    assert server.connections == 3 and pool.open_connections == 0
    await pool.aclose()


async def test_chunked_and_close_delimited_bodies(serve) -> None:
    async def chunked(request: Request, writer: asyncio.StreamWriter) -> bool:
        if request.connection == 1:
            writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\n{\"a\r\n5\r\n\": 1}\r\n0\r\n\r\n")
            await writer.drain()
            return True
        writer.write(b"HTTP/1.0 200 OK\r\n\r\n" + b'{"b": 2}')  # no length: ends with the connection
        await writer.drain()
        return False

    server = await serve(chunked)
    pool = Http1Pool(server.url, idle_seconds=0.0)  # no reuse: the second request gets connection 2
    assert (await pool.post(b"{}")).body == b'{"a": 1}'
    assert (await pool.post(b"{}")).body == b'{"b": 2}'
    await pool.aclose()


async def test_stale_connection_is_retried_only_when_repeatable(serve) -> None:
    async def drop_second_request(request: Request, writer: asyncio.StreamWriter) -> bool:
        if request.index_on_connection == 1:
            return False  # closes without answering, as a server closing an idle connection does
        return await echo(request, writer)

    server = await serve(drop_second_request)
    pool = Http1Pool(server.url)
    await pool.post(b"1")
    assert (await pool.post(b"2")).body == b"2"  # retried on a new connection
    assert [(r.connection, r.body) for r in server.requests] == [(1, b"1"), (1, b"2"), (2, b"2")]

    with pytest.raises(HttpError):
        await pool.post(b"mutation", repeatable=False)  # connection 2's second request: dropped, not repeated
    assert [r.body for r in server.requests].count(b"mutation") == 1
    assert pool.open_connections == 0
    await pool.aclose()


async def test_timeout_discards_the_connection(serve) -> None:
    async def hang_once(request: Request, writer: asyncio.StreamWriter) -> bool:
        if request.body == b"hang":
            await asyncio.sleep(5)
        return await echo(request, writer)

    server = await serve(hang_once)
    pool = Http1Pool(server.url, timeout_seconds=0.2)
    with pytest.raises(TimeoutError):
        await pool.post(b"hang")
    assert pool.open_connections == 0
    assert (await pool.post(b"ok")).body == b"ok"  # a new connection: the old one may still get the late answer
    assert server.connections == 2
    await pool.aclose()


async def test_response_size_is_capped(serve) -> None:
    async def huge(request: Request, writer: asyncio.StreamWriter) -> bool:
        writer.write(answer(b"x" * 5000))
        await writer.drain()
        return True

    server = await serve(huge)
    pool = Http1Pool(server.url, max_response_bytes=1000)
    with pytest.raises(ResponseTooLarge):
        await pool.post(b"{}")
    assert pool.open_connections == 0
    await pool.aclose()


async def test_malformed_response_is_an_error(serve) -> None:
    async def garbage(request: Request, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"NOT HTTP AT ALL\r\n\r\n")
        await writer.drain()
        return True

    server = await serve(garbage)
    pool = Http1Pool(server.url)
    with pytest.raises(HttpError):
        await pool.post(b"{}")
    assert pool.open_connections == 0
    await pool.aclose()


async def test_refused_connection_raises_oserror() -> None:
    pool = Http1Pool("http://127.0.0.1:9/graphql")
    with pytest.raises(OSError):
        await pool.post(b"{}")
    assert pool.open_connections == 0


async def test_forwarded_headers_cannot_inject_lines(serve) -> None:
    server = await serve(echo)
    pool = Http1Pool(server.url)
    await pool.post(b"{}", {"authorization": "Bearer abc", "x-evil": "a\r\nx-injected: 1", "bad name": "v"})
    head = server.requests[0].head
    assert b"authorization: Bearer abc\r\n" in head
    assert b"x-injected" not in head and b"x-evil" not in head and b"bad name" not in head
    await pool.aclose()


async def test_cancelled_waiters_do_not_leak_connections(serve) -> None:
    server = await serve(slow_echo(0.05))
    pool = Http1Pool(server.url, max_connections=1)
    first = asyncio.create_task(pool.post(b"first"))
    waiting = [asyncio.create_task(pool.post(b"w%d" % n)) for n in range(5)]
    await asyncio.sleep(0.01)
    for task in waiting:
        task.cancel()
    assert (await first).body == b"first"
    assert all(task.cancelled() for task in waiting)
    assert (await pool.post(b"after")).body == b"after"
    assert server.connections == 1 and pool.open_connections == 1
    await pool.aclose()


async def test_idle_connections_expire(serve) -> None:
    server = await serve(echo)
    pool = Http1Pool(server.url, idle_seconds=0.05)
    await pool.post(b"1")
    await asyncio.sleep(0.1)
    await pool.post(b"2")
    assert server.connections == 2 and pool.open_connections == 1
    await pool.aclose()


def test_only_http_urls() -> None:
    with pytest.raises(ValueError):
        Http1Pool("ftp://example.org/graphql")
    https = Http1Pool("https://example.org/graphql")
    assert https.port == 443 and https.ssl is not None


def _self_signed(directory: Path) -> tuple[Path, Path]:
    """A CA-less self-signed certificate for localhost: trusted only where we say so."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


async def test_https_subgraphs_are_verified(tmp_path: Path) -> None:
    cert, key = _self_signed(tmp_path)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)
    raw = RawServer(echo)
    server = await asyncio.start_server(raw.handle, "127.0.0.1", 0, ssl=server_context)
    port = server.sockets[0].getsockname()[1]
    try:
        trusting = Http1Pool(
            f"https://localhost:{port}/graphql", ssl_context=ssl.create_default_context(cafile=str(cert))
        )
        assert (await trusting.post(b'{"tls": true}')).body == b'{"tls": true}'
        assert (await trusting.post(b"again")).body == b"again"
        assert raw.connections == 1  # kept alive over TLS too
        await trusting.aclose()

        system_cas_only = Http1Pool(f"https://localhost:{port}/graphql")
        with pytest.raises(ssl.SSLCertVerificationError):
            await system_cas_only.post(b"{}")
        assert system_cas_only.open_connections == 0
    finally:
        server.close()


async def test_subgraph_clients_take_a_ca_file(tmp_path: Path) -> None:
    from gateway.execution.client import SubgraphClients, SubgraphError, SubgraphSettings

    cert, key = _self_signed(tmp_path)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)

    async def graphql(request: Request, writer: asyncio.StreamWriter) -> bool:
        writer.write(answer(b'{"data": {"ok": true}}'))
        await writer.drain()
        return True

    server = await asyncio.start_server(RawServer(graphql).handle, "127.0.0.1", 0, ssl=server_context)
    url = f"https://localhost:{server.sockets[0].getsockname()[1]}/graphql"
    try:
        clients = SubgraphClients({"s": url}, SubgraphSettings(ca_file=str(cert)))
        assert await clients.post("s", {"query": "{ ok }"}) == {"data": {"ok": True}}
        await clients.aclose()
        untrusting = SubgraphClients({"s": url})
        with pytest.raises(SubgraphError) as refused:
            await untrusting.post("s", {"query": "{ ok }"})
        assert refused.value.code == "SUBGRAPH_UNREACHABLE"
    finally:
        server.close()
