"""Cost: estimate a call from the registry, keep a per-session ledger, enforce a spend limit.

The spend limit fails closed: each paid call reserves the most it can cost under the ledger's lock
before it is sent (so two threads cannot both slip under the limit), a paid model with no price in
the registry is refused while a limit is set, an interrupted stream is recorded with the tokens it
used, and a limit that is not a number is an error, never "no limit".

>>> from llmcourse.cost import Ledger
>>> book = Ledger()
>>> book.record(provider="local", model="smollm2-135m", input_tokens=10, output_tokens=5, cost=0.0)
>>> book.total
0.0
"""

from __future__ import annotations

import math
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


FREE_PROVIDERS = ("local", "ollama", "vllm")  # run on your own machine: nothing to pay


def unpriced(model: ModelInfo) -> bool:
    """A paid provider's model that the registry has no row (so no price) for: `provider/api-id`."""
    from .registry import models

    return model.provider not in FREE_PROVIDERS and model.name not in models()


@dataclass
class Entry:
    time: float
    provider: str
    model: str
    input_tokens: int
    output_tokens: int
    cost: float
    estimated: bool = False  # tokens counted by us (an interrupted stream), not reported by the provider


@dataclass
class Reservation:
    """The most one call in flight can cost, held against the limit until it is recorded."""

    model: str
    max_cost: float


class Ledger:
    """Every call of this session: tokens and USD. Displays as a table in notebooks."""

    def __init__(self, limit: float | None = None):
        self.entries: list[Entry] = []
        self._lock = threading.Lock()
        self.reserved = 0.0
        self.limit_error: str | None = None  # a bad LLMCOURSE_SPEND_LIMIT: paid calls are refused
        self.limit = limit

    @property
    def limit(self) -> float | None:
        return self._limit

    @limit.setter
    def limit(self, usd: float | None) -> None:
        self._limit = check_limit(usd)
        self.limit_error = None

    def record(self, *, provider: str, model: str, input_tokens: int, output_tokens: int,
               cost: float, estimated: bool = False) -> None:
        with self._lock:
            self.entries.append(Entry(time.time(), provider, model, input_tokens, output_tokens, cost, estimated))

    @property
    def total(self) -> float:
        return sum(e.cost for e in self.entries)

    def check(self, model: ModelInfo, estimated_cost: float) -> None:
        """Raise SpendLimitError if `estimated_cost` would take the session past the limit (calls in
        flight included), if the limit setting is invalid, or if a paid model has no price."""
        self._refuse_unchecked(model)
        if model.provider in FREE_PROVIDERS:  # costs nothing, whatever this session has spent already
            return
        if self.limit is not None and self.total + self.reserved + estimated_cost > self.limit:
            held = f" (and calls in flight hold ${self.reserved:.4f})" if self.reserved else ""
            raise SpendLimitError(
                f"This call to {model.name} could cost up to ${estimated_cost:.4f}, and this session "
                f"has spent ${self.total:.4f} of its ${self.limit:.2f} limit{held}. Raise it with "
                f"llmcourse.set_spend_limit(...) or use model='local' (free).")

    def _refuse_unchecked(self, model: ModelInfo) -> None:
        if model.provider in FREE_PROVIDERS:
            return
        if self.limit_error:
            raise SpendLimitError(self.limit_error)
        if self.limit is not None and unpriced(model):
            raise SpendLimitError(
                f"{model.name} has no price in the registry, so a spend limit cannot be kept: add it to "
                f"shared/llmcourse/models.toml with input_price and output_price (USD per million "
                f"tokens, from the provider's pricing page), or lift the limit with "
                f"llmcourse.set_spend_limit(None).")

    def reserve(self, model: ModelInfo, max_cost: float) -> Reservation | None:
        """Check and hold `max_cost` in one step under the lock (None: nothing to hold)."""
        self._refuse_unchecked(model)
        if self.limit is None or model.provider in FREE_PROVIDERS:
            return None
        with self._lock:
            self.check(model, max_cost)
            self.reserved += max_cost
        return Reservation(model.name, max_cost)

    def release(self, hold: Reservation | None) -> None:
        """Give back a reservation (after the call was recorded, or when it failed)."""
        if hold is not None:
            with self._lock:
                self.reserved = max(0.0, self.reserved - hold.max_cost)

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


def check_limit(usd) -> float | None:
    """`usd` as a limit: a finite number >= 0, or None for no limit; anything else is a ValueError."""
    if usd is None:
        return None
    if isinstance(usd, bool) or not isinstance(usd, (int, float)) or not math.isfinite(usd) or usd < 0:
        raise ValueError(f"A spend limit must be a finite number of USD >= 0 (e.g. 0.50), or None for no "
                         f"limit; got {usd!r}")
    return float(usd)


def parse_limit(raw: str | None) -> float | None:
    """LLMCOURSE_SPEND_LIMIT's text as a limit; ValueError naming the fix when it is not a number."""
    if raw is None or not raw.strip():
        return None
    try:
        return check_limit(float(raw.strip()))
    except ValueError:
        raise ValueError(f"LLMCOURSE_SPEND_LIMIT={raw!r} is not a number of USD: write it like "
                         f"LLMCOURSE_SPEND_LIMIT=5 or 0.50 (no $ sign, not nan/inf), in .env or the "
                         f"environment. Until then every paid call is refused.") from None


def _initial_ledger() -> Ledger:
    from .settings import env

    book = Ledger()
    try:
        book.limit = parse_limit(env("LLMCOURSE_SPEND_LIMIT"))
    except ValueError as exc:  # fail closed: paid calls refused, the local model still works
        book.limit_error = str(exc)
    return book


ledger = _initial_ledger()


def set_spend_limit(usd: float | None) -> None:
    """Refuse any call that would take this session's spend past `usd` (None: no limit)."""
    ledger.limit = usd
