"""The gateway's front door: an ASGI middleware that every request passes before any route runs.

What it enforces (held to what vLLM's and Ollama's servers do):

- **Host check** (DNS rebinding): a keyless gateway answers only requests whose `Host` is a loopback
  name; `allowed_hosts` adds names ("*" allows any).
- **API key**: when the gateway has one (required to bind anything but loopback), every request must
  carry it (`Authorization: Bearer`, `x-api-key`, `x-goog-api-key` or Gemini's `?key=`); compared in
  constant time, never logged or echoed.
- **Body limit**: a body larger than `max_body` bytes gets 413 before anything parses it (the
  Content-Length is checked first, then the bytes actually received).
- **Admission control**: at most `max_active` generations run (8, as many as the ONNX backend decodes in
  one batch; 2 until 2026-12-03, which left the batch at most 2 rows) and `max_queue` wait; beyond that a
  request gets 429 with `Retry-After` at once, and one that waited `queue_timeout` seconds gets 503.
  Listing models and the index never queue, so they stay fast while generation is busy.
- **Disconnects**: a client that goes away sets `cancelled()` for its request, which the generation
  loop checks between tokens (backend.py), so its generation stops.
- **In-band stream errors**: an error after a stream started is sent as that API's error event.

Every refusal is in the API's own error shape (errors.py), so the official SDKs raise their usual
exceptions (RateLimitError, AuthenticationError, ...).
"""

from __future__ import annotations

import asyncio
import contextvars
import hmac
import json
import threading
from dataclasses import dataclass, field
from urllib.parse import parse_qs

from .errors import error_body

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1", "[::1]")
GENERATION_SUFFIXES = ("/chat/completions", "/v1/responses", "/v1/messages", ":generateContent",
                       ":streamGenerateContent")


@dataclass
class GuardConfig:
    """Limits of one gateway. `api_key=None` means keyless (loopback only)."""

    api_key: str | None = None
    allowed_hosts: tuple[str, ...] = ()
    max_body: int = 1024 * 1024
    max_active: int = 8     # as many as the local ONNX decoder batches (MAX_BATCH; the gateway does not import
                            # engine internals: a test checks concurrent requests share the batch)
    max_queue: int = 8
    queue_timeout: float = 60.0
    retry_after: int = 2


@dataclass
class RequestState:
    """What a route can ask about its own request: has the client gone away?"""

    cancel: threading.Event = field(default_factory=threading.Event)
    closers: list = field(default_factory=list)


_state: contextvars.ContextVar[RequestState | None] = contextvars.ContextVar("llmcourse_gateway_request",
                                                                              default=None)


def cancelled() -> bool:
    """True once the client of the current request has disconnected (False outside a request)."""
    state = _state.get()
    return bool(state and state.cancel.is_set())


def on_finish(close) -> None:
    """Call `close()` once the current request is over, however it ended (a stream's generator: if the
    client went away mid-stream, nothing pulls it any more, and closing it stops the generation)."""
    state = _state.get()
    if state is not None:
        state.closers.append(close)


def _close_all(state: RequestState) -> None:
    for close in reversed(state.closers):
        try:
            close()
        except Exception:  # noqa: BLE001  (already closed, or running elsewhere: it ends by itself)
            pass


def api_of_scope(scope) -> str:
    """"anthropic", "gemini" or "openai", as errors.api_of decides, from a raw ASGI scope."""
    from starlette.requests import Request

    from .errors import api_of

    return api_of(Request(scope))


def host_allowed(host_header: str, allowed: tuple[str, ...]) -> bool:
    """True if `host_header` (name[:port]) is a loopback name or one of `allowed` ("*": any)."""
    if "*" in allowed:
        return True
    host = host_header.strip().lower()
    if host.startswith("["):
        name = host[:host.find("]") + 1] if "]" in host else host
    else:
        name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    return name in LOOPBACK_NAMES or name in {h.lower() for h in allowed}


def key_of(scope) -> str | None:
    """The API key a request carries, in any of the three APIs' places."""
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
    auth = headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    for name in ("x-api-key", "x-goog-api-key"):
        if headers.get(name):
            return headers[name].strip()
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    return (query.get("key") or [None])[0]


def is_generation(scope) -> bool:
    return scope.get("method") == "POST" and scope.get("path", "").endswith(GENERATION_SUFFIXES)


