"""The keyless gateway: OpenAI, Anthropic and Gemini HTTP APIs answered by the local model.

>>> from llmcourse.gateway import start
>>> with start() as gw:                                                # doctest: +SKIP
...     client = openai.OpenAI(base_url=gw.url + "/v1", api_key="local")

Or from a shell: `python -m llmcourse serve --port 8000`. See backend.py for which model names
are accepted (all answered by the registry's local model) and errors.py for the error shapes.
"""

from __future__ import annotations

from .server import Gateway, running, serve, start


def create_app(config=None):
    """The FastAPI app (for `uvicorn` or tests with starlette's TestClient); `config`: a GuardConfig."""
    from .app import create_app as _create

    return _create(config)


__all__ = ["Gateway", "create_app", "running", "serve", "start"]
