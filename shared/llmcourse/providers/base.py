"""What every provider implements: one method, `execute(req, response)`, for both modes.

`execute` yields text chunks and fills `response` (usage, tool calls, finish reason, raw) as it
goes; `req.stream` only says whether the caller reads chunks as they come (so an SDK provider uses
its streaming endpoint). `run` adds what every provider shares: retries before the first chunk,
errors that name the fix, and `parsed` for a schema. Cost and the ledger are chat()'s, once.
"""

from __future__ import annotations

from typing import Iterator

from ..errors import AuthenticationError, LLMCourseError, ProviderError, RateLimitError
from ..retry import AUTH, FATAL, RETRY, retry_after, with_retries
from ..types import Request, Response

REQUEST_TIMEOUT = 60.0  # seconds for every provider HTTP call (the SDKs' defaults are 10 minutes or none)


class Provider:
    """A provider: one small class. Subclasses implement `execute` (and `_client_config`,
    `_build_client` when they talk to an SDK)."""

    name = "provider"
    key_help = ""

    def __init__(self):
        self.http_client = None  # tests inject an httpx2.Client with a MockTransport here
        self.attempts = 4
        self.sleep = None
        self._client, self._client_for = None, None

    def client(self):
        """The SDK client for the current key and base URL: built once, reused (one connection pool),
        rebuilt when either changes. Callers keep it in a local while a request runs: Gemini's
        client closes its connection when garbage-collected."""
        config = self._client_config() + (id(self.http_client),)
        if self._client is None or config != self._client_for:
            self._client, self._client_for = self._build_client(*config[:-1]), config
        return self._client

    def _client_config(self) -> tuple:
        """(key, base URL) as settings say now."""
        raise NotImplementedError

    def _build_client(self, key, base_url):
        raise NotImplementedError

    # subclasses -----------------------------------------------------------------------------
    def execute(self, req: Request, response: Response) -> Iterator[str]:
        """Yield the reply's text; set usage, tool_calls, finish_reason (and raw) on `response`."""
        raise NotImplementedError

    def _classify(self, exc: Exception) -> tuple[str, int | None]:
        return classify_http_error(exc)

    def embed(self, model, texts: list[str], *, client=None) -> tuple[list[list[float]], int]:
        """(one vector per text, input tokens) from `model`, with retries and errors that name the fix."""
        try:
            return self._retry(lambda: self._embed(model, texts, client or self.client()))
        except Exception as exc:
            raise self._wrap(exc, Request(model=model, messages=[])) from exc

    def _embed(self, model, texts: list[str], client) -> tuple[list[list[float]], int]:
        raise NotImplementedError(f"The {self.name} provider has no embeddings in llmcourse: use an "
                                  f"OpenAI embedding model or the local embedder.")

    def count_input_tokens(self, req: Request) -> int:
        """The prompt tokens `req` will cost, counted offline (the local model's provider can)."""
        raise NotImplementedError(f"The {self.name} provider cannot count prompt tokens offline: use "
                                  f"llmcourse.count_tokens for an estimate.")

    # public ---------------------------------------------------------------------------------
    def run(self, req: Request, response: Response) -> Iterator[str]:
        """Yield text chunks; retries happen only before the first chunk arrives. At the end a
        schema's `parsed` is set (StructuredOutputError if the reply does not validate)."""
        it, parts = None, []
        try:
            def start():
                gen = self.execute(req, response)
                return gen, next(gen, None)
            it, first = self._retry(start)
            for chunk in ([first] if first is not None else []):
                parts.append(chunk)
                yield chunk
            for chunk in it:
                parts.append(chunk)
                yield chunk
            if req.schema is not None and response.parsed is None:
                response.parsed = req.schema.parse("".join(parts), provider=self.name, model=req.model.api_id)
        except GeneratorExit:
            raise
        except Exception as exc:
            raise self._wrap(exc, req) from exc
        finally:
            if it is not None:
                it.close()  # the reader stopped early: close the HTTP stream / stop local generation

    def _retry(self, fn):
        import time
        return with_retries(fn, classify=self._classify, attempts=self.attempts,
                            sleep=self.sleep or time.sleep, wait_hint=retry_after)

    def _wrap(self, exc: Exception, req: Request) -> Exception:
        if isinstance(exc, (LLMCourseError, TypeError)):  # ours (KeyProblem, ...) or a bad argument: as is
            return exc
        kind, status = self._classify(exc)
        model = req.model.api_id
        detail = _message_of(exc)
        if kind == AUTH:
            return AuthenticationError(
                f"The provider refused the key: {detail}. {self.key_help}", provider=self.name,
                model=model, status=status)
        if status == 429 and out_of_credit(exc):
            return ProviderError(f"The account has no credit left (insufficient_quota): {detail}. Add credit "
                                 f"or a payment method in the {self.name} billing settings; retrying would not "
                                 f"help. model='local' needs none.", provider=self.name, model=model, status=status)
        if status == 429:
            return RateLimitError(f"Still rate-limited after {self.attempts} tries: {detail}. Wait a "
                                  f"minute, or check your plan's limits and credit.",
                                  provider=self.name, model=model, status=status)
        if kind == RETRY:
            return ProviderError(f"Failed after {self.attempts} tries: {detail}", provider=self.name,
                                 model=model, status=status)
        return ProviderError(detail, provider=self.name, model=model, status=status)


def _message_of(exc: Exception) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        err = body.get("error", body)
        if isinstance(err, dict) and err.get("message"):
            return f"{type(exc).__name__}: {err['message']}"
    msg = str(exc) or type(exc).__name__
    return msg if type(exc).__name__ in msg else f"{type(exc).__name__}: {msg}"


def out_of_credit(exc: Exception) -> bool:
    """A 429 that means the account has no credit (OpenAI's `insufficient_quota`), not a rate limit."""
    body = getattr(exc, "body", None)
    err = body.get("error", body) if isinstance(body, dict) else None
    fields = [getattr(exc, "code", None)] + ([err.get("code"), err.get("type")] if isinstance(err, dict) else [])
    return "insufficient_quota" in fields or "insufficient_quota" in str(exc)


def classify_http_error(exc: Exception) -> tuple[str, int | None]:
    """Sort an SDK exception into RETRY (timeouts, 429, 5xx), AUTH (401/403) or FATAL."""
    status = getattr(exc, "status_code", None) or getattr(exc, "code", None)
    if not isinstance(status, int):
        response = getattr(exc, "response", None)
        status = getattr(response, "status_code", None)
    name = type(exc).__name__.lower()
    if isinstance(status, int):
        if status in (401, 403):
            return AUTH, status
        if status == 429 and out_of_credit(exc):  # retrying cannot help: no money left on the account
            return FATAL, status
        if status == 429 or status >= 500 or status == 408:
            return RETRY, status
        return FATAL, status
    if "timeout" in name or "connection" in name or isinstance(exc, (TimeoutError, ConnectionError)):
        return RETRY, None
    return FATAL, None
