"""Start and stop the gateway: in a background thread for notebooks, or in the foreground (CLI).

>>> from llmcourse.gateway import start
>>> gw = start()                      # doctest: +SKIP
>>> gw.url                            # doctest: +SKIP
'http://127.0.0.1:40123'

uvicorn runs with its access log off (a Gemini client may send its key as `?key=`); the app logs
method, path and status only, on the "llmcourse.gateway" logger.
"""

from __future__ import annotations

import socket
import threading
import time

_LOOPBACK = ("127.0.0.1", "localhost", "::1")
_running: "Gateway | None" = None
_lock = threading.Lock()


class Gateway:
    """A running gateway: `.url`, `.host`, `.port`, `.stop()`; also a context manager."""

    def __init__(self, host: str, port: int, server, thread: threading.Thread):
        self.host, self.port, self._server, self._thread = host, port, server, thread

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def stop(self, timeout: float = 10.0) -> None:
        """Shut the server down and wait for its thread (safe to call twice)."""
        global _running
        self._server.should_exit = True
        self._thread.join(timeout)
        with _lock:
            if _running is self:
                _running = None

    def __enter__(self) -> "Gateway":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<Gateway {self.url} ({'running' if self.running else 'stopped'})>"


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        from ..errors import LLMCourseError
        raise LLMCourseError(f"The gateway cannot listen on {host}:{port} ({exc.strerror}): the port is "
                             f"taken; pass port=0 for a free one, or stop what uses it.") from None
    return sock


def _config(host: str, port: int, log_level: str, log_config=None, guard=None):
    import uvicorn

    from .app import create_app

    return uvicorn.Config(create_app(guard), host=host, port=port, log_level=log_level, access_log=False,
                          log_config=log_config, lifespan="off", timeout_graceful_shutdown=2)


def guard_config(host: str, api_key: str | None = None, allowed_hosts=(), **limits):
    """The guard's settings for a bind address: anything but loopback needs an API key."""
    from .guard import GuardConfig

    if host not in _LOOPBACK and not api_key:
        from ..errors import LLMCourseError
        raise LLMCourseError(f"Listening on {host} would let anyone on your network use the gateway: pass "
                             f"api_key=... (CLI: --api-key KEY) so every request must carry it, or bind "
                             f"127.0.0.1.")
    hosts = tuple(allowed_hosts or ())
    if host not in _LOOPBACK and not hosts:
        hosts = ("*",)  # reached by whatever name the network gives it; the key protects it
    return GuardConfig(api_key=api_key or None, allowed_hosts=hosts, **limits)


def start(port: int = 0, *, host: str = "127.0.0.1", preload: bool = False, timeout: float = 30.0,
          api_key: str | None = None, allowed_hosts=(), **limits) -> Gateway:
    """Run the gateway in a background thread; return the running one if this process has one.

    port=0 picks a free port. It binds 127.0.0.1 unless you pass `host=` (e.g. "0.0.0.0", which
    exposes the local model to your network and therefore needs `api_key=`). preload=True loads the
    local model before returning. `limits`: max_body, max_active, max_queue, queue_timeout (guard.py).
    """
    global _running
    import uvicorn

    guard = guard_config(host, api_key, allowed_hosts, **limits)
    if host not in _LOOPBACK:
        import warnings
        warnings.warn(f"The gateway listens on {host}: anyone on your network who has the key can use it.",
                      stacklevel=2)
    with _lock:
        if _running is not None and _running.running:
            return _running
        sock = _bind(host, port)
        actual = sock.getsockname()[1]
        server = uvicorn.Server(_config(host, actual, "warning", guard=guard))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True,
                                  name=f"llmcourse-gateway-{actual}")
        thread.start()
        deadline = time.monotonic() + timeout
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                server.should_exit = True
                sock.close()
                from ..errors import LLMCourseError
                raise LLMCourseError(f"The gateway did not start on {host}:{actual} within {timeout:.0f} s; "
                                     f"run `python -m llmcourse serve` to see its error.")
            time.sleep(0.02)
        _running = Gateway(host, actual, server, thread)
    if preload:
        warm_up()
    return _running


def warm_up() -> float:
    """Load the answering model now (one 1-token reply); the seconds it took."""
    from ..chat import chat
    from .backend import ANSWERED_BY

    t0 = time.perf_counter()
    chat("Hi", model=ANSWERED_BY, max_tokens=1)
    return time.perf_counter() - t0


def running() -> Gateway | None:
    """The gateway this process started, if it is still running."""
    return _running if _running is not None and _running.running else None


def serve(host: str = "127.0.0.1", port: int = 8000, *, api_key: str | None = None) -> None:
    """Run the gateway in the foreground until Ctrl+C (`python -m llmcourse serve [--api-key KEY]`)."""
    import logging

    import uvicorn

    from ..registry import get_model
    from .backend import ANSWERED_BY

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    guard = guard_config(host, api_key)  # refuses a non-loopback address without a key
    sock = _bind(host, port)
    seconds = warm_up()
    url = f"http://{host}:{sock.getsockname()[1]}"
    key = "<your --api-key>" if api_key else "local"
    print(f"llmcourse gateway: {get_model(ANSWERED_BY).api_id} (ready in {seconds:.1f} s) at {url}\n"
          f"  OpenAI:    OpenAI(base_url='{url}/v1', api_key='{key}')\n"
          f"  Anthropic: Anthropic(base_url='{url}', api_key='{key}')\n"
          f"  Gemini:    genai.Client(api_key='{key}', http_options={{'base_url': '{url}'}})\n"
          + ("Every request must carry the key." if api_key else "Any API key is accepted (loopback only).")
          + " Ctrl+C stops it.", flush=True)
    if host not in _LOOPBACK:
        print(f"Warning: listening on {host} exposes the gateway to your network (key required).", flush=True)
    uvicorn.Server(_config(host, sock.getsockname()[1], "info", uvicorn.config.LOGGING_CONFIG,
                           guard=guard)).run(sockets=[sock])
