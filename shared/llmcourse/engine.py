"""The local engine's public address (it lives in llmcourse.providers.local, with the rest of the
bundled model): `get_engine()`, `torch_engine()`, `prepare()`, `cached_model_dir()`, `gguf_path()`.

`get_engine()` returns the fast backend (ONNX Runtime, the GGUF's 4-bit blocks, batched) unless
LLMCOURSE_LOCAL_BACKEND=torch; `torch_engine()` (or `get_engine("torch")`) is always the plain
transformers model, and either engine's `.model` is that transformers model.

>>> from llmcourse.engine import get_engine
>>> eng = get_engine()
>>> "Paris" in eng.generate([{"role": "user", "content": "What is the capital of France?"}]).text
True
"""

from __future__ import annotations

from .providers.local.engine import (BACKENDS, Generation, LocalEngine, cached_model_dir, default_backend,
                                     get_engine, gguf_path, is_cached, prepare, torch_engine)

__all__ = ["BACKENDS", "Generation", "LocalEngine", "cached_model_dir", "default_backend", "get_engine",
           "gguf_path", "is_cached", "prepare", "torch_engine"]
