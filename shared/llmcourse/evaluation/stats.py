"""Accuracy with a confidence interval, and the bootstrap.

A benchmark score is an estimate from a sample of questions: 30 right out of 100 is "30%, and
with 95% confidence somewhere between 22% and 40%". The Wilson score interval behaves well near
0 and 1 and for small n, unlike the textbook p ± 1.96·sqrt(p(1-p)/n).

>>> acc = Accuracy(correct=30, n=100)
>>> str(acc)
'30.0% (95% CI 21.9-39.6%, n=100)'
>>> round(acc.half_width * 100, 1)
8.8
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Callable, Sequence

Z95 = 1.959963984540054


def wilson_interval(correct: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval for a proportion `correct / n` (95% by default)."""
    if n <= 0:
        raise ValueError("wilson_interval needs n > 0: there were no scored items")
    p = correct / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class Accuracy:
    """`correct` out of `n`, with `value`, its 95% Wilson interval (`low`, `high`) and `half_width`."""

    correct: int
    n: int

    @property
    def value(self) -> float:
        return self.correct / self.n if self.n else float("nan")

    @property
    def low(self) -> float:
        return wilson_interval(self.correct, self.n)[0]

    @property
    def high(self) -> float:
        return wilson_interval(self.correct, self.n)[1]

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2

    def __str__(self) -> str:
        return f"{self.value:.1%} (95% CI {self.low * 100:.1f}-{self.high * 100:.1f}%, n={self.n})"

    def __float__(self) -> float:
        return self.value


def bootstrap(data: Sequence, statistic: Callable[[list], object], *, rounds: int = 200,
              seed: int = 0) -> list:
    """`statistic` of `rounds` resamples (with replacement, same size) of `data`."""
    rng = random.Random(seed)
    data = list(data)
    return [statistic([data[rng.randrange(len(data))] for _ in data]) for _ in range(rounds)]


def percentile_interval(values: Sequence[float], level: float = 0.95) -> tuple[float, float]:
    """The central `level` interval of bootstrap values (percentile method)."""
    xs = sorted(values)
    if not xs:
        raise ValueError("percentile_interval needs at least one value")
    lo_i = int(math.floor((1 - level) / 2 * (len(xs) - 1)))
    hi_i = int(math.ceil((1 + level) / 2 * (len(xs) - 1)))
    return xs[lo_i], xs[hi_i]
