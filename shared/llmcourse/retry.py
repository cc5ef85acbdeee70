"""Bounded exponential backoff with full jitter for provider calls.

>>> calls = []
>>> def flaky():
...     calls.append(1)
...     if len(calls) < 3:
...         raise TimeoutError("slow")
...     return "ok"
>>> with_retries(flaky, classify=lambda e: ("retry", None), sleep=lambda s: None)
'ok'
"""

from __future__ import annotations

import random
import time
from typing import Callable

RETRY, AUTH, FATAL = "retry", "auth", "fatal"


def backoff_delays(attempts: int, *, base: float = 0.5, cap: float = 8.0, rng=random.random):
    """The sleep before each retry: uniform in [0, min(cap, base * 2**i)] (full jitter)."""
    return [rng() * min(cap, base * 2 ** i) for i in range(attempts - 1)]


def with_retries(fn: Callable, *, classify: Callable, attempts: int = 4, base: float = 0.5,
                 cap: float = 8.0, sleep: Callable[[float], None] = time.sleep):
    """Call `fn()`; retry while `classify(exc)` says RETRY, at most `attempts` calls in all.

    `classify(exc) -> (kind, status)`; the last exception is re-raised when retries run out.
    """
    delays = backoff_delays(attempts, base=base, cap=cap)
    for attempt in range(attempts):
        try:
            return fn()
        except Exception as exc:
            kind, _ = classify(exc)
            if kind != RETRY or attempt == attempts - 1:
                raise
            sleep(delays[attempt])
