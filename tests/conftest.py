"""Shared test set-up: offline, no keys, real local model."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ["LLMCOURSE_IGNORE_DOTENV"] = "1"

import pytest  # noqa: E402

KEY_VARS = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GOOGLE_API_KEY", "GEMINI_API_KEY", "DEEPSEEK_API_KEY",
            "GROQ_API_KEY", "PERPLEXITY_API_KEY", "OPENROUTER_API_KEY", "COHERE_API_KEY",
            "OPENAI_BASE_URL", "ANTHROPIC_BASE_URL", "GEMINI_BASE_URL", "GOOGLE_GEMINI_BASE_URL",
            "DEEPSEEK_BASE_URL", "GROQ_BASE_URL", "PERPLEXITY_BASE_URL", "OPENROUTER_BASE_URL",
            "COHERE_BASE_URL", "OLLAMA_BASE_URL", "VLLM_BASE_URL", "LLMCOURSE_MODEL", "LLMCOURSE_SPEND_LIMIT",
            "LLMCOURSE_ENV_FILE")


@pytest.fixture(autouse=True)
def no_keys(monkeypatch):
    """Every test starts with no keys and fresh provider instances; set what a test needs."""
    for name in KEY_VARS:
        monkeypatch.delenv(name, raising=False)
    from llmcourse import providers, settings
    settings.reload()
    providers.reset()
    yield
    providers.reset()


@pytest.fixture(scope="session")
def engine():
    """The real local engine (loaded once per test session)."""
    from llmcourse.engine import get_engine
    return get_engine()
