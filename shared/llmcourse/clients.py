"""The official SDK clients, keyless when need be: the real service when its key is set,
otherwise the local gateway (started in a background thread) with a dummy key.

>>> from llmcourse.clients import openai_client, model_for
>>> client = openai_client()          # doctest: +SKIP
llmcourse: no OPENAI_API_KEY, so openai_client() talks to the local gateway at http://127.0.0.1:40123/v1 (SmolLM2-135M)
>>> client.chat.completions.create(model=model_for("openai"), messages=[...])   # doctest: +SKIP

Through the gateway every model id is answered by the small local model, so notebook code written
for GPT, Claude or Gemini runs unchanged (with much weaker answers).
"""

from __future__ import annotations

from . import settings

DUMMY_KEY = "local-gateway-no-key-needed"
_PROVIDERS = ("openai", "anthropic", "gemini")


def via_gateway(provider: str) -> bool:
    """True when `provider` ("openai", "anthropic", "gemini") has no usable key here."""
    if provider not in _PROVIDERS:
        raise ValueError(f"Unknown provider {provider!r}: use 'openai', 'anthropic' or 'gemini'.")
    return not settings.has_key(provider)


def _gateway_url(provider: str, who: str, suffix: str = "") -> str:
    from .gateway import start
    from .registry import get_model

    url = start().url + suffix
    names = " or ".join(settings.KEY_NAMES[provider])
    print(f"llmcourse: no {names}, so {who}() talks to the local gateway at {url} "
          f"({get_model('local').api_id}, any model id).")
    return url


def _real(provider: str, who: str) -> str:
    key = settings.api_key(provider)
    print(f"llmcourse: {who}() uses the real {provider} API (key {settings.mask(key)}).")
    return key


def openai_client(**kwargs):
    """`openai.OpenAI`: the real API with OPENAI_API_KEY, else the local gateway."""
    import openai

    if via_gateway("openai"):
        if "base_url" not in kwargs:
            kwargs["base_url"] = _gateway_url("openai", "openai_client", "/v1")
        return openai.OpenAI(api_key=DUMMY_KEY, **kwargs)
    return openai.OpenAI(api_key=_real("openai", "openai_client"), **kwargs)


def anthropic_client(**kwargs):
    """`anthropic.Anthropic`: the real API with ANTHROPIC_API_KEY, else the local gateway."""
    import anthropic

    if via_gateway("anthropic"):
        if "base_url" not in kwargs:
            kwargs["base_url"] = _gateway_url("anthropic", "anthropic_client")
        return anthropic.Anthropic(api_key=DUMMY_KEY, **kwargs)
    return anthropic.Anthropic(api_key=_real("anthropic", "anthropic_client"), **kwargs)


def gemini_client(**kwargs):
    """`google.genai.Client`: the real API with GOOGLE_API_KEY/GEMINI_API_KEY, else the local gateway."""
    from google import genai
    from google.genai import types

    if via_gateway("gemini"):
        opts = kwargs.pop("http_options", None) or types.HttpOptions()
        if isinstance(opts, dict):
            opts = types.HttpOptions(**opts)
        opts.base_url = opts.base_url or _gateway_url("gemini", "gemini_client")
        return genai.Client(api_key=DUMMY_KEY, http_options=opts, **kwargs)
    return genai.Client(api_key=_real("gemini", "gemini_client"), **kwargs)


def model_for(provider: str) -> str:
    """A model id to pass to that provider's client: the registry's cheapest fast model of that
    provider when its key is set, else the local model's id (what the gateway really runs)."""
    from .registry import aliases, get_model, models

    if via_gateway(provider):
        return get_model("local").api_id
    table = models()
    for name in aliases().get("fast", []) + aliases().get(provider, []):
        if table[name].provider == provider:
            return table[name].api_id
    raise ValueError(f"The registry has no {provider} model in its 'fast' or {provider!r} alias.")
