"""llmcourse.evaluation: retrieval metrics and the LLM judge (metrics by hand, the judge on chat(schema=))."""

from __future__ import annotations

import json
import math

import pytest

from llmcourse import evaluation
from llmcourse.evaluation import (Judgement, judge, judge_prompt, keyword_coverage, ndcg_at_k, recall_at_k,
                                  reciprocal_rank)

from http_replay import Replay


def test_retrieval_metrics_on_a_hand_made_ranking():
    ranked = ["a", "b", "a", "c", "d"]
    assert recall_at_k(ranked, {"b", "c"}, 1) == 0 and recall_at_k(ranked, {"b", "c"}, 2) == 0.5
    assert recall_at_k(ranked, {"b", "c"}, 4) == 1 and recall_at_k(ranked, set(), 3) == 0
    assert reciprocal_rank(ranked, {"c", "d"}) == 0.25 and reciprocal_rank(ranked, {"z"}) == 0
    # nDCG by hand: relevant b (rank 2) and d (rank 5), k=5; ideal puts them at ranks 1 and 2
    dcg = 1 / math.log2(3) + 1 / math.log2(6)
    idcg = 1 / math.log2(2) + 1 / math.log2(3)
    assert ndcg_at_k(ranked, {"b", "d"}, 5) == pytest.approx(dcg / idcg)
    assert ndcg_at_k(ranked, {"a"}, 3) == 1.0          # the repeat of "a" at rank 3 adds nothing
    assert ndcg_at_k(["x", "y"], {"y", "x"}, 2) == pytest.approx(1.0)
    assert keyword_coverage("Payload: 60 KG, price $28500", ["60 kg", "$28,500", "Heron"]) == 0.667


def test_judge_prompt_with_and_without_a_reference():
    with_ref = judge_prompt("Capital of France?", "Paris", "Paris")
    assert "Reference answer: Paris" in with_ref and "Answer to grade: Paris" in with_ref
    assert "Reference" not in judge_prompt("Capital of France?", "Paris")
    own = judge_prompt("Q?", "A", "R", template="{question}|{answer}|{reference}")
    assert own == "Q?|A|R"


def _openai_reply(content):
    return {"id": "c1", "object": "chat.completion", "created": 1, "model": "m",
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}],
            "usage": {"prompt_tokens": 120, "completion_tokens": 15, "total_tokens": 135}}


def test_judge_asks_a_frontier_model_for_the_grade_schema(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-" + "T" * 24)
    rp = Replay((200, _openai_reply('{"score": 2, "reason": "Names the wrong city."}'))).install("openai")
    v = judge("What is the capital of France?", "Lyon", "Paris", model="openai")
    assert (v.score, v.reason) == (2, "Names the wrong city.") and v.cost > 0
    body = rp.body()
    schema = body["response_format"]["json_schema"]["schema"]
    assert schema["properties"]["score"] == {"type": "integer", "minimum": 1, "maximum": 5}
    assert body["temperature"] == 0
    assert "Reference answer: Paris" in body["messages"][-1]["content"]


def test_judge_out_of_range_score_from_a_provider_is_an_error(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-" + "T" * 24)
    Replay((200, _openai_reply('{"score": 9, "reason": "Great."}'))).install("openai")
    with pytest.raises(Exception, match="9"):
        judge("Q?", "A", "R", model="openai")


def test_the_local_judge_always_returns_a_verdict_in_the_schema(engine):
    """Constrained decoding: the 135M model's raw reply is JSON with a score 1-5 (format, not competence)."""
    v = judge("What is the capital of France?", "Berlin.", "Paris", model="local")
    assert isinstance(v, Judgement) and v.model == "smollm2-135m"
    raw = json.loads(v.raw)
    assert raw["score"] == v.score and raw["reason"].strip() == v.reason and v.score in {1, 2, 3, 4, 5}


def test_judge_agreement_counts_exact_matches(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-" + "T" * 24)
    Replay((200, _openai_reply('{"score": 5, "reason": "Right."}')),
           (200, _openai_reply('{"score": 3, "reason": "Unsure."}'))).install("openai")
    cases = [{"question": "2+2?", "answer": "4", "reference": "4", "expected": 5},
             {"question": "2+2?", "answer": "5", "reference": "4", "expected": 1}]
    report = evaluation.judge_agreement(cases, model="openai")
    assert report["n"] == 2 and report["exact"] == 0.5 and report["mean_abs_error"] == 1.0
