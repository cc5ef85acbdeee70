"""Log-likelihood scoring with the local model: how likely is each continuation after its context?

This is how multiple-choice benchmarks score open models (lm-evaluation-harness, lighteval): no
text is generated; the model reads `context + continuation` once and we add up the log-probabilities
of the continuation's tokens. The choice with the highest (optionally length-normalised) total wins.

Tokenization follows lm-evaluation-harness: encode the context and the whole string, and the
continuation's tokens are the whole string's tokens after the context's (a trailing space of the
context moves to the continuation first). A multiple-choice question has one context and several
continuations, so the context is read once: a batch of contexts goes through the model
(left-padded), its key/value cache is copied once per continuation, and the continuations run on
top. For MMLU that halves the work against scoring each full string (same numbers; tests check it).

>>> scores = continuation_logprobs([("The capital of France is", " Paris"),
...                                 ("The capital of France is", " a banana")])   # doctest: +SKIP
>>> scores[0].logprob > scores[1].logprob                                       # doctest: +SKIP
True
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Score:
    """The summed log-probability of a continuation, its token and character counts, and whether
    greedy decoding would have produced exactly it (`greedy`)."""

    logprob: float
    tokens: int
    chars: int
    greedy: bool

    @property
    def per_char(self) -> float:
        return self.logprob / max(self.chars, 1)

    @property
    def per_token(self) -> float:
        return self.logprob / max(self.tokens, 1)


def encode_pair(tokenizer, context: str, continuation: str) -> tuple[list[int], list[int]]:
    """Token ids of the context and of the continuation, as lm-evaluation-harness splits them."""
    spaces = len(context) - len(context.rstrip())
    if spaces:
        context, continuation = context[:-spaces], context[-spaces:] + continuation
    whole = tokenizer(context + continuation, add_special_tokens=False)["input_ids"]
    ctx = tokenizer(context, add_special_tokens=False)["input_ids"]
    if whole[:len(ctx)] != ctx or len(whole) == len(ctx):   # a merge across the boundary: encode apart
        return ctx, tokenizer(continuation, add_special_tokens=False)["input_ids"]
    return ctx, whole[len(ctx):]


def continuation_logprobs(pairs: list[tuple[str, str]], *, batch_size: int = 4, engine=None,
                          progress: bool = False) -> list[Score]:
    """One `Score` per (context, continuation) pair, in the order given (the local model by default).

    batch_size: contexts per forward pass (each with all its continuations).
    """
    import torch

    if engine is None:
        from .. import get_engine
        engine = get_engine()
    tok, model = engine.tokenizer, engine.model
    limit = int(getattr(model.config, "max_position_embeddings", 2048))
    groups: dict[tuple, list[tuple[int, list[int]]]] = {}
    for i, (c, x) in enumerate(pairs):
        ctx, cont = encode_pair(tok, c, x)
        if not cont:
            raise ValueError(f"pair {i}: the continuation {x!r} has no tokens; give each choice some text")
        groups.setdefault(tuple(ctx[-(limit - len(cont)):] if len(ctx) + len(cont) > limit else ctx),
                          []).append((i, cont))
    ordered = sorted(groups.items(), key=lambda kv: -len(kv[0]))
    out: list[Score | None] = [None] * len(pairs)
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=len(pairs), desc="scoring", unit="choice")
    with torch.inference_mode():
        for start in range(0, len(ordered), batch_size):
            batch = ordered[start:start + batch_size]
            flat = [(i, cont) for _, conts in batch for i, cont in conts]
            for (i, cont), (total, greedy) in zip(flat, _score_batch(model, tok, batch)):
                out[i] = Score(total, len(cont), len(pairs[i][1]), greedy)
            if bar is not None:
                bar.update(len(flat))
    if bar is not None:
        bar.close()
    return out  # type: ignore[return-value]


def _score_batch(model, tok, batch):
    """Contexts once (left-padded, cached), then every continuation on a copy of its context's cache."""
    import torch

    ctxs = [list(ctx) for ctx, _ in batch]
    width = max(len(c) for c in ctxs)
    pad = tok.pad_token_id if tok.pad_token_id is not None else 0
    ids = torch.full((len(ctxs), width), pad, dtype=torch.long)
    mask = torch.zeros((len(ctxs), width), dtype=torch.long)
    for r, c in enumerate(ctxs):
        ids[r, width - len(c):], mask[r, width - len(c):] = torch.tensor(c), 1
    first = model(input_ids=ids, attention_mask=mask, position_ids=(mask.cumsum(-1) - 1).clamp(min=0),
                  use_cache=True, logits_to_keep=1)
    first_logp = torch.log_softmax(first.logits[:, -1].float(), dim=-1)      # predicts each first token
    rows = [(g, cont) for g, (_, conts) in enumerate(batch) for _, cont in conts]
    rest = max(len(cont) for _, cont in rows) - 1
    logp = None
    if rest > 0:                                       # tokens after the first: one more pass
        cache = first.cache
        cache.batch_select_indices(torch.tensor([g for g, _ in rows]))
        cids = torch.full((len(rows), rest), pad, dtype=torch.long)
        cmask = torch.zeros((len(rows), rest), dtype=torch.long)
        for r, (_, cont) in enumerate(rows):
            cids[r, :len(cont) - 1], cmask[r, :len(cont) - 1] = torch.tensor(cont[:-1]), 1
        lengths = torch.tensor([len(ctxs[g]) for g, _ in rows])
        full_mask = torch.cat([mask[[g for g, _ in rows]], cmask], dim=1)
        pos = lengths[:, None] + torch.arange(rest)[None, :]
        logits = model(input_ids=cids, attention_mask=full_mask, position_ids=pos, cache=cache).logits
        logp = torch.log_softmax(logits.float(), dim=-1)
    results = []
    for r, (g, cont) in enumerate(rows):
        lp = [first_logp[g, cont[0]].item()]
        greedy = int(first_logp[g].argmax()) == cont[0]
        for j in range(1, len(cont)):
            lp.append(logp[r, j - 1, cont[j]].item())
            greedy = greedy and int(logp[r, j - 1].argmax()) == cont[j]
        results.append((sum(lp), greedy))
    return results
