"""A tiny HTTP server on 127.0.0.1 that answers from a queue: the failure paths of a provider API
(401, 429 with Retry-After, 500) over real sockets, for SDK clients that llmcourse builds itself."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Stub:
    """Queue (status, body, headers) answers; `requests` holds (time, method, path, headers, body)."""

    def __init__(self):
        self.answers: list[tuple[int, object, dict]] = []
        self.requests: list[tuple[float, str, str, dict, bytes]] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def _answer(self):
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                stub.requests.append((time.monotonic(), self.command, self.path, dict(self.headers), body))
                status, payload, headers = stub.answers.pop(0) if stub.answers else (
                    500, {"error": {"message": "stub: no answer queued"}}, {})
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", headers.pop("content-type", "application/json"))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _answer

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def queue(self, *answers) -> "Stub":
        self.answers += [(a[0], a[1], dict(a[2]) if len(a) > 2 else {}) for a in answers]
        return self

    def reset(self) -> None:
        self.answers.clear()
        self.requests.clear()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
