"""Replay provider HTTP through the official SDKs: an httpx2 MockTransport with queued answers.

Only the frontier providers' HTTP is replayed (it cannot run here); the SDKs run unmodified.
"""

from __future__ import annotations

import json

import httpx2


class Replay:
    """Queue of (status, body[, headers]) answers; records every request the SDK sent."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.requests: list[httpx2.Request] = []

    def handler(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        if not self.answers:
            raise AssertionError(f"Unexpected extra request to {request.url}")
        status, body, *headers = self.answers.pop(0)
        headers = headers[0] if headers else {}
        if isinstance(body, (dict, list)):
            return httpx2.Response(status, json=body, headers=headers)
        return httpx2.Response(status, content=body.encode(), headers=headers)

    def install(self, provider_name: str) -> "Replay":
        from llmcourse.providers import get_provider

        p = get_provider(provider_name)
        p.http_client = httpx2.Client(transport=httpx2.MockTransport(self.handler))
        p.sleep = lambda s: None  # no real waiting between retries
        return self

    def body(self, i: int = -1) -> dict:
        return json.loads(self.requests[i].content)


def sse(events: list, *, named: bool = False) -> str:
    """Server-sent events text: `data: {...}` lines (with `event:` names for Anthropic)."""
    out = []
    for e in events:
        if named:
            out.append(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n")
        else:
            out.append(f"data: {e if isinstance(e, str) else json.dumps(e)}\n\n")
    return "".join(out)
