"""The local engine's public address (it lives in llmcourse.providers.local.engine, with the rest
of the bundled model): `get_engine()`, `prepare()`, `cached_model_dir()`, `gguf_path()`.

>>> from llmcourse.engine import get_engine
>>> eng = get_engine()
>>> "Paris" in eng.generate([{"role": "user", "content": "What is the capital of France?"}]).text
True
"""

from __future__ import annotations

from .providers.local.engine import (Generation, LocalEngine, cached_model_dir, get_engine, gguf_path,
                                     is_cached, prepare)

__all__ = ["Generation", "LocalEngine", "cached_model_dir", "get_engine", "gguf_path", "is_cached", "prepare"]
