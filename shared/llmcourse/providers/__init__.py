"""Providers by name: one small module each. `get_provider("openai")` returns a shared instance."""

from __future__ import annotations

from ..types import Request, Response
from .base import Provider

_instances: dict[str, Provider] = {}


def get_provider(name: str) -> Provider:
    """The provider instance for `name` (openai, anthropic, gemini, local, or a compat preset)."""
    if name not in _instances:
        if name == "openai":
            from .openai import OpenAIProvider as cls
            _instances[name] = cls()
        elif name == "anthropic":
            from .anthropic import AnthropicProvider
            _instances[name] = AnthropicProvider()
        elif name == "gemini":
            from .gemini import GeminiProvider
            _instances[name] = GeminiProvider()
        elif name == "local":
            from .local import LocalProvider
            _instances[name] = LocalProvider()
        else:
            from .compat import PRESETS, CompatProvider
            if name not in PRESETS:
                raise ValueError(f"Unknown provider {name!r}; known: openai, anthropic, gemini, local, "
                                 f"{', '.join(PRESETS)}")
            _instances[name] = CompatProvider(name)
    return _instances[name]


def reset() -> None:
    """Forget provider instances (e.g. after changing keys or base URLs)."""
    _instances.clear()


__all__ = ["Provider", "Request", "Response", "get_provider", "reset"]
