"""Retrieval: top-k by cosine similarity, a similarity threshold, MMR, query rewriting.

>>> kb = KnowledgeBase(tmp)                                               # doctest: +SKIP
>>> [h.source for h in kb.search("Who leads engineering?", k=3)]          # doctest: +SKIP
['company/leadership-and-organization.md', 'employees/...', ...]
>>> kb.search("robot payload", k=4, mmr=True, threshold=0.3)              # doctest: +SKIP

MMR (maximal marginal relevance) picks, from the `fetch_k` nearest chunks, one at a time the chunk
that is most similar to the query and least similar to those already picked:

>>> import numpy as np
>>> q = np.array([1.0, 0.0])
>>> cands = np.array([[0.9, 0.436], [0.88, 0.475], [0.85, -0.527]])
>>> [int(i) for i in np.argsort(-(cands @ q))[:2]]    # plain top 2: two near-duplicates
[0, 1]
>>> mmr_select(q, cands, k=2, lambda_mult=0.5)        # MMR swaps the duplicate for variety
[0, 2]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

REWRITE_PROMPT = (
    "Rewrite the question below as a short search query for a company knowledge base: keep the "
    "names, products and numbers, drop filler words. Reply with the query only.\n\nQuestion: {question}")


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk: `text`, `source`, `score` (cosine similarity, higher is closer), ..."""

    id: str
    text: str
    source: str
    score: float
    doc_type: str = ""
    title: str = ""
    chunk_index: int = 0

    def __repr__(self) -> str:
        return f"<Hit {self.score:.3f} {self.source}#{self.chunk_index}: {self.text[:50]!r}>"


def mmr_select(query: np.ndarray, candidates: np.ndarray, *, k: int, lambda_mult: float = 0.5) -> list[int]:
    """Indices of `k` candidates chosen by MMR (vectors L2-normalised; 1 = relevance only)."""
    if len(candidates) == 0:
        return []
    cands = candidates / np.maximum(np.linalg.norm(candidates, axis=1, keepdims=True), 1e-12)
    q = query / max(np.linalg.norm(query), 1e-12)
    relevance = cands @ q
    pairwise = cands @ cands.T
    chosen = [int(np.argmax(relevance))]
    while len(chosen) < min(k, len(cands)):
        redundancy = pairwise[:, chosen].max(axis=1)
        score = lambda_mult * relevance - (1 - lambda_mult) * redundancy
        score[chosen] = -np.inf
        chosen.append(int(np.argmax(score)))
    return chosen


def rewrite_query(question: str, *, model: str | None = "local") -> str:
    """A search query written by `model` from `question` (falls back to the question if empty)."""
    from ..chat import chat

    text = chat(REWRITE_PROMPT.format(question=question), model=model, temperature=0, max_tokens=32).text
    return clean_rewrite(text, question)


def clean_rewrite(text: str | None, question: str) -> str:
    """The first non-empty line of a model's rewrite, unquoted; the original question if there is none."""
    for line in (text or "").splitlines():
        line = line.strip().strip("\"'`").strip()
        if line.lower().startswith(("query:", "search query:")):
            line = line.split(":", 1)[1].strip().strip("\"'`").strip()
        if any(ch.isalnum() for ch in line):
            return line
    return question


def search(kb, query: str, *, k: int = 4, threshold: float | None = None, mmr: bool = False,
           fetch_k: int = 20, lambda_mult: float = 0.5, rewrite: str | None = None,
           where: dict | None = None, vector: np.ndarray | None = None) -> list[Hit]:
    """The `k` chunks of `kb` nearest to `query`, best first.

    threshold: drop hits whose cosine similarity is below it (MiniLM: ~0.3 is loosely related).
    mmr: diversify among the `fetch_k` nearest with maximal marginal relevance (`lambda_mult`).
    rewrite: a model name; that model first rewrites the query for search (`rewrite_query`).
    where: a Chroma metadata filter, e.g. {"doc_type": "products"}.
    vector: the query's embedding when already computed (evaluation embeds all questions at once).
    """
    total = kb.count()
    if total == 0 or k <= 0:
        return []
    if rewrite:
        query, vector = rewrite_query(query, model=rewrite), None
    qvec = kb.embedder.embed_query(query) if vector is None else np.asarray(vector, dtype=np.float32)
    n = min(max(fetch_k, k) if mmr else k, total)
    res = kb.collection.query(query_embeddings=[qvec], n_results=n, where=where,
                              include=["documents", "metadatas", "distances"] + (["embeddings"] if mmr else []))
    ids, docs, metas = res["ids"][0], res["documents"][0], res["metadatas"][0]
    scores = [1.0 - d for d in res["distances"][0]]  # cosine space: distance = 1 - similarity
    order = list(range(len(ids)))
    if mmr and ids:
        order = mmr_select(qvec, np.asarray(res["embeddings"][0], dtype=np.float32), k=k, lambda_mult=lambda_mult)
    hits = [Hit(id=ids[i], text=docs[i], source=metas[i]["source"], score=float(scores[i]),
                doc_type=metas[i].get("doc_type", ""), title=metas[i].get("title", ""),
                chunk_index=int(metas[i].get("chunk_index", 0))) for i in order[:k]]
    if threshold is not None:
        hits = [h for h in hits if h.score >= threshold]
    return hits