class Guard:
    """ASGI middleware: host, key, body size, admission, disconnects, in-band stream errors."""

    def __init__(self, app, config: GuardConfig | None = None):
        self.app, self.config = app, config or GuardConfig()
        self.active = self.waiting = 0
        self._slots: asyncio.Semaphore | None = None
        self.rejected = 0

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        api, cfg = api_of_scope(scope), self.config
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        if not host_allowed(headers.get("host", ""), cfg.allowed_hosts):
            return await _refuse(send, api, 403, f"Host {headers.get('host', '')!r} is not allowed: this gateway "
                                 f"answers loopback names only (start it with allowed_hosts=... to add one).")
        if cfg.api_key and not hmac.compare_digest((key_of(scope) or "").encode(), cfg.api_key.encode()):
            return await _refuse(send, api, 401, "Invalid or missing API key: send the key the gateway was "
                                 "started with (Authorization: Bearer <key>).")
        body = await self._read_body(scope, receive, headers)
        if body is None:
            return await _refuse(send, api, 413, f"Request body larger than {cfg.max_body:,} bytes.")
        if not is_generation(scope):
            return await self._run(scope, body, receive, send, api)
        return await self._admit(scope, body, receive, send, api)

    async def _read_body(self, scope, receive, headers) -> bytes | None:
        """The whole body, or None once it passes the limit (declared or actually received)."""
        limit = self.config.max_body
        try:
            if int(headers.get("content-length") or 0) > limit:
                return None
        except ValueError:
            return None
        if scope.get("method") in ("GET", "HEAD", "OPTIONS", "DELETE"):
            return b""
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return b"".join(chunks)
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                return None
            chunks.append(chunk)
            if not message.get("more_body"):
                return b"".join(chunks)

    async def _admit(self, scope, body, receive, send, api):
        cfg = self.config
        if self._slots is None:
            self._slots = asyncio.Semaphore(cfg.max_active)
        if self.active + self.waiting >= cfg.max_active + cfg.max_queue:
            self.rejected += 1
            return await _refuse(send, api, 429, f"The local model is busy ({self.active} generating, "
                                 f"{self.waiting} waiting): retry after {cfg.retry_after} s.",
                                 retry_after=cfg.retry_after)
        self.waiting += 1
        try:
            await asyncio.wait_for(self._slots.acquire(), cfg.queue_timeout)
        except asyncio.TimeoutError:
            self.rejected += 1
            return await _refuse(send, api, 503, f"The local model stayed busy for {cfg.queue_timeout:g} s: "
                                 f"retry after {cfg.retry_after} s.", retry_after=cfg.retry_after)
        finally:
            self.waiting -= 1
        self.active += 1
        try:
            return await self._run(scope, body, receive, send, api)
        finally:
            self.active -= 1
            self._slots.release()

    async def _run(self, scope, body, receive, send, api):
        """Run the app with the buffered body; watch for a disconnect; errors mid-stream in-band."""
        state, inbox = RequestState(), asyncio.Queue()
        token = _state.set(state)
        sent_body = False

        async def replay():
            nonlocal sent_body
            if not sent_body:
                sent_body = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await inbox.get()

        async def watch():
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    state.cancel.set()
                    await inbox.put(message)
                    return

        started, last = False, None

        async def tracked_send(message):
            # the closing body message is held back until the app returns: if the app fails after
            # its stream started, the stream ends with the API's error event instead
            nonlocal started, last
            if message["type"] == "http.response.start":
                started = True
            if message["type"] == "http.response.body" and not message.get("more_body"):
                last = message
                return
            try:
                await send(message)
            except OSError:  # the client went away while we wrote
                state.cancel.set()

        watcher = asyncio.ensure_future(watch())
        try:
            await self.app(scope, replay, tracked_send)
            if last is not None:
                await send(last)
        except Exception as exc:  # noqa: BLE001
            if not started:
                raise  # the app's own handler (errors.install) answers in the API's shape
            if last is not None and last.get("body"):
                await send({"type": "http.response.body", "body": last["body"], "more_body": True})
            await _stream_error(send, api, exc)
        finally:
            watcher.cancel()
            _state.reset(token)
            if state.closers:
                await asyncio.to_thread(_close_all, state)


async def _refuse(send, api: str, status: int, message: str, *, retry_after: int | None = None) -> None:
    headers = [(b"content-type", b"application/json")]
    if retry_after is not None:
        headers.append((b"retry-after", str(retry_after).encode()))
    if api == "anthropic" and status == 429:
        body = {"type": "error", "error": {"type": "rate_limit_error", "message": message}}
    elif api == "anthropic" and status == 503:
        body = {"type": "error", "error": {"type": "overloaded_error", "message": message}}
    elif api == "gemini" and status in (429, 503):
        body = {"error": {"code": status, "message": message,
                          "status": "RESOURCE_EXHAUSTED" if status == 429 else "UNAVAILABLE"}}
    elif api == "openai" and status in (429, 503):
        body = {"error": {"message": message, "type": "rate_limit_exceeded" if status == 429 else "server_error",
                          "param": None, "code": "rate_limit_exceeded" if status == 429 else "overloaded"}}
    else:
        body = error_body(api, status, message)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": json.dumps(body).encode()})


async def _stream_error(send, api: str, exc: Exception) -> None:
    """The API's own error event, sent inside a stream that has already started."""
    from ..settings import scrub

    message = scrub(f"The local model failed mid-stream: {type(exc).__name__}: {exc}")
    if api == "anthropic":
        event = ("event: error\ndata: " + json.dumps({"type": "error", "error": {"type": "api_error",
                                                                                 "message": message}}) + "\n\n")
    elif api == "gemini":
        event = "data: " + json.dumps({"error": {"code": 500, "message": message, "status": "INTERNAL"}}) + "\n\n"
    else:
        event = "data: " + json.dumps({"error": {"message": message, "type": "server_error", "param": None,
                                                 "code": None}}) + "\n\n"
    try:
        await send({"type": "http.response.body", "body": event.encode(), "more_body": False})
    except Exception:  # noqa: BLE001  (the client is gone: nothing left to tell)
        pass
