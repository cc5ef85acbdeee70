"""`python -m llmcourse doctor`: what this environment has, and what to fix.

Exits nonzero only on a fatal problem (a missing core package or local model that cannot load).
"""

from __future__ import annotations

import importlib.metadata as md
import platform
import sys
import urllib.request

from . import settings

PACKAGES = ("llmcourse", "torch", "transformers", "openai", "anthropic", "google-genai", "gradio",
            "chromadb", "sentence-transformers", "langchain-core", "tiktoken", "xgrammar")
CORE = ("torch", "transformers", "openai", "anthropic", "google-genai")


def _version(pkg: str) -> str | None:
    try:
        return md.version(pkg)
    except md.PackageNotFoundError:
        return None


def ollama_status(timeout: float = 0.5) -> str | None:
    """The models an Ollama server lists, or None when nothing answers."""
    base = (settings.env("OLLAMA_BASE_URL") or "http://localhost:11434/v1").rstrip("/")
    try:
        with urllib.request.urlopen(base + "/models", timeout=timeout) as r:
            import json
            names = [m["id"] for m in json.load(r).get("data", [])]
            return ", ".join(names) or "running, no models pulled"
    except Exception:
        return None


def run(out=print) -> int:
    """Print the report; return the exit code (1 on a fatal problem, else 0)."""
    fatal, fixes = [], []
    out(f"Python      {platform.python_version()} ({sys.executable})")
    out("Packages")
    for pkg in PACKAGES:
        v = _version(pkg)
        out(f"  {pkg:22} {v or 'MISSING'}")
        if v is None and pkg in CORE:
            fatal.append(f"{pkg} is not installed: run `make setup` (or pip install -r requirements.txt)")
    out("Keys (from the environment and .env)")
    for provider, names in settings.KEY_NAMES.items():
        for name in names:
            value = settings.env(name)
            state = settings.mask(value) if value else "not set"
            out(f"  {name:22} {state}")
    problems = settings.key_problems()
    for p in problems:
        out(f"  ! {p}")
        fixes.append(str(p))
    if not settings.available_providers():
        out("  No frontier key: every notebook still runs on the local model.")
    out("Local model")
    try:
        from . import engine
        out(f"  GGUF       {engine.gguf_path()}")
        out(f"  cache      {engine.cached_model_dir()} "
            f"({'ready' if engine.is_cached() else 'not built yet: `python -m llmcourse prepare`'})")
        if not engine.is_cached():
            fixes.append("Build the local model cache once: python -m llmcourse prepare")
    except Exception as exc:
        out(f"  ! {exc}")
        fatal.append(str(exc))
    status = ollama_status()
    out(f"Ollama      {status or 'not answering (optional: https://ollama.com, then `ollama serve`)'}")
    try:
        import torch
        cuda = torch.cuda.is_available()
        mps = getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()
        accel = ("CUDA: " + torch.cuda.get_device_name(0)) if cuda else ("MPS (Apple)" if mps else "none (CPU only: fine for this course)")
        out(f"Accelerator {accel}")
    except Exception as exc:  # torch missing is already fatal above
        out(f"Accelerator unknown ({type(exc).__name__})")
    out("")
    if fatal:
        out("FATAL:")
        for f in fatal:
            out(f"  - {f}")
    if fixes:
        out("To fix:")
        for f in fixes:
            out(f"  - {f}")
    if not fatal and not fixes:
        out("All good.")
    return 1 if fatal else 0
