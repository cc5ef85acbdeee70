"""The gateway's FastAPI app: the OpenAI, Anthropic and Gemini routers over the provider layer."""

from __future__ import annotations

import logging
import time

from fastapi import FastAPI, Request

from . import anthropic_api, backend, errors, gemini_api, openai_api, responses_api
from .guard import Guard, GuardConfig

log = logging.getLogger("llmcourse.gateway")


def create_app(config: GuardConfig | None = None) -> FastAPI:
    """A FastAPI app answering the three APIs (OpenAI's in both shapes: Chat Completions and Responses)
    with the local model (no docs pages), behind the guard
    (host check, API key when configured, body limit, admission control: see guard.py)."""
    app = FastAPI(title="llmcourse local gateway", docs_url=None, redoc_url=None, openapi_url=None)
    errors.install(app)
    app.include_router(openai_api.router)
    app.include_router(responses_api.router)
    app.include_router(anthropic_api.router)
    app.include_router(gemini_api.router)

    @app.get("/")
    def index():
        from ..registry import get_model

        return {"gateway": "llmcourse", "model": f"{get_model(backend.ANSWERED_BY).api_id} (local)",
                "apis": {"openai": "/v1/chat/completions", "openai-responses": "/v1/responses",
                         "anthropic": "/v1/messages",
                         "gemini": "/v1beta/models/{model}:generateContent"}}

    @app.middleware("http")
    async def access_log(request: Request, call_next):
        # Only method, path (never the query string, where Gemini clients may put ?key=) and status.
        start = time.perf_counter()
        response = await call_next(request)
        log.info("%s %s -> %d (%.0f ms)", request.method, request.url.path, response.status_code,
                 (time.perf_counter() - start) * 1000)
        return response

    app.add_middleware(Guard, config=config or GuardConfig())  # added last: runs first
    return app
