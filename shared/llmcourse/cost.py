"""Cost: estimate a call from the registry, keep a per-session ledger, enforce a spend limit.

>>> from llmcourse.cost import Ledger
>>> book = Ledger()
>>> book.record(provider="local", model="smollm2-135m", input_tokens=10, output_tokens=5, cost=0.0)
>>> book.total
0.0
"""

from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass

from .errors import SpendLimitError
from .registry import ModelInfo


def estimate_cost(model: ModelInfo, input_tokens: int, output_tokens: int) -> float:
    """USD for a call with these token counts, from the registry's prices."""
    return model.cost(input_tokens, output_tokens)


@dataclass
class Estimate:
    """What a call will cost at most, before it is sent."""

    model: str
    input_tokens: int
    max_output_tokens: int
    max_cost: float

    def __str__(self) -> str:
        return (f"{self.model}: {self.input_tokens} input tokens + up to {self.max_output_tokens} output "
                f"tokens = at most ${self.max_cost:.6f}")


def estimate(prompt_or_messages, *, model: str, system: str | None = None,
             max_tokens: int | None = None) -> Estimate:
    """The most a call can cost: prompt tokens counted offline, output at `max_tokens` (or the model's max).

    >>> estimate("Hello!", model="local", max_tokens=100).max_cost
    0.0
    """
    from .registry import get_model
    from .types import normalize_messages

    info = get_model(model)
    turns, system = normalize_messages(prompt_or_messages, system)
    return _estimate(info, turns, system, max_tokens)


def most_a_call_costs(model: ModelInfo, turns: list[dict], system: str | None, max_tokens: int | None) -> float:
    """`estimate(...).max_cost` for a model and messages already resolved (what chat() checks)."""
    return _estimate(model, turns, system, max_tokens).max_cost


def _estimate(info: ModelInfo, turns: list[dict], system: str | None, max_tokens: int | None) -> Estimate:
    from .tokens import count_tokens

    n_in = count_tokens(([{"content": system}] if system else []) + turns, info.name)
    n_out = max_tokens or info.max_output or 4096
    return Estimate(info.name, n_in, n_out, info.cost(n_in, n_out))


@dataclass
class Entry:
    time: float
    provider: str
    model: str
    input_tokens: int
    output_tokens: int
    cost: float


class Ledger:
    """Every call of this session: tokens and USD. Displays as a table in notebooks."""

    def __init__(self, limit: float | None = None):
        self.entries: list[Entry] = []
        self.limit = limit
        self._lock = threading.Lock()

    def record(self, *, provider: str, model: str, input_tokens: int, output_tokens: int,
               cost: float) -> None:
        with self._lock:
            self.entries.append(Entry(time.time(), provider, model, input_tokens, output_tokens, cost))

    @property
    def total(self) -> float:
        return sum(e.cost for e in self.entries)

    def check(self, model: ModelInfo, estimated_cost: float) -> None:
        """Raise SpendLimitError if `estimated_cost` would take the session past the limit."""
        if self.limit is not None and self.total + estimated_cost > self.limit:
            raise SpendLimitError(
                f"This call to {model.name} could cost up to ${estimated_cost:.4f}, and this session "
                f"has spent ${self.total:.4f} of its ${self.limit:.2f} limit. Raise it with "
                f"llmcourse.set_spend_limit(...) or use model='local' (free).")

    def summary(self):
        """A pandas DataFrame: calls, tokens and USD per model."""
        import pandas as pd

        df = pd.DataFrame([asdict(e) for e in self.entries],
                          columns=["time", "provider", "model", "input_tokens", "output_tokens", "cost"])
        out = df.groupby(["provider", "model"]).agg(
            calls=("cost", "size"), input_tokens=("input_tokens", "sum"),
            output_tokens=("output_tokens", "sum"), cost=("cost", "sum"))
        return out

    def __repr__(self) -> str:
        lim = f" of ${self.limit:.2f}" if self.limit is not None else ""
        return f"Ledger({len(self.entries)} calls, ${self.total:.4f}{lim})"

    def _repr_html_(self) -> str:
        return f"<b>{self!r}</b>" + (self.summary().to_html() if self.entries else "")


def _initial_limit() -> float | None:
    from .settings import env

    raw = env("LLMCOURSE_SPEND_LIMIT")
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        import warnings

        warnings.warn(f"LLMCOURSE_SPEND_LIMIT={raw!r} is not a number of USD (e.g. 0.50): no limit set")
        return None


ledger = Ledger(limit=_initial_limit())


def set_spend_limit(usd: float | None) -> None:
    """Refuse any call that would take this session's spend past `usd` (None: no limit)."""
    if usd is not None and usd < 0:
        raise ValueError("A spend limit must be >= 0 USD")
    ledger.limit = usd
