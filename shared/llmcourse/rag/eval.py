"""Evaluate a knowledge base: retrieval (MRR, recall@k, nDCG@k) and answers (keywords, LLM judge).

The question set is JSON lines with `id`, `question`, `reference_answer`, `keywords`, `sources`
(paths relative to the knowledge-base folder) and `category`. A document counts as retrieved at k
when any of its chunks is among the top k chunks. Questions without sources ("unanswerable")
are left out of the retrieval metrics.

The metrics (with worked examples) and the judge live in `llmcourse.evaluation` (week 4 uses them for every kind of
evaluation); this module applies them to a knowledge base.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from ..evaluation.judge import JUDGE_PROMPT, Judgement, judge
from ..evaluation.metrics import keyword_coverage, ndcg_at_k, recall_at_k, reciprocal_rank

__all__ = ["JUDGE_PROMPT", "Judgement", "RetrievalReport", "evaluate_answers", "evaluate_retrieval",
           "keyword_coverage", "llm_judge", "load_questions", "ndcg_at_k", "recall_at_k", "reciprocal_rank"]

DEFAULT_QUESTIONS = Path("week5_rag/evaluation/questions.jsonl")


def load_questions(path: str | Path | None = None) -> list[dict]:
    """The questions of a JSONL file (default: week5_rag/evaluation/questions.jsonl in the repo)."""
    if path is None:
        from ..settings import repo_root

        path = repo_root() / DEFAULT_QUESTIONS
    rows = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as e:
                raise ValueError(f"{path}, line {n}: not valid JSON ({e.msg}); fix that line") from e
    return rows


@dataclass
class RetrievalReport:
    """Mean metrics over the answerable questions, plus one row per question in `rows`."""

    ks: tuple[int, ...]
    mrr: float
    recall: dict[int, float]
    ndcg: dict[int, float]
    rows: list[dict] = field(default_factory=list, repr=False)

    def by_category(self, k: int) -> dict[str, float]:
        """Mean recall@k per question category."""
        cats: dict[str, list[float]] = {}
        for r in self.rows:
            cats.setdefault(r["category"], []).append(r["recall"][k])
        return {c: sum(v) / len(v) for c, v in sorted(cats.items())}

    def misses(self, k: int) -> list[dict]:
        """The questions whose relevant documents were not all in the top k."""
        return [r for r in self.rows if r["recall"][k] < 1]

    def __str__(self) -> str:
        parts = [f"MRR {self.mrr:.3f}"] + [f"recall@{k} {self.recall[k]:.3f}" for k in self.ks] + \
                [f"nDCG@{k} {self.ndcg[k]:.3f}" for k in self.ks]
        return f"{len(self.rows)} questions: " + ", ".join(parts)


def evaluate_retrieval(kb, questions: list[dict] | str | Path | None = None, *, ks=(1, 3, 5),
                       **search_kw) -> RetrievalReport:
    """Search `kb` for every answerable question and average MRR, recall@k and nDCG@k."""
    if not isinstance(questions, list):
        questions = load_questions(questions)
    ks, depth = tuple(ks), max(max(ks), 10)
    answerable = [q for q in questions if q.get("sources")]
    # one batched embedding call for all questions (much faster than one call each)
    vectors = [None] * len(answerable) if search_kw.get("rewrite") else \
        kb.embedder.embed_documents([q["question"] for q in answerable])
    rows = []
    for q, vector in zip(answerable, vectors):
        relevant = set(q["sources"])
        ranked = [h.source for h in kb.search(q["question"], k=depth, vector=vector, **search_kw)]
        rows.append({"id": q.get("id"), "question": q["question"], "category": q.get("category", ""),
                     "relevant": sorted(relevant), "retrieved": list(dict.fromkeys(ranked[:max(ks)])),
                     "rr": reciprocal_rank(ranked, relevant),
                     "recall": {k: recall_at_k(ranked, relevant, k) for k in ks},
                     "ndcg": {k: ndcg_at_k(ranked, relevant, k) for k in ks}})
    if not rows:
        raise ValueError("No question has sources to evaluate retrieval against")
    n = len(rows)
    return RetrievalReport(ks=ks, mrr=sum(r["rr"] for r in rows) / n,
                           recall={k: sum(r["recall"][k] for r in rows) / n for k in ks},
                           ndcg={k: sum(r["ndcg"][k] for r in rows) / n for k in ks}, rows=rows)


def llm_judge(question: str, answer: str, reference: str, *, model: str | None = None) -> Judgement:
    """Ask `model` to grade `answer` against `reference` from 1 to 5 (`llmcourse.evaluation.judge`)."""
    return judge(question, answer, reference, model=model)


def evaluate_answers(kb, questions: list[dict] | None = None, *, model: str | None = "local", k: int = 4,
                     judge: str | None = None, limit: int | None = None) -> list[dict]:
    """Answer each question with `kb.answer`; score keyword coverage (and a judge's 1-5 if given)."""
    questions = load_questions() if questions is None else questions
    rows = []
    for q in questions[:limit]:
        ans = kb.answer(q["question"], model=model, k=k)
        row = {"id": q.get("id"), "category": q.get("category"), "answer": ans.text,
               "sources": ans.sources, "keywords": keyword_coverage(ans.text, q.get("keywords", []))}
        if judge:
            row["judge"] = llm_judge(q["question"], ans.text, q.get("reference_answer", ""), model=judge)
        rows.append(row)
    return rows
