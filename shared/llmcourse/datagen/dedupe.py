"""Exact and near duplicates, and leakage into an evaluation set.

Two measures of "the same row":
- n-gram overlap: the Jaccard similarity of the rows' word n-gram sets (no model; catches reworded copies
  only when they share runs of words);
- embedding similarity: the cosine of all-MiniLM-L6-v2 vectors (the bundled model, through
  `llmcourse.rag.get_embedder`; catches paraphrases).

>>> jaccard(ngrams("my card was charged twice today"), ngrams("my card was charged twice"))
0.75
>>> kept, dropped = dedupe([{"t": "A b c d"}, {"t": "a  B c d!"}, {"t": "other words here"}], method="ngram")
>>> len(kept), dropped[0]["reason"]
(2, 'exact duplicate of row 0')
"""

from __future__ import annotations

import re

DEFAULT_THRESHOLDS = {"embedding": 0.92, "ngram": 0.6}


def normalize(text: str) -> str:
    """Lower case, punctuation dropped, spaces collapsed: the key for exact duplicates."""
    return " ".join(re.findall(r"\w+", str(text).lower()))


def ngrams(text: str, n: int = 3) -> set[tuple[str, ...]]:
    """The set of word n-grams of `text` (the whole text as one gram when it is shorter than n)."""
    words = normalize(text).split()
    if len(words) < n:
        return {tuple(words)} if words else set()
    return {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}


def jaccard(a: set, b: set) -> float:
    """|a ∩ b| / |a ∪ b| (0 for two empty sets)."""
    return len(a & b) / len(a | b) if a or b else 0.0


def row_text(row: dict, fields: list[str] | None = None) -> str:
    """The text a row is compared on: its free-text fields (all string fields if `fields` is None)."""
    fields = fields or [k for k, v in row.items() if isinstance(v, str)]
    return " ".join(str(row.get(k, "")) for k in fields)


class Deduper:
    """Decides, one row at a time, whether a row repeats one already kept.

    method: "embedding" (MiniLM cosine), "ngram" (word 3-gram Jaccard) or None (exact duplicates only);
    threshold: the similarity at or above which a row counts as a near duplicate.
    """

    def __init__(self, method: str | None = "embedding", threshold: float | None = None, *, n: int = 3,
                 embedder=None):
        if method not in ("embedding", "ngram", None):
            raise ValueError(f"method must be 'embedding', 'ngram' or None, not {method!r}")
        self.method, self.n = method, n
        self.threshold = threshold if threshold is not None else DEFAULT_THRESHOLDS.get(method, 1.0)
        self._embedder, self._keys, self._grams, self._vectors, self.ids = embedder, {}, [], [], []

    def _embed(self, texts: list[str]):
        if self._embedder is None:
            from ..rag import get_embedder

            self._embedder = get_embedder("local")
        return self._embedder.embed_documents(texts)

    def check(self, text: str) -> tuple[int, float] | None:
        """(index of the kept row it repeats, similarity), or None when `text` is new."""
        key = normalize(text)
        if key in self._keys:
            return self._keys[key], 1.0
        if self.method == "ngram" and self._grams:
            g = ngrams(text, self.n)
            sims = [jaccard(g, other) for other in self._grams]
            best = max(range(len(sims)), key=sims.__getitem__)
            if sims[best] >= self.threshold:
                return best, sims[best]
        if self.method == "embedding" and self._vectors:
            import numpy as np

            sims = np.vstack(self._vectors) @ self._embed([text])[0]
            best = int(sims.argmax())
            if sims[best] >= self.threshold:
                return best, float(sims[best])
        return None

    def add(self, text: str, ident=None) -> None:
        """Remember a kept row (ident: what `check` reports for it; default its position)."""
        self._keys.setdefault(normalize(text), len(self.ids))
        if self.method == "ngram":
            self._grams.append(ngrams(text, self.n))
        elif self.method == "embedding":
            self._vectors.append(self._embed([text])[0])
        self.ids.append(len(self.ids) if ident is None else ident)

    def add_many(self, texts: list[str], idents: list | None = None) -> None:
        """`add` for many rows at once (one embedding batch)."""
        if self.method == "embedding" and texts:
            vectors = self._embed(list(texts))
            for i, (t, v) in enumerate(zip(texts, vectors)):
                self._keys.setdefault(normalize(t), len(self.ids))
                self._vectors.append(v)
                self.ids.append(len(self.ids) if idents is None else idents[i])
            return
        for i, t in enumerate(texts):
            self.add(t, None if idents is None else idents[i])

    def ident(self, index: int):
        return self.ids[index]


def dedupe(rows: list[dict], *, fields: list[str] | None = None, method: str | None = "embedding",
           threshold: float | None = None, embedder=None) -> tuple[list[dict], list[dict]]:
    """(kept rows, dropped) for a list of rows; each dropped item is {"row", "duplicate_of", "similarity",
    "reason"}. The first of a group is kept."""
    d = Deduper(method, threshold, embedder=embedder)
    kept, dropped = [], []
    for i, row in enumerate(rows):
        text = row_text(row, fields)
        hit = d.check(text)
        if hit is None:
            d.add(text, i)
            kept.append(row)
            continue
        j, sim = d.ident(hit[0]), hit[1]
        kind = "exact duplicate" if sim >= 1.0 and normalize(text) == normalize(row_text(rows[j], fields)) \
            else f"near duplicate ({method} {sim:.2f})"
        dropped.append({"row": row, "duplicate_of": j, "similarity": round(sim, 4), "reason": f"{kind} of row {j}"})
    return kept, dropped


def duplicate_rate(rows: list[dict], **kw) -> float:
    """The share of rows that `dedupe` would drop."""
    return len(dedupe(rows, **kw)[1]) / len(rows) if rows else 0.0


def leakage(rows: list[dict], eval_texts: list[str], *, fields: list[str] | None = None, n: int = 8,
            threshold: float = 0.5) -> list[dict]:
    """Generated rows that overlap an evaluation set: a row leaks when at least `threshold` of its word
    n-grams (n=8 by default, as in GPT-3's contamination study, which used 13) appear in one evaluation text.

    Returns [{"row_index", "eval_index", "overlap"}], worst first.
    """
    index: dict[tuple, set[int]] = {}
    for j, t in enumerate(eval_texts):
        for g in ngrams(t, n):
            index.setdefault(g, set()).add(j)
    out = []
    for i, row in enumerate(rows):
        grams = ngrams(row_text(row, fields), n)
        if not grams:
            continue
        counts: dict[int, int] = {}
        for g in grams:
            for j in index.get(g, ()):
                counts[j] = counts.get(j, 0) + 1
        if counts:
            j, c = max(counts.items(), key=lambda kv: kv[1])
            if c / len(grams) >= threshold:
                out.append({"row_index": i, "eval_index": j, "overlap": round(c / len(grams), 3)})
    return sorted(out, key=lambda d: -d["overlap"])
