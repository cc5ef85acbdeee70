"""Evaluate a knowledge base: retrieval (MRR, recall@k, nDCG@k) and answers (keywords, LLM judge).

The question set is JSON lines with `id`, `question`, `reference_answer`, `keywords`, `sources`
(paths relative to the knowledge-base folder) and `category`. A document counts as retrieved at k
when any of its chunks is among the top k chunks. Questions without sources ("unanswerable")
are left out of the retrieval metrics.

>>> ranked = ["faq/a.md", "products/x.md", "faq/a.md", "company/y.md"]   # sources of the top chunks
>>> recall_at_k(ranked, {"products/x.md", "company/y.md"}, 2), reciprocal_rank(ranked, {"products/x.md"})
(0.5, 0.5)
>>> round(ndcg_at_k(ranked, {"products/x.md"}, 3), 3)
0.631
>>> keyword_coverage("It launched on 14 June 2016 at $28,500.", ["14 June 2016", "$28,500", "Pigeon"])
0.667
>>> parse_judgement('{"score": 4, "reason": "Correct but terse."}').score
4
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

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


def recall_at_k(ranked_sources: list[str], relevant: set[str], k: int) -> float:
    """The share of relevant documents with a chunk among the top k."""
    return len(set(ranked_sources[:k]) & relevant) / len(relevant) if relevant else 0.0


def reciprocal_rank(ranked_sources: list[str], relevant: set[str]) -> float:
    """1 / rank of the first chunk from a relevant document (0 when none is retrieved)."""
    return next((1.0 / i for i, s in enumerate(ranked_sources, 1) if s in relevant), 0.0)


def ndcg_at_k(ranked_sources: list[str], relevant: set[str], k: int) -> float:
    """nDCG@k with binary gains; a document's later chunks add nothing (no double counting)."""
    seen, dcg = set(), 0.0
    for i, s in enumerate(ranked_sources[:k], 1):
        if s in relevant and s not in seen:
            seen.add(s)
            dcg += 1 / math.log2(i + 1)
    ideal = sum(1 / math.log2(i + 1) for i in range(1, min(len(relevant), k) + 1))
    return dcg / ideal if ideal else 0.0


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


def _norm(s: str) -> str:
    return re.sub(r"\s+", " ", s.lower().replace(",", "")).strip()


def keyword_coverage(answer: str, keywords: list[str]) -> float:
    """The share of `keywords` found in `answer` (case-insensitive; "28,500" matches "28500")."""
    if not keywords:
        return 1.0
    text = _norm(answer)
    return round(sum(_norm(k) in text for k in keywords) / len(keywords), 3)


JUDGE_PROMPT = """You grade answers to questions about a company's knowledge base.

Question: {question}
Reference answer: {reference}
Answer to grade: {answer}

Score the answer from 1 to 5: 5 = correct and complete, 3 = partly correct or incomplete,
1 = wrong, or claims facts that contradict the reference. If the reference says the information is
not available, an answer that says it does not know deserves 5.
Reply with JSON only: {{"score": <1-5>, "reason": "<one sentence>"}}"""


@dataclass
class Judgement:
    """An LLM judge's verdict: `score` 1-5 (None when unparseable), `reason`, the `raw` reply."""

    score: int | None
    reason: str
    raw: str = ""


def parse_judgement(raw: str) -> Judgement:
    """Read the judge's reply: JSON first, then any "score: N" or lone digit 1-5 as a fallback."""
    m = re.search(r"\{.*\}", raw, re.S)
    if m:
        try:
            data = json.loads(m.group(0))
            score = int(data["score"])
            if 1 <= score <= 5:
                return Judgement(score, str(data.get("reason", "")).strip(), raw)
        except (ValueError, KeyError, TypeError):
            pass
    m = re.search(r"score\D{0,5}([1-5])\b", raw, re.I) or re.search(r"\b([1-5])\b", raw)
    if m:
        return Judgement(int(m.group(1)), raw.strip()[:200], raw)
    return Judgement(None, "could not read a 1-5 score from the judge's reply", raw)


def llm_judge(question: str, answer: str, reference: str, *, model: str | None = None) -> Judgement:
    """Ask `model` (any course model) to grade `answer` against `reference` from 1 to 5."""
    from ..chat import chat

    prompt = JUDGE_PROMPT.format(question=question, reference=reference, answer=answer)
    return parse_judgement(chat(prompt, model=model, temperature=0, max_tokens=120).text)


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
