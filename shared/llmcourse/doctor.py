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
    out(f"  .env read from: {settings.env_file() or '(none: set LLMCOURSE_ENV_FILE)'}")
    for p in settings.settings_problems():  # keys, .env encoding and lines, base URLs, Google key names
        out(f"  {'!' if p.fatal else '~'} {p}")
        if p.fatal:
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


# -- `doctor --ping`: one tiny real call per configured provider -----------------------------------
PING_PROMPT = "Reply with the single word OK."


def ping_outcome(exc: Exception | None) -> tuple[str, str]:
    """(outcome, what to do) for a ping that raised `exc` (None: it worked)."""
    from .errors import AuthenticationError, KeyProblem, ProviderError, RateLimitError

    if exc is None:
        return "works", ""
    if isinstance(exc, KeyProblem):
        return "rejected", str(exc)
    if isinstance(exc, AuthenticationError):
        return "rejected", "the provider refused the key: copy it again from the provider's console into .env"
    status = getattr(exc, "status", None)
    text = str(exc).lower()
    if isinstance(exc, RateLimitError) or status == 429 or "quota" in text or "insufficient" in text:
        return "out of quota", "check the account's billing/credit and rate limits, or wait a minute"
    if status == 404 or "model_not_found" in text or "not found" in text and "model" in text:
        return "model not available", ("this key cannot use that model: pick another "
                                       "(`python -m llmcourse models`) or enable it in the provider's console")
    cause = type(exc.__cause__).__name__.lower() if exc.__cause__ else ""
    if status is None and ("connect" in cause or "timeout" in cause or "unreachable" in text):
        return "unreachable", "nothing answered: check the network, a proxy, or the provider's *_BASE_URL in .env"
    return "failed", str(exc)[:200]


def ping(out=print, providers: list[str] | None = None) -> int:
    """One tiny real call (a few tokens) per provider with a key; returns how many did not work."""
    from . import cost
    from .chat import chat
    from .providers import get_provider
    from .registry import aliases, get_model

    names = providers if providers is not None else settings.available_providers()
    if not names:
        out("Ping        no key set: nothing to ping (every notebook runs on the local model).")
        return 0
    out("Ping (one tiny real call per key)")
    failed = 0
    for provider in names:
        model = get_model((aliases().get(provider) or [provider])[0])
        most = cost.estimate(PING_PROMPT, model=model.name, max_tokens=5).max_cost
        p = get_provider(model.provider)
        attempts, p.attempts = p.attempts, 1   # a ping reports; it does not wait out a rate limit
        try:
            reply, exc = chat(PING_PROMPT, model=model.name, max_tokens=5), None
        except Exception as e:  # reported, never raised
            reply, exc = None, e
        finally:
            p.attempts = attempts
        outcome, fix = ping_outcome(exc)
        where = f"{provider:11} {model.name:24}"
        if reply is not None:
            out(f"  {where} works: {reply.text.strip()[:20]!r} in {reply.latency:.1f} s, "
                f"cost ${reply.cost:.6f} (at most ${most:.6f})")
        else:
            failed += 1
            out(f"  {where} {outcome}: {settings.scrub(fix)}")
    return failed
