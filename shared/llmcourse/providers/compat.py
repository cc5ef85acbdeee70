"""OpenAI-compatible endpoints by base URL, with presets.

Each preset is the OpenAI provider with another base URL and key. Override a URL with
`<NAME>_BASE_URL` in .env (e.g. OLLAMA_BASE_URL=http://gpu-box:11434/v1).
"""

from __future__ import annotations

from .. import settings
from .openai import OpenAIProvider

# name -> (default base URL, provider whose key it needs or None, help shown on auth failure)
PRESETS: dict[str, tuple[str, str | None, str]] = {
    "ollama": ("http://localhost:11434/v1", None,
               "Ollama needs no key. Is it running? Start it with `ollama serve` and `ollama pull <model>`."),
    "vllm": ("http://localhost:8000/v1", None, "Start vLLM with `vllm serve <model>`."),
    "deepseek": ("https://api.deepseek.com/v1", "deepseek", "Check DEEPSEEK_API_KEY in .env."),
    "groq": ("https://api.groq.com/openai/v1", "groq", "Check GROQ_API_KEY in .env."),
    "perplexity": ("https://api.perplexity.ai", "perplexity", "Check PERPLEXITY_API_KEY in .env."),
    "openrouter": ("https://openrouter.ai/api/v1", "openrouter", "Check OPENROUTER_API_KEY in .env."),
    "cohere": ("https://api.cohere.ai/compatibility/v1", "cohere", "Check COHERE_API_KEY in .env."),
}


class CompatProvider(OpenAIProvider):
    """An OpenAI-compatible endpoint: a preset name, or any base URL."""

    max_tokens_param = "max_tokens"

    def __init__(self, name: str, base_url: str | None = None, key_provider: str | None = None,
                 key_help: str = ""):
        super().__init__()
        self.name, self._default_url = name, None
        if name in PRESETS:
            self._default_url, key_provider, key_help = PRESETS[name]
        elif not base_url:
            raise ValueError(f"Provider {name!r} needs a base_url (e.g. http://localhost:8000/v1)")
        self._fixed_url, self.key_provider, self.key_help = base_url, key_provider, key_help

    @property
    def base_url(self) -> str:
        """The caller's base_url, else `<NAME>_BASE_URL` from .env/environment (read on every call),
        else the preset's default."""
        return self._fixed_url or settings.env(f"{self.name.upper()}_BASE_URL") or self._default_url

    def _wrap(self, exc, req):
        err = super()._wrap(exc, req)
        if "connection" in type(exc).__name__.lower() or "Connection" in str(err):
            err.args = (f"{err.args[0]} (nothing answered at {self.base_url}). {self.key_help}",)
        return err
