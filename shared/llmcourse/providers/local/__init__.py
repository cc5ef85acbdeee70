"""The bundled local model: everything about it lives here.

- engine.py       loading the weights (GGUF -> bf16 cache), generation and streaming
- constrained.py  JSON under a schema (xgrammar)
- tools.py        tool calling for a model that has none (the tools in the prompt, a JSON choice)
- provider.py     LocalProvider: the same `execute(req, response)` as every other provider
"""

from __future__ import annotations

from .provider import LocalProvider

__all__ = ["LocalProvider"]
