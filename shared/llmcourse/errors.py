"""The exceptions llmcourse raises. Each one says what happened, to what, and what to do."""

from __future__ import annotations


_scrub = str  # settings installs settings.scrub here (keys live there), so no message carries a key


class LLMCourseError(Exception):
    """Base class of every error raised by llmcourse. Key-shaped strings in its message are masked."""

    def __init__(self, *args):
        super().__init__(*(_scrub(a) if isinstance(a, str) else a for a in args))


class KeyProblem(LLMCourseError):
    """An API key is missing or malformed. The message names the variable and the fix."""


class UnknownModelError(LLMCourseError, KeyError):
    """A model name or alias is not in the registry."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class SpendLimitError(LLMCourseError):
    """A call would take this session's spend past the limit set with `set_spend_limit`."""


class ProviderError(LLMCourseError):
    """A provider call failed. `provider`, `model` and `status` say where and how."""

    def __init__(self, message: str, *, provider: str, model: str, status: int | None = None):
        self.provider, self.model, self.status = provider, model, status
        where = f"[{provider}/{model}]"
        code = f" (HTTP {status})" if status else ""
        super().__init__(f"{where}{code} {message}")


class AuthenticationError(ProviderError):
    """The provider refused the key (HTTP 401/403)."""


class RateLimitError(ProviderError):
    """The provider kept answering 429 after every retry."""


class ContextWindowError(LLMCourseError):
    """A prompt (plus the tokens asked for) does not fit the model's context window."""

    def __init__(self, message: str, *, prompt_tokens: int, window: int):
        super().__init__(message)
        self.prompt_tokens, self.window = prompt_tokens, window
