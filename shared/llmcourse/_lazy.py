"""Lazy exports for a package's `__init__`: each public name is imported from its module on first use, so
`import llmcourse` (or `llmcourse.speech`, ...) stays fast and loads no heavy library."""

from __future__ import annotations

import importlib


def lazy_exports(package: str, exports: dict[str, str], namespace: dict):
    """The module-level `__getattr__` and `__dir__` for `package`, whose `exports` map name -> submodule."""

    def __getattr__(name: str):
        if name in exports:
            value = getattr(importlib.import_module(f".{exports[name]}", package), name)
            namespace[name] = value
            return value
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__():
        return sorted(set(namespace) | set(exports))

    return __getattr__, __dir__
