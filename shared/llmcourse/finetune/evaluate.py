"""Score a model on the routing task: generate the answer greedily, read the queue name, count hits.

The metric is accuracy on the held-out test set: the share of tickets whose generated answer names
the right queue. An answer that names no queue (or several) counts as wrong.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from .data import LABELS, SYSTEM_PROMPT, to_messages


def parse_label(answer: str) -> str | None:
    """The one queue an answer names ("Billing." -> "billing"), or None if it names none or several."""
    words = set(re.findall(r"[a-z]+", answer.lower()))
    found = [lab for lab in LABELS if lab in words or lab.rstrip("s") in words]
    return found[0] if len(found) == 1 else None


def few_shot_messages(text: str, shots: list[dict], *, system: str = SYSTEM_PROMPT) -> list[dict]:
    """Multi-shot prompt: each example ticket as a user turn answered by its label, then the ticket."""
    msgs = [{"role": "system", "content": system}]
    for s in shots:
        msgs += [{"role": "user", "content": s["text"]}, {"role": "assistant", "content": s["label"]}]
    return msgs + [{"role": "user", "content": text}]


@dataclass
class Scores:
    """Predictions against gold labels."""

    predictions: list[str | None]
    gold: list[str]
    answers: list[str]
    seconds: float
    cost: float = 0.0

    @property
    def seconds_per_ticket(self) -> float:
        return self.seconds / max(len(self.gold), 1)

    @property
    def accuracy(self) -> float:
        return sum(p == g for p, g in zip(self.predictions, self.gold)) / len(self.gold)

    @property
    def invalid(self) -> int:
        return sum(p is None for p in self.predictions)

    def confusion(self):
        """Counts as a pandas DataFrame: rows are the true queue, columns the predicted one."""
        import pandas as pd

        cols = list(LABELS) + ["(none)"]
        table = pd.DataFrame(0, index=list(LABELS), columns=cols)
        for p, g in zip(self.predictions, self.gold):
            table.loc[g, p or "(none)"] += 1
        return table

    def __repr__(self) -> str:
        return (f"Scores(accuracy={self.accuracy:.2f}, n={len(self.gold)}, invalid={self.invalid}, "
                f"{self.seconds:.1f} s)")


def generate_answers(model, tokenizer, conversations: list[list[dict]], *, max_tokens: int = 6,
                     batch_size: int = 16, precision: str = "auto", progress: bool = True) -> list[str]:
    """Greedy answers for many conversations, in the order given. Batched with left padding, the prompts
    grouped by length so that a batch pads little (a short ticket batched with a long one would be
    computed at the long one's length); `precision` as in `train` (bf16 mixed where the hardware computes
    in it: 100 tickets scored in 12 s against 33 s in float32, one CPU thread, 2026-12-03)."""
    import torch
    from tqdm.auto import tqdm

    from .precision import autocast

    tokenizer.padding_side = "left"
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    texts = [tokenizer.apply_chat_template(c, tokenize=False, add_generation_prompt=True) for c in conversations]
    ids = tokenizer(texts, add_special_tokens=False)["input_ids"]
    order = sorted(range(len(texts)), key=lambda i: len(ids[i]))
    out: list[str] = [""] * len(texts)
    for i in tqdm(range(0, len(order), batch_size), desc="scoring", disable=not progress):
        rows = order[i:i + batch_size]
        enc = tokenizer.pad({"input_ids": [ids[r] for r in rows]}, padding=True, return_tensors="pt").to(model.device)
        with torch.no_grad(), autocast(model, precision):
            gen = model.generate(**enc, max_new_tokens=max_tokens, do_sample=False, pad_token_id=pad)
        for r, text in zip(rows, tokenizer.batch_decode(gen[:, enc["input_ids"].shape[1]:], skip_special_tokens=True)):
            out[r] = text
    return out


def score(model, tokenizer, rows: list[dict], *, shots=(), progress: bool = True, batch_size: int = 16,
          max_tokens: int = 6, precision: str = "auto") -> Scores:
    """Accuracy of `model` on {"text","label"} rows: zero-shot, with `shots` (a list of {"text","label"})
    as in-context examples, or with `shots` a function text -> examples (retrieval: see baselines)."""
    def shots_for(text):
        return shots(text) if callable(shots) else list(shots)

    convs = [few_shot_messages(r["text"], shots_for(r["text"])) if (callable(shots) or shots)
             else to_messages(r["text"]) for r in rows]
    t0 = time.perf_counter()
    answers = generate_answers(model, tokenizer, convs, progress=progress, batch_size=batch_size,
                               max_tokens=max_tokens, precision=precision)
    return Scores([parse_label(a) for a in answers], [r["label"] for r in rows], answers,
                  time.perf_counter() - t0)


def pick_shots(rows: list[dict], per_label: int = 1, seed: int = 0) -> list[dict]:
    """A few training examples per queue for multi-shot prompts (from training data, never the test set)."""
    import random

    rng = random.Random(seed)
    shots = [r for lab in LABELS for r in rng.sample([r for r in rows if r["label"] == lab], per_label)]
    rng.shuffle(shots)
    return shots


def score_chat(rows: list[dict], *, model: str, shots=(), max_tokens: int = 20, progress: bool = True) -> Scores:
    """Accuracy through `llmcourse.chat` (any registry model: a frontier API with its key, or "local"),
    one request per ticket; `.cost` is what the calls cost according to the registry's prices."""
    from tqdm.auto import tqdm

    from ..chat import chat

    answers, cost, t0 = [], 0.0, time.perf_counter()
    for r in tqdm(rows, desc=model, disable=not progress):
        examples = shots(r["text"]) if callable(shots) else list(shots)
        msgs = few_shot_messages(r["text"], examples)[1:]  # the system prompt goes in `system=`
        reply = chat(msgs, model=model, system=SYSTEM_PROMPT, max_tokens=max_tokens, temperature=0)
        answers.append(reply.text)
        cost += reply.cost or 0.0
    return Scores([parse_label(a) for a in answers], [r["label"] for r in rows], answers,
                  time.perf_counter() - t0, cost)


def usd_per_1000(model: str, rows: list[dict], *, shots=(), output_tokens: int = 3) -> float:
    """What 1,000 tickets like `rows` would cost on `model` (registry prices, tokens counted offline)."""
    from ..cost import estimate

    total = 0.0
    for r in rows:
        examples = shots(r["text"]) if callable(shots) else list(shots)
        total += estimate(few_shot_messages(r["text"], examples)[1:], model=model, system=SYSTEM_PROMPT,
                          max_tokens=output_tokens).max_cost
    return 1000 * total / len(rows)


def perplexity(model, tokenizer, texts: list[str]) -> float:
    """exp(mean next-token cross-entropy) over `texts`: how surprised the model is by ordinary prose.
    Compare it before and after fine-tuning to measure forgetting."""
    import math

    import torch

    total, count = 0.0, 0
    for text in texts:
        enc = tokenizer(text, return_tensors="pt").to(model.device)
        with torch.no_grad():
            loss = model(**enc, labels=enc["input_ids"]).loss
        n = enc["input_ids"].shape[1] - 1
        total, count = total + float(loss) * n, count + n
    return math.exp(total / count)
