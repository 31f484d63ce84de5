"""The connection to the real model provider, behind a small injectable protocol.

The gateway only needs "send this request, give me status, headers and the
body as it arrives, let me close it early". Keeping that behind
:class:`UpstreamTransport` lets tests pass an ``httpx.MockTransport`` or an
in-process fake, and lets the benchmark compare httpx with aiohttp.

aiohttp is the default: on loopback it costs a fraction of httpx per call,
whose connection pool also slows down with the number of open connections
(see docs/gateway.md, Performance).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any, Protocol, runtime_checkable

import aiohttp
import httpx
from multidict import CIMultiDict
from yarl import URL

__all__ = [
    "UpstreamError",
    "UpstreamTimeout",
    "UpstreamUnavailable",
    "UpstreamResponse",
    "UpstreamTransport",
    "HttpxUpstream",
    "AiohttpUpstream",
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

    def __init__(self, response: aiohttp.ClientResponse):
        self._response = response
        self.status = response.status
        self.headers = [(k.lower(), v) for k, v in response.raw_headers]

    async def aiter_bytes(self) -> AsyncIterator[bytes]:
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


_URL_CACHE_SIZE = 256


class AiohttpUpstream:
    """Pooled ``aiohttp.ClientSession``, created on first use inside the running loop.

    Two settings are about correctness as much as speed: the cookie jar is a
    dummy, so a cookie one caller's response set is never sent upstream with
    another caller's request; and bodies are passed on compressed or not, as
    the upstream sent them. Parsed URLs of the few paths the gateway calls are
    kept, since parsing one costs more than the rest of building the request.
    """

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
        self._session: aiohttp.ClientSession | None = None
        self._urls: dict[str, URL] = {}

    def _ensure_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(
                    limit=self._max_connections,
                    limit_per_host=self._max_connections,
                    keepalive_timeout=60.0,
                ),
                timeout=aiohttp.ClientTimeout(
                    total=None, sock_connect=self._connect_timeout_s, sock_read=self._read_timeout_s
                ),
                cookie_jar=aiohttp.DummyCookieJar(),
                auto_decompress=False,
                skip_auto_headers=("User-Agent", "Accept-Encoding", "Content-Type"),
            )
        return self._session

    def _url(self, path: str) -> URL | str:
        url = self._urls.get(path)
        if url is None:
            if "?" in path or len(self._urls) >= _URL_CACHE_SIZE:
                return self._base + path
            url = self._urls[path] = URL(self._base + path)
        return url

    async def send(self, method: str, path: str, headers: Headers, body: bytes) -> _AiohttpResponse:
        session = self._session or self._ensure_session()
        hdrs = CIMultiDict([(k.decode("latin-1"), v.decode("latin-1")) for k, v in headers])
        try:
            response = await session.request(
                method, self._url(path), headers=hdrs, data=body or None, allow_redirects=False
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
