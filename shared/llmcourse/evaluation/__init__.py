"""Evaluating models and systems (week 4, and week 5's RAG evaluation).

- `metrics`: recall@k, reciprocal rank (MRR), nDCG@k, keyword coverage.
- `judge`: LLM as a judge on `chat(schema=)`: score 1-5 and a reason.

Heavy libraries (torch, pandas) load only inside the functions that need them.
"""

from __future__ import annotations

from .judge import JUDGE_PROMPT, JUDGE_PROMPT_NO_REFERENCE, Judgement, judge, judge_agreement, judge_prompt
from .metrics import keyword_coverage, ndcg_at_k, recall_at_k, reciprocal_rank

__all__ = ["JUDGE_PROMPT", "JUDGE_PROMPT_NO_REFERENCE", "Judgement", "judge", "judge_agreement", "judge_prompt", "keyword_coverage",
           "ndcg_at_k", "recall_at_k", "reciprocal_rank"]
