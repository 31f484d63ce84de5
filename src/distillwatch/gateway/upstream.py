"""The connection to the real model provider, behind a small injectable protocol.

The gateway only needs "send this request, give me status, headers and the
body as it arrives, let me close it early". Keeping that behind
:class:`UpstreamTransport` lets tests pass an ``httpx.MockTransport`` or an
in-process fake, and lets the benchmark compare httpx with aiohttp.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import urllib.parse
from collections.abc import AsyncIterator, Sequence
from typing import Any, Protocol, runtime_checkable

import httpx

__all__ = [
    "UpstreamError",
    "UpstreamTimeout",
    "UpstreamUnavailable",
    "UpstreamResponse",
    "UpstreamTransport",
    "HttpxUpstream",
    "AiohttpUpstream",
    "RawUpstream",
    "make_upstream",
]

Headers = Sequence[tuple[bytes, bytes]]


class UpstreamError(Exception):
    """The upstream call failed; ``kind`` is the metric label."""

    kind = "error"


class UpstreamTimeout(UpstreamError):
    kind = "timeout"


class UpstreamUnavailable(UpstreamError):
    kind = "connect"


class UpstreamResponse(Protocol):
    status: int
    headers: list[tuple[bytes, bytes]]  # lower-case names, as received

    def aiter_bytes(self) -> AsyncIterator[bytes]:
        """Body chunks as they arrive; raises UpstreamError if the body breaks off."""
        ...

    async def aclose(self) -> None:
        """Release the connection (early, when the client has gone)."""
        ...


@runtime_checkable
class UpstreamTransport(Protocol):
    async def send(self, method: str, path: str, headers: Headers, body: bytes) -> UpstreamResponse:
        """Start a request; return once the status line and headers are in."""
        ...

    async def aclose(self) -> None: ...


# ---------------------------------------------------------------------------
# httpx


class _HttpxResponse:
    __slots__ = ("_response", "status", "headers")

    def __init__(self, response: httpx.Response):
        self._response = response
        self.status = response.status_code
        self.headers = [(k.lower(), v) for k, v in response.headers.raw]

    async def aiter_bytes(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._response.aiter_raw():
                if chunk:
                    yield chunk
        except httpx.TimeoutException as exc:
            raise UpstreamTimeout(f"upstream went silent: {exc!r}") from exc
        except (httpx.TransportError, httpx.StreamError) as exc:
            raise UpstreamError(f"upstream body broke off: {exc!r}") from exc

    async def aclose(self) -> None:
        await self._response.aclose()


class HttpxUpstream:
    """Pooled ``httpx.AsyncClient``; ``transport`` swaps the network for tests."""

    def __init__(
        self,
        base_url: str,
        *,
        connect_timeout_s: float = 5.0,
        read_timeout_s: float = 300.0,
        max_connections: int = 512,
        transport: httpx.AsyncBaseTransport | None = None,
    ):
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            timeout=httpx.Timeout(
                connect=connect_timeout_s,
                read=read_timeout_s,
                write=read_timeout_s,
                pool=connect_timeout_s,
            ),
            limits=httpx.Limits(
                max_connections=max_connections,
                max_keepalive_connections=max_connections,
                keepalive_expiry=60.0,
            ),
            transport=transport,
            follow_redirects=False,
        )

    async def send(self, method: str, path: str, headers: Headers, body: bytes) -> _HttpxResponse:
        request = self._client.build_request(
            method, path, headers=list(headers), content=body or None
        )
        try:
            response = await self._client.send(request, stream=True)
        except httpx.TimeoutException as exc:
            raise UpstreamTimeout(f"upstream did not answer in time: {exc!r}") from exc
        except httpx.TransportError as exc:
            raise UpstreamUnavailable(f"upstream unreachable: {exc!r}") from exc
        return _HttpxResponse(response)

    async def aclose(self) -> None:
        await self._client.aclose()


# ---------------------------------------------------------------------------
# aiohttp


class _AiohttpResponse:
    __slots__ = ("_response", "status", "headers")

    def __init__(self, response: Any):
        self._response = response
        self.status = response.status
        self.headers = [(k.lower(), v) for k, v in response.raw_headers]

    async def aiter_bytes(self) -> AsyncIterator[bytes]:

        import aiohttp

        try:
            async for chunk in self._response.content.iter_any():
                if chunk:
                    yield chunk
        except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
            raise UpstreamTimeout(f"upstream went silent: {exc!r}") from exc
        except aiohttp.ClientError as exc:
            raise UpstreamError(f"upstream body broke off: {exc!r}") from exc

    async def aclose(self) -> None:
        self._response.release()


class AiohttpUpstream:
    """Pooled ``aiohttp.ClientSession``, created on first use inside the running loop."""

    def __init__(
        self,
        base_url: str,
        *,
        connect_timeout_s: float = 5.0,
        read_timeout_s: float = 300.0,
        max_connections: int = 512,
    ):
        self._base = base_url.rstrip("/")
        self._connect_timeout_s = connect_timeout_s
        self._read_timeout_s = read_timeout_s
        self._max_connections = max_connections
        self._session: Any = None

    def _ensure_session(self) -> Any:
        if self._session is None:
            import aiohttp

            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(
                    limit=self._max_connections,
                    limit_per_host=self._max_connections,
                    keepalive_timeout=60.0,
                ),
                timeout=aiohttp.ClientTimeout(
                    total=None, sock_connect=self._connect_timeout_s, sock_read=self._read_timeout_s
                ),
                auto_decompress=False,
                skip_auto_headers=("User-Agent", "Accept-Encoding", "Content-Type"),
            )
        return self._session

    async def send(self, method: str, path: str, headers: Headers, body: bytes) -> _AiohttpResponse:

        import aiohttp
        from multidict import CIMultiDict

        session = self._ensure_session()
        hdrs = CIMultiDict((k.decode("latin-1"), v.decode("latin-1")) for k, v in headers)
        try:
            response = await session.request(
                method, self._base + path, headers=hdrs, data=body or None, allow_redirects=False
            )
        except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
            raise UpstreamTimeout(f"upstream did not answer in time: {exc!r}") from exc
        except aiohttp.ClientError as exc:
            raise UpstreamUnavailable(f"upstream unreachable: {exc!r}") from exc
        return _AiohttpResponse(response)

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


# ---------------------------------------------------------------------------
# a lean HTTP/1.1 keep-alive client on asyncio streams


class _Connection:
    __slots__ = ("reader", "writer", "reused")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader = reader
        self.writer = writer
        self.reused = False

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.writer.close()


class _RawResponse:
    __slots__ = (
        "_pool",
        "_conn",
        "_framing",
        "_remaining",
        "_done",
        "status",
        "headers",
        "_timeout",
        "_keep",
    )

    def __init__(
        self,
        pool: RawUpstream,
        conn: _Connection,
        status: int,
        headers: list[tuple[bytes, bytes]],
        framing: str,
        length: int,
        keep_alive: bool,
    ):
        self._pool = pool
        self._conn = conn
        self.status = status
        self.headers = headers
        self._framing = framing  # "length" | "chunked" | "close" | "none"
        self._remaining = length
        self._done = framing == "none" or (framing == "length" and length == 0)
        self._keep = keep_alive
        self._timeout = pool.read_timeout_s

    async def aiter_bytes(self) -> AsyncIterator[bytes]:
        assert self._conn is not None, "body read after aclose"
        reader = self._conn.reader
        try:
            if self._framing == "length":
                while self._remaining > 0:
                    async with asyncio.timeout(self._timeout):
                        chunk = await reader.read(min(self._remaining, 65536))
                    if not chunk:
                        raise UpstreamError("upstream closed the connection mid-body")
                    self._remaining -= len(chunk)
                    yield chunk
            elif self._framing == "chunked":
                while True:
                    async with asyncio.timeout(self._timeout):
                        line = await reader.readuntil(b"\r\n")
                        size = int(line.split(b";", 1)[0].strip(), 16)
                        if size == 0:
                            while (await reader.readuntil(b"\r\n")) != b"\r\n":
                                pass  # trailers: ignored
                            break
                        data = await reader.readexactly(size + 2)
                    yield data[:-2]
            elif self._framing == "close":
                while True:
                    async with asyncio.timeout(self._timeout):
                        chunk = await reader.read(65536)
                    if not chunk:
                        break
                    yield chunk
                self._keep = False
            self._done = True
        except TimeoutError as exc:
            raise UpstreamTimeout("upstream went silent mid-body") from exc
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError, OSError) as exc:
            raise UpstreamError(f"upstream body broke off: {exc!r}") from exc

    async def aclose(self) -> None:
        conn, self._conn = self._conn, None  # type: ignore[assignment]
        if conn is None:
            return
        if self._done and self._keep:
            self._pool._release(conn)
        else:
            conn.close()
            self._pool._release(None)


class RawUpstream:
    """A minimal HTTP/1.1 client: one write per request, keep-alive pool, no per-request objects.

    It exists because the gateway's added latency is dominated by the HTTP
    client: on loopback this costs about a third of what aiohttp costs per
    request (see docs/gateway.md). It speaks only what a model API needs:
    content-length, chunked and close-delimited bodies, TLS via ``ssl``.
    """

    def __init__(
        self,
        base_url: str,
        *,
        connect_timeout_s: float = 5.0,
        read_timeout_s: float = 300.0,
        max_connections: int = 512,
    ):
        parsed = urllib.parse.urlsplit(base_url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ValueError(f"upstream must be an http(s) URL, got {base_url!r}")
        self._host = parsed.hostname
        self._tls = parsed.scheme == "https"
        self._port = parsed.port or (443 if self._tls else 80)
        self._prefix = parsed.path.rstrip("/").encode()
        default_port = (self._tls and self._port == 443) or (not self._tls and self._port == 80)
        self._host_header = (self._host if default_port else f"{self._host}:{self._port}").encode()
        self.connect_timeout_s = connect_timeout_s
        self.read_timeout_s = read_timeout_s
        self._idle: list[_Connection] = []
        self._slots: asyncio.Semaphore | None = None  # created in the running loop
        self._max = max_connections
        self._ssl: Any = None

    def _release(self, conn: _Connection | None) -> None:
        """Back to the pool (``conn``) or closed (None); frees the connection slot either way."""
        if conn is not None:
            conn.reused = True
            self._idle.append(conn)
        if self._slots is not None:
            self._slots.release()

    async def _connect(self) -> _Connection:
        while self._idle:
            conn = self._idle.pop()
            if not conn.reader.at_eof() and not conn.writer.is_closing():
                return conn
            conn.close()
        if self._tls and self._ssl is None:
            import ssl

            self._ssl = ssl.create_default_context()
        try:
            async with asyncio.timeout(self.connect_timeout_s):
                reader, writer = await asyncio.open_connection(
                    self._host,
                    self._port,
                    ssl=self._ssl,
                    server_hostname=self._host if self._tls else None,
                    limit=1 << 20,
                )
        except TimeoutError as exc:
            raise UpstreamTimeout("connecting to the upstream timed out") from exc
        except OSError as exc:
            raise UpstreamUnavailable(f"upstream unreachable: {exc!r}") from exc
        sock = writer.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return _Connection(reader, writer)

    async def send(self, method: str, path: str, headers: Headers, body: bytes) -> _RawResponse:
        head = [
            method.encode(),
            b" ",
            self._prefix + path.encode("latin-1"),
            b" HTTP/1.1\r\nhost: ",
        ]
        head += (self._host_header, b"\r\n")
        for name, value in headers:
            head += (name, b": ", value, b"\r\n")
        if body or method not in ("GET", "HEAD"):
            head += (b"content-length: ", str(len(body)).encode(), b"\r\n")
        head.append(b"\r\n")
        payload = b"".join(head) + body
        if self._slots is None:
            self._slots = asyncio.Semaphore(self._max)
        await self._slots.acquire()
        try:
            for attempt in (0, 1):
                conn = await self._connect()
                try:
                    conn.writer.write(payload)
                    async with asyncio.timeout(self.read_timeout_s):
                        raw_head = await conn.reader.readuntil(b"\r\n\r\n")
                        while raw_head[9:10] == b"1" and raw_head[9:12] != b"101":
                            raw_head = await conn.reader.readuntil(b"\r\n\r\n")  # interim 1xx
                except TimeoutError as exc:
                    conn.close()
                    raise UpstreamTimeout("upstream did not answer in time") from exc
                except (asyncio.IncompleteReadError, ConnectionError) as exc:
                    conn.close()
                    if attempt == 0 and conn.reused:
                        continue  # the upstream closed an idle keep-alive connection: retry once, fresh
                    raise UpstreamUnavailable(f"upstream closed the connection: {exc!r}") from exc
                except (asyncio.LimitOverrunError, OSError) as exc:
                    conn.close()
                    raise UpstreamError(f"unreadable upstream response head: {exc!r}") from exc
                try:
                    return self._response(conn, method, raw_head)
                except ValueError as exc:
                    conn.close()
                    raise UpstreamError(f"unreadable upstream response head: {exc!r}") from exc
            raise UpstreamUnavailable("upstream closed the connection twice")
        except BaseException:
            self._slots.release()
            raise

    def _response(self, conn: _Connection, method: str, raw_head: bytes) -> _RawResponse:
        status_line, _, raw_head = raw_head.partition(b"\r\n")
        if not status_line.startswith(b"HTTP/1.") or len(status_line) < 12:
            raise ValueError(f"not an HTTP/1.x status line: {status_line[:40]!r}")
        status = int(status_line[9:12])
        headers: list[tuple[bytes, bytes]] = []
        length = -1
        chunked = False
        keep_alive = status_line.startswith(b"HTTP/1.1")
        for line in raw_head.split(b"\r\n"):
            if not line:
                continue
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            value = value.strip()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
                continue  # our server re-frames the body
            elif name == b"connection":
                tokens = value.lower()
                if b"close" in tokens:
                    keep_alive = False
                elif b"keep-alive" in tokens:
                    keep_alive = True
            headers.append((name, value))
        if method == "HEAD" or status in (204, 304):
            framing = "none"
        elif chunked:
            framing = "chunked"
        elif length >= 0:
            framing = "length"
        else:
            framing = "close"
        return _RawResponse(self, conn, status, headers, framing, max(length, 0), keep_alive)

    async def aclose(self) -> None:
        while self._idle:
            self._idle.pop().close()


def make_upstream(
    base_url: str,
    *,
    client: str = "aiohttp",
    connect_timeout_s: float = 5.0,
    read_timeout_s: float = 300.0,
    max_connections: int = 512,
    transport: Any = None,
) -> UpstreamTransport:
    """The configured transport; an ``httpx`` transport object selects httpx with that transport."""
    if transport is not None and isinstance(transport, httpx.AsyncBaseTransport):
        return HttpxUpstream(
            base_url,
            connect_timeout_s=connect_timeout_s,
            read_timeout_s=read_timeout_s,
            max_connections=max_connections,
            transport=transport,
        )
    if transport is not None:
        return transport  # already an UpstreamTransport
    if client == "raw":
        return RawUpstream(
            base_url,
            connect_timeout_s=connect_timeout_s,
            read_timeout_s=read_timeout_s,
            max_connections=max_connections,
        )
    if client == "httpx":
        return HttpxUpstream(
            base_url,
            connect_timeout_s=connect_timeout_s,
            read_timeout_s=read_timeout_s,
            max_connections=max_connections,
        )
    return AiohttpUpstream(
        base_url,
        connect_timeout_s=connect_timeout_s,
        read_timeout_s=read_timeout_s,
        max_connections=max_connections,
    )
