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


MAX_RETRY_AFTER = 60.0   # seconds: a longer Retry-After is not worth waiting for in a notebook


def with_retries(fn: Callable, *, classify: Callable, attempts: int = 4, base: float = 0.5,
                 cap: float = 8.0, sleep: Callable[[float], None] = time.sleep,
                 wait_hint: Callable[[Exception], float | None] = lambda exc: None):
    """Call `fn()`; retry while `classify(exc)` says RETRY, at most `attempts` calls in all.

    `classify(exc) -> (kind, status)`; the last exception is re-raised when retries run out.
    `wait_hint(exc)`: the seconds the server asked to wait (Retry-After), used instead of the backoff.
    """
    delays = backoff_delays(attempts, base=base, cap=cap)
    for attempt in range(attempts):
        try:
            return fn()
        except Exception as exc:
            kind, _ = classify(exc)
            if kind != RETRY or attempt == attempts - 1:
                raise
            asked = wait_hint(exc)
            sleep(delays[attempt] if asked is None else min(asked, MAX_RETRY_AFTER))


def retry_after(exc: Exception) -> float | None:
    """Seconds from an HTTP error's `Retry-After` (seconds or an HTTP date) or `retry-after-ms` header."""
    headers = getattr(getattr(exc, "response", None), "headers", None)
    if not headers:
        return None
    try:
        if headers.get("retry-after-ms"):
            return max(0.0, float(headers["retry-after-ms"]) / 1000)
        value = headers.get("retry-after")
        if not value:
            return None
        try:
            return max(0.0, float(value))
        except ValueError:
            from email.utils import parsedate_to_datetime

            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None
