"""Training-data leakage: how much of a benchmark item appears, word for word, in a text?

GPT-3's and GPT-4's reports flagged an item as contaminated when it shares long n-grams with the
training data (13-grams for GPT-3, 50-character substrings for GPT-4). We do the same on word
n-grams: the share of an item's n-grams found in a corpus.

>>> corpus = "the quick brown fox jumps over the lazy dog every single morning"
>>> overlap("a quick brown fox jumps over the lazy dog", corpus, n=4)
0.833
"""

from __future__ import annotations

import re


def ngrams(text: str, n: int) -> set[tuple[str, ...]]:
    """The word n-grams of `text` (lower-cased, punctuation dropped)."""
    words = re.findall(r"[a-z0-9]+", text.lower())
    return {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}


def overlap(item: str, corpus: str | set, *, n: int = 8) -> float:
    """The share of `item`'s n-grams that occur in `corpus` (a text, or `ngrams(text, n)` computed once)."""
    grams = ngrams(item, n)
    if not grams:
        return 0.0
    pool = corpus if isinstance(corpus, set) else ngrams(corpus, n)
    return round(len(grams & pool) / len(grams), 3)


def contaminated(items: list[str], corpus: str, *, n: int = 8, threshold: float = 0.5) -> list[int]:
    """Indices of the items whose n-gram overlap with `corpus` is at least `threshold`."""
    pool = ngrams(corpus, n)
    return [i for i, it in enumerate(items) if overlap(it, pool, n=n) >= threshold]
