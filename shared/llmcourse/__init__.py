"""llmcourse: the helper package of the LLM engineering course.

>>> from llmcourse import chat
>>> print(chat("What is the capital of France?", model="local"))  # doctest: +SKIP
The capital of France is Paris.

Names are imported lazily so that `import llmcourse` stays fast: torch and transformers load
only when the local model is first used.
"""

from __future__ import annotations

from ._lazy import lazy_exports

__version__ = "0.1.0"

_EXPORTS = {
    "chat": "chat", "Reply": "chat", "Usage": "chat", "embed": "embeddings",
    "get_model": "registry", "models_table": "registry", "ModelInfo": "registry",
    "count_tokens": "tokens", "tokenizer_for": "tokens",
    "ledger": "cost", "set_spend_limit": "cost", "estimate_cost": "cost", "estimate": "cost",
    "mask": "settings", "key_problems": "settings", "available_providers": "settings",
    "get_engine": "engine",
    "Agent": "agents", "Memory": "agents",
    "KnowledgeBase": "rag", "load_documents": "rag", "evaluate_retrieval": "rag",
    "judge": "evaluation", "run_benchmark": "evaluation", "pass_at_k": "evaluation",
    "DatasetSpec": "datagen",
    "trim_history": "history",
    "transcribe": "speech", "speak": "speech",
    "run_python": "sandbox", "SandboxResult": "sandbox",
    "openai_client": "clients", "anthropic_client": "clients", "gemini_client": "clients", "model_for": "clients",
    "tool": "tools", "Tool": "tools", "ToolCall": "tools", "run_tools": "tools", "ToolRun": "tools",
    "StructuredOutputError": "structured",
    "LLMCourseError": "errors", "KeyProblem": "errors", "ProviderError": "errors",
    "AuthenticationError": "errors", "SpendLimitError": "errors", "UnknownModelError": "errors",
}

__all__ = sorted(_EXPORTS)

# `chat` is both a module and the function it defines: bind the function eagerly, or importing the
# submodule `llmcourse.chat` anywhere (the rag package does) would leave the module under that name.
from . import quiet as _quiet  # noqa: E402,F401  (its log filter is in place before a notebook imports transformers)
from .chat import Reply, Usage, chat  # noqa: E402


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
