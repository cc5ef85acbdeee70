"""LLM as a judge: a model grades an answer from 1 to 5, as structured output.

The judge asks `chat(schema=Grade)`: frontier providers return JSON matching the schema and the
local model is held to it by constrained decoding, so every verdict has a score 1-5 and a reason.
A guaranteed format is not a guaranteed judgement: test a judge on answers with known grades
(`judge_agreement`) before trusting its scores. A 135M judge fails that test.

>>> verdict = judge("What is 2 + 2?", "4", reference="4", model="local")   # doctest: +SKIP
>>> verdict.score, verdict.reason                                          # doctest: +SKIP
(5, 'The answer matches the reference.')
"""

from __future__ import annotations

from dataclasses import dataclass

JUDGE_PROMPT = """You grade an answer to a question.

Question: {question}
Reference answer: {reference}
Answer to grade: {answer}

Score the answer from 1 to 5: 5 = correct and complete, 3 = partly correct or incomplete,
1 = wrong, or claims facts that contradict the reference. If the reference says the information is
not available, an answer that says it does not know deserves 5.
Reply with JSON: {{"score": <1-5>, "reason": "<one sentence>"}}"""

JUDGE_PROMPT_NO_REFERENCE = """You grade an answer to a question.

Question: {question}
Answer to grade: {answer}

Score the answer from 1 to 5: 5 = correct, complete and clear, 3 = partly correct or incomplete,
1 = wrong or off-topic.
Reply with JSON: {{"score": <1-5>, "reason": "<one sentence>"}}"""

REASON_CHARS = 160


@dataclass
class Judgement:
    """A judge's verdict: `score` 1-5, a one-sentence `reason`, the judge `model`, the `raw` reply."""

    score: int
    reason: str
    model: str = ""
    raw: str = ""
    cost: float = 0.0


def grade_schema() -> dict:
    """The JSON schema the judge must fill (a dict, so pydantic is not needed to import this module)."""
    return {"title": "grade", "type": "object", "additionalProperties": False, "required": ["score", "reason"],
            "properties": {"score": {"type": "integer", "minimum": 1, "maximum": 5},
                           "reason": {"type": "string", "maxLength": REASON_CHARS}}}


def judge_prompt(question: str, answer: str, reference: str | None = None, *, template: str | None = None) -> str:
    """The prompt the judge sees: `JUDGE_PROMPT`, or `JUDGE_PROMPT_NO_REFERENCE` without a reference.

    template: your own prompt with `{question}`, `{answer}` (and `{reference}`) fields.
    """
    if template is None:
        template = JUDGE_PROMPT if reference else JUDGE_PROMPT_NO_REFERENCE
    return template.format(question=question, answer=answer, reference=reference or "")


def judge(question: str, answer: str, reference: str | None = None, *, model: str | None = None,
          prompt: str | None = None) -> Judgement:
    """Ask `model` (any course model; default as in `chat`) to grade `answer` from 1 to 5.

    reference: the expected answer, when there is one. prompt: your own grading prompt with
    `{question}`, `{answer}` and `{reference}` fields (default `JUDGE_PROMPT`).
    """
    from ..chat import chat

    reply = chat(judge_prompt(question, answer, reference, template=prompt), model=model, temperature=0, schema=grade_schema())
    data = reply.parsed
    return Judgement(score=int(data["score"]), reason=str(data["reason"]).strip(), model=reply.model,
                     raw=reply.text, cost=reply.cost or 0.0)


def judge_agreement(cases: list[dict], *, model: str | None = None) -> dict:
    """Test a judge on cases with known grades: each dict has question, answer, reference, expected.

    Returns {"n", "exact" (share scored exactly as expected), "mean_abs_error", "rows"}.
    """
    rows = []
    for c in cases:
        v = judge(c["question"], c["answer"], c.get("reference"), model=model)
        rows.append({**c, "score": v.score, "reason": v.reason})
    n = len(rows)
    if not n:
        raise ValueError("judge_agreement needs at least one case with an expected score")
    return {"n": n, "exact": sum(r["score"] == r["expected"] for r in rows) / n,
            "mean_abs_error": sum(abs(r["score"] - r["expected"]) for r in rows) / n, "rows": rows}
