"""What every provider module implements: `complete` and `stream` over chat messages."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator

from ..errors import AuthenticationError, LLMCourseError, ProviderError, RateLimitError
from ..registry import ModelInfo
from ..retry import AUTH, FATAL, RETRY, with_retries


@dataclass
class Completion:
    """A provider's answer before llmcourse adds cost and timing."""

    text: str
    input_tokens: int = 0
    output_tokens: int = 0
    raw: object = None
    parsed: object = None
    tool_calls: list = field(default_factory=list)  # tools.ToolCall objects, whatever the provider


@dataclass
class Request:
    """One chat call, provider-neutral. `messages` hold only user/assistant/tool turns."""

    model: ModelInfo
    messages: list[dict]
    system: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    options: dict = field(default_factory=dict)
    schema: object = None  # a structured.SchemaSpec: the reply must be JSON of this schema
    tools: list | None = None  # tools.Tool objects the model may call


class Provider:
    """A provider: one small class. Subclasses implement `_complete`, `_stream`, `_classify`."""

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
    def _complete(self, req: Request) -> Completion:
        raise NotImplementedError

    def _stream(self, req: Request, usage: dict) -> Iterator[str]:
        raise NotImplementedError

    def _classify(self, exc: Exception) -> tuple[str, int | None]:
        return classify_http_error(exc)

    # public ---------------------------------------------------------------------------------
    def complete(self, req: Request) -> Completion:
        try:
            return self._retry(lambda: self._complete(req))
        except Exception as exc:
            raise self._wrap(exc, req) from exc

    def stream(self, req: Request, usage: dict) -> Iterator[str]:
        """Yield text chunks; retries happen only before the first chunk arrives."""
        it = None
        try:
            def start():
                gen = self._stream(req, usage)
                first = next(gen, None)
                return gen, first
            it, first = self._retry(start)
            if first is not None:
                yield first
            yield from it
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
                            sleep=self.sleep or time.sleep)

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
        if status == 429 or status >= 500 or status == 408:
            return RETRY, status
        return FATAL, status
    if "timeout" in name or "connection" in name or isinstance(exc, (TimeoutError, ConnectionError)):
        return RETRY, None
    return FATAL, None
