"""The model registry: every model name, price and limit lives in `models.toml`, nowhere else.

>>> from llmcourse.registry import get_model
>>> get_model("local").provider
'local'

Names resolve in this order: a registry name, an alias ("fast", "smart", "local", ...: the
first model in its list whose provider has a key), an API id, or `provider/api-id` for a model
the registry does not list (e.g. "ollama/phi4", "openrouter/qwen/qwen3-32b").
"""

from __future__ import annotations

import difflib
import tomllib
from dataclasses import dataclass, fields
from functools import lru_cache
from importlib import resources

from .errors import UnknownModelError

PROVIDERS = ("openai", "anthropic", "gemini", "cohere", "perplexity", "ollama", "groq",
             "deepseek", "openrouter", "vllm", "local")


@dataclass(frozen=True)
class ModelInfo:
    """One row of the registry. Prices are USD per million tokens."""

    name: str
    provider: str
    api_id: str
    family: str = ""
    context_window: int = 0
    max_output: int = 0
    input_price: float = 0.0
    output_price: float = 0.0
    weights: str = ""
    license: str = ""
    parameters: str = ""
    training_tokens: str = ""
    knowledge_cutoff: str = ""
    release_date: str = ""
    description: str = ""
    kind: str = "chat"
    note: str = ""
    api: str = "chat"        # OpenAI models: "chat" (Chat Completions) or "responses" (the Responses API)

    def cost(self, input_tokens: int, output_tokens: int) -> float:
        """USD for a call with these token counts."""
        return (input_tokens * self.input_price + output_tokens * self.output_price) / 1_000_000


_FIELDS = {f.name for f in fields(ModelInfo)}


@lru_cache(maxsize=1)
def _data() -> dict:
    with resources.files("llmcourse").joinpath("models.toml").open("rb") as f:
        data = tomllib.load(f)
    for name, row in data["models"].items():
        extra = set(row) - _FIELDS
        if extra:
            raise ValueError(f"models.toml: model {name!r} has unknown field(s) {sorted(extra)}")
        if row.get("provider") not in PROVIDERS:
            raise ValueError(f"models.toml: model {name!r} has unknown provider {row.get('provider')!r}")
        if row.get("api", "chat") not in ("chat", "responses"):
            raise ValueError(f"models.toml: model {name!r} has api={row['api']!r}; use 'chat' or 'responses'")
    return data


def checked_on() -> str:
    """The date the registry's ids and prices were last checked."""
    return _data().get("checked", "")


def models() -> dict[str, ModelInfo]:
    """Every model in the registry, by registry name."""
    return {name: ModelInfo(name=name, **row) for name, row in _data()["models"].items()}


def aliases() -> dict[str, list[str]]:
    """Alias -> ordered preference list of registry names."""
    return dict(_data().get("aliases", {}))


def get_model(name: str, *, available=None) -> ModelInfo:
    """Resolve a registry name, alias, API id or `provider/api-id` to a ModelInfo.

    `available(provider) -> bool` decides which alias entry is taken (default: which keys exist).
    """
    if available is None:
        from .settings import has_key as available
    table = models()
    if name in table:
        return table[name]
    al = aliases()
    if name in al:
        for candidate in al[name]:
            if available(table[candidate].provider):
                return table[candidate]
        raise UnknownModelError(f"No provider with a key serves alias {name!r} ({', '.join(al[name])}); "
                                f"set a key in .env or use model='local'.")
    for info in table.values():
        if info.api_id == name:
            return info
    provider, _, api_id = name.partition("/")
    if api_id and provider in PROVIDERS:
        return ModelInfo(name=name, provider=provider, api_id=api_id,
                         description="not in the registry: price unknown (counted as 0)")
    close = difflib.get_close_matches(name, [*table, *al], n=3, cutoff=0.5)
    hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
    raise UnknownModelError(f"Unknown model {name!r}.{hint} See llmcourse.models_table() for the list, "
                            f"or write 'provider/api-id' (e.g. 'ollama/phi4') for one it lacks.")


def models_table(*, provider: str | None = None, kind: str | None = "chat"):
    """The registry as a pandas DataFrame (one row per model), for display in notebooks."""
    import pandas as pd

    rows = [vars(m) for m in models().values()
            if (provider is None or m.provider == provider) and (kind is None or m.kind == kind)]
    cols = ["name", "provider", "family", "weights", "context_window", "max_output", "input_price",
            "output_price", "parameters", "training_tokens", "knowledge_cutoff", "release_date", "license"]
    return pd.DataFrame(rows)[cols].set_index("name")
