"""One runner for multiple-choice and generative benchmarks, for the local model and API models.

>>> from llmcourse.evaluation import Item, run_benchmark
>>> items = [Item("What is the capital of France?", ["Paris", "Berlin", "Madrid", "Rome"], 0)]
>>> result = run_benchmark(items, model="local", method="cloze")     # doctest: +SKIP
>>> print(result.accuracy)                                           # doctest: +SKIP
100.0% (95% CI 20.7-100.0%, n=1)

Methods: "cloze" and "letter" score the choices by log-likelihood (the local model only: API
models do not return the log-probabilities of a prompt); "generate" asks any model through `chat`
and parses the reply (a letter for multiple choice, the final number or short answer otherwise).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

from .formats import (Item, cloze_continuations, cloze_prompt, generate_prompt, letter_continuations,
                      letter_prompt, parse_letter, parse_number, parse_short)
from .stats import Accuracy

LOGLIK = {"cloze": (cloze_prompt, cloze_continuations), "letter": (letter_prompt, letter_continuations)}
NORMALIZE = ("char", "none", "token")


@dataclass
class BenchmarkResult:
    """Per-item `rows` and the `accuracy` (with a 95% interval) of one model, method and item set."""

    model: str
    method: str
    normalize: str
    rows: list[dict]
    seconds: float
    extra: dict = field(default_factory=dict)

    @property
    def accuracy(self) -> Accuracy:
        return Accuracy(sum(r["correct"] for r in self.rows), len(self.rows))

    def accuracy_with(self, normalize: str) -> Accuracy:
        """Log-likelihood runs only: the accuracy had the choices been compared another way."""
        key = f"pred_{normalize}"
        if not self.rows or key not in self.rows[0]:
            raise ValueError(f"normalize={normalize!r} needs a cloze or letter run (this one is {self.method})")
        return Accuracy(sum(r[key] == r["answer"] for r in self.rows), len(self.rows))

    def by_subject(self) -> dict[str, Accuracy]:
        groups: dict[str, list[bool]] = {}
        for r in self.rows:
            groups.setdefault(r["subject"], []).append(r["correct"])
        return {s: Accuracy(sum(v), len(v)) for s, v in sorted(groups.items())}

    @property
    def per_second(self) -> float:
        return len(self.rows) / self.seconds if self.seconds else float("nan")

    def to_frame(self):
        import pandas as pd
        return pd.DataFrame(self.rows)

    def __str__(self) -> str:
        how = f"{self.method}" + (f", normalize={self.normalize}" if self.method in LOGLIK else "")
        return (f"{self.model} ({how}): {self.accuracy} in {self.seconds:.1f} s "
                f"({self.per_second:.2f} items/s)")


def run_benchmark(items: list[Item], *, model: str | None = "local", method: str = "cloze",
                  normalize: str = "char", batch_size: int = 4, max_tokens: int | None = None,
                  check: Callable[[str, Item], bool] | None = None, progress: bool = True,
                  engine=None) -> BenchmarkResult:
    """Score `model` on `items` with `method` ("cloze", "letter" or "generate").

    normalize (log-likelihood methods): "char" divides a choice's log-probability by its length in
    characters (lm-eval's acc_norm; lighteval's cloze MMLU), "token" by its tokens, "none" sums.
    max_tokens ("generate"): default 16 for multiple choice, 256 for generative items.
    check: for "generate", your own `check(reply_text, item) -> bool` (default: parse and compare).
    engine: a local engine (anything with `.model` and `.tokenizer`) instead of `get_engine()`.
    """
    if not items:
        raise ValueError("run_benchmark got no items: load some first (e.g. load_mmlu())")
    if normalize not in NORMALIZE:
        raise ValueError(f"normalize={normalize!r}: use one of {', '.join(NORMALIZE)}")
    start = time.perf_counter()
    if method in LOGLIK:
        rows = _loglik_rows(items, model, method, normalize, batch_size, progress, engine)
    elif method == "generate":
        rows = _generate_rows(items, model, max_tokens, check, progress)
    else:
        raise ValueError(f"method={method!r}: use 'cloze', 'letter' or 'generate'")
    from ..registry import get_model
    name = "local engine" if engine is not None else get_model(model or "local").name
    return BenchmarkResult(name, method, normalize, rows, time.perf_counter() - start)


def _loglik_rows(items, model, method, normalize, batch_size, progress, engine) -> list[dict]:
    from ..registry import get_model
    from .loglik import continuation_logprobs

    if engine is None and get_model(model or "local").provider != "local":
        raise ValueError(f"method={method!r} needs the prompt's log-probabilities, which {model!r} does not "
                         f"return: use method='generate' for API models, or model='local'.")
    bad = [it.id or it.question[:40] for it in items if not it.is_multiple_choice]
    if bad:
        raise ValueError(f"method={method!r} scores choices, but {len(bad)} item(s) have none "
                         f"(first: {bad[0]!r}): use method='generate' for generative items.")
    prompt, conts = LOGLIK[method]
    pairs, spans = [], []
    for it in items:
        c = conts(it)
        spans.append((len(pairs), len(c)))
        pairs += [(prompt(it), x) for x in c]
    scores = continuation_logprobs(pairs, batch_size=batch_size, engine=engine, progress=progress)
    rows = []
    for it, (a, n) in zip(items, spans):
        s = scores[a:a + n]
        preds = {f"pred_{k}": max(range(n), key=lambda i: f(s[i]))
                 for k, f in (("none", lambda x: x.logprob), ("char", lambda x: x.per_char),
                              ("token", lambda x: x.per_token))}
        rows.append({"id": it.id, "subject": it.subject, "answer": it.answer, "prediction": preds[f"pred_{normalize}"],
                     "correct": preds[f"pred_{normalize}"] == it.answer, **preds,
                     "logprobs": [round(x.logprob, 4) for x in s]})
    return rows


def default_check(text: str, item: Item) -> tuple[object, bool]:
    """(parsed answer, correct?) for a generated reply."""
    if item.is_multiple_choice:
        got = parse_letter(text, len(item.choices))
        return got, got == item.answer
    ref = str(item.answer).strip()
    if parse_number(ref) == ref.replace(",", ""):
        got = parse_number(text)
        return got, got == ref.replace(",", "")
    got = parse_short(text)
    return got, got == ref.lower().strip(".")


def _generate_rows(items, model, max_tokens, check, progress) -> list[dict]:
    from ..chat import chat

    it_items = items
    if progress:
        from tqdm.auto import tqdm
        it_items = tqdm(items, desc="generating", unit="item")
    rows = []
    for it in it_items:
        reply = chat(generate_prompt(it), model=model, temperature=0,
                     max_tokens=max_tokens or (16 if it.is_multiple_choice else 256))
        if check is not None:
            got, ok = None, bool(check(reply.text, it))
        else:
            got, ok = default_check(reply.text, it)
        rows.append({"id": it.id, "subject": it.subject, "answer": it.answer, "prediction": got,
                     "correct": ok, "reply": reply.text, "cost": reply.cost})
    return rows
