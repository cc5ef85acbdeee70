"""Retrieval metrics (recall@k, reciprocal rank, nDCG@k) and keyword coverage.

A ranking is a list of document ids (a RAG system's chunk sources, best first); `relevant` is the
set of ids that answer the question. A document counts once, however many of its chunks appear.

>>> ranked = ["faq/a.md", "products/x.md", "faq/a.md", "company/y.md"]
>>> recall_at_k(ranked, {"products/x.md", "company/y.md"}, 2), reciprocal_rank(ranked, {"products/x.md"})
(0.5, 0.5)
>>> round(ndcg_at_k(ranked, {"products/x.md"}, 3), 3)
0.631
>>> keyword_coverage("It launched on 14 June 2016 at $28,500.", ["14 June 2016", "$28,500", "Pigeon"])
0.667
"""

from __future__ import annotations

import math
import re


def recall_at_k(ranked: list[str], relevant: set[str], k: int) -> float:
    """The share of relevant documents among the top k (0 when nothing is relevant)."""
    return len(set(ranked[:k]) & set(relevant)) / len(relevant) if relevant else 0.0


def reciprocal_rank(ranked: list[str], relevant: set[str]) -> float:
    """1 / rank of the first relevant document (0 when none is retrieved)."""
    return next((1.0 / i for i, s in enumerate(ranked, 1) if s in relevant), 0.0)


def ndcg_at_k(ranked: list[str], relevant: set[str], k: int) -> float:
    """nDCG@k with binary gains; a document's later repeats add nothing (no double counting)."""
    seen, dcg = set(), 0.0
    for i, s in enumerate(ranked[:k], 1):
        if s in relevant and s not in seen:
            seen.add(s)
            dcg += 1 / math.log2(i + 1)
    ideal = sum(1 / math.log2(i + 1) for i in range(1, min(len(relevant), k) + 1))
    return dcg / ideal if ideal else 0.0


def _norm(s: str) -> str:
    return re.sub(r"\s+", " ", s.lower().replace(",", "")).strip()


def keyword_coverage(answer: str, keywords: list[str]) -> float:
    """The share of `keywords` found in `answer` (case-insensitive; "28,500" matches "28500")."""
    if not keywords:
        return 1.0
    text = _norm(answer)
    return round(sum(_norm(k) in text for k in keywords) / len(keywords), 3)
