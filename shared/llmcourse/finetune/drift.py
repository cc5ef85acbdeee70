"""Monitoring a deployed model's inputs: are today's tickets still like the training tickets?

Two cheap signals, no model needed:
- PSI (population stability index) of ticket length, over quintiles of the training lengths. The usual
  reading: < 0.1 stable, 0.1-0.25 watch, > 0.25 shifted.
- The share of words never seen in training (out-of-vocabulary rate), against the same rate for the
  validation set (what "normal" looks like).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

PSI_ALERT = 0.25


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z]+", text.lower())


def psi(expected: list[float], actual: list[float], *, bins: int = 5) -> float:
    """Population stability index of `actual` against `expected`, on the expected values' quantile bins."""
    ref = sorted(expected)
    edges = [ref[min(len(ref) - 1, int(len(ref) * k / bins))] for k in range(1, bins)]

    def shares(values):
        counts = [0] * bins
        for v in values:
            counts[sum(v > e for e in edges)] += 1
        return [(c + 0.5) / (len(values) + 0.5 * bins) for c in counts]  # smoothed: no log(0)

    return sum((a - e) * math.log(a / e) for e, a in zip(shares(expected), shares(actual)))


def oov_rate(texts: list[str], vocabulary: set[str]) -> float:
    words = [w for t in texts for w in _words(t)]
    return sum(w not in vocabulary for w in words) / max(len(words), 1)


@dataclass
class DriftReport:
    length_psi: float
    oov: float
    oov_baseline: float

    @property
    def drifted(self) -> bool:
        return self.length_psi > PSI_ALERT or self.oov > 2 * self.oov_baseline + 0.02

    def __str__(self) -> str:
        verdict = "DRIFT: review before trusting the model" if self.drifted else "inputs look like training data"
        return (f"length PSI {self.length_psi:.3f} (alert > {PSI_ALERT}), unseen words {self.oov:.1%} "
                f"(validation: {self.oov_baseline:.1%}) -> {verdict}")


def drift_check(train_texts: list[str], reference_texts: list[str], new_texts: list[str]) -> DriftReport:
    """Compare `new_texts` (e.g. this week's tickets) with the training texts; `reference_texts` (the
    validation set) calibrates what an unseen-word rate looks like for data from the same source."""
    vocab = {w for t in train_texts for w in _words(t)}
    lengths = [len(_words(t)) for t in train_texts]
    return DriftReport(psi(lengths, [len(_words(t)) for t in new_texts]),
                       oov_rate(new_texts, vocab), oov_rate(reference_texts, vocab))
