"""Embeddings from a provider, with what every call gets: retries, the ledger, the spend limit.

>>> from llmcourse.embeddings import embed
>>> result = embed(["a robot that carries totes"], model="text-embedding-3-small")   # doctest: +SKIP
>>> len(result.vectors[0]), result.usage.input_tokens, result.cost                   # doctest: +SKIP
(1536, 6, 1.2e-07)

The offline embedder (all-MiniLM-L6-v2) is not a provider call: see llmcourse.rag.embed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .cost import ledger, most_a_call_costs
from .providers import get_provider
from .registry import ModelInfo, get_model
from .types import Usage


@dataclass
class Embeddings:
    """One vector per input text, in order; the tokens and USD it took."""

    vectors: list[list[float]]
    model: str
    usage: Usage = field(default_factory=Usage)
    cost: float = 0.0


def embedding_model(name: str) -> ModelInfo:
    """A registry name, or any OpenAI embedding id (as "openai/<id>" when the registry lacks it)."""
    from .errors import UnknownModelError

    try:
        return get_model(name)
    except UnknownModelError:
        if "/" in name:
            raise
        return get_model(f"openai/{name}")


def embed(texts: list[str], *, model: str = "embedding", client=None) -> Embeddings:
    """Embed `texts` with `model` (default: the registry's "embedding" alias). `client`: an SDK client
    to use instead of the provider's own (tests)."""
    info = embedding_model(model)
    texts = list(texts)
    if ledger.limit is not None and info.input_price:
        ledger.check(info, most_a_call_costs(info, [{"role": "user", "content": t} for t in texts], None, 0))
    vectors, n_in = get_provider(info.provider).embed(info, texts, client=client)
    usage = Usage(n_in, 0)
    cost = info.cost(n_in, 0)
    ledger.record(provider=info.provider, model=info.name, input_tokens=n_in, output_tokens=0, cost=cost)
    return Embeddings(vectors, info.name, usage, cost)
