"""The quality gate of the fast local backend: the ONNX engine (q4x by default; LLMCOURSE_ONNX_WEIGHTS=fp32
for float32) against the bf16 transformers engine, on the same weights (issue 15, item 2).

    python benchmarks/local_quality.py [--prompts 20] [--tokens 64] [--per-subject 4]

Prints three figures and whether each passes:
1. greedy answers on a fixed prompt set: how many are identical over `--tokens` tokens, and where
   the others first diverge (raw decoding, no repetition guard, no grammar);
2. log-likelihood accuracy on a fixed MMLU sample (cloze: each choice's text after
   "Question: ...\\nAnswer:", highest log-probability per character wins, as benchmarks/mmlu.py):
   the fast backend within 1 point of bf16;
3. perplexity on a fixed English text: within 3% of bf16.
Exit status 1 when a check fails. tests/test_local_backend.py runs a smaller version of each.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "shared"))

PROMPTS = [
    "What is the capital of France?", "Name three primary colours.", "Explain photosynthesis to a child.",
    "Write a haiku about the sea.", "What is 12 times 7?", "Give me a tip for learning Python.",
    "Who wrote Romeo and Juliet?", "Describe a cat in one sentence.", "What does a CPU do?",
    "Translate 'good morning' into Spanish.", "List two benefits of exercise.", "What is the boiling point of water?",
    "Write a short thank-you note to a teacher.", "Why is the sky blue?", "Suggest a name for a bakery.",
    "What is machine learning?", "How many days are in a leap year?", "Give an example of a mammal that can fly.",
    "What is the largest planet in the solar system?", "Write one sentence about autumn.",
]

# a fixed text for perplexity (plain prose, written for this gate)
TEXT = (
    "The lighthouse stood at the end of a narrow spit of rock, and for forty years the same family had kept "
    "its lamp burning. Every evening the keeper climbed the spiral stairs, trimmed the wick, polished the "
    "great lens and wound the clockwork that turned it. Ships that passed in the night never saw him, but "
    "they trusted the steady flash that told them where the reef began. In winter the storms came in from "
    "the west, and waves broke over the gallery so that the whole tower shook. The keeper wrote in his log "
    "the direction of the wind, the state of the sea and the names of the vessels he could identify. When "
    "the electric lamp finally arrived, the clockwork was stopped and the family moved to the mainland. "
    "The log books went to a museum, where visitors can still read, in careful handwriting, about the night "
    "a fishing boat lost its rudder and drifted safely past the rocks because the light was there. Today "
    "the tower is automatic, and a small computer reports each night that the lamp has been switched on."
)


def greedy_agreement(fast, ref, prompts: list[str], tokens: int) -> list[int | None]:
    """For each prompt, the first token index where the two engines' greedy replies differ (None: same)."""
    out = []
    for p in prompts:
        msgs = [{"role": "user", "content": p}]
        ids = ref.encode_chat(msgs)
        a = _torch_greedy(ref, ids, tokens)
        b = list(fast.submit(ids[0].tolist(), max_tokens=tokens))
        diverge = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), None)
        if diverge is None and len(a) != len(b):
            diverge = min(len(a), len(b))
        out.append(diverge)
    return out


def _torch_greedy(ref, ids, tokens: int) -> list[int]:
    import torch

    with torch.inference_mode():
        out = ref.model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=tokens, do_sample=False,
                                 temperature=None, top_p=None, top_k=None,
                                 pad_token_id=ref.tokenizer.eos_token_id)
    return out[0, ids.shape[1]:].tolist()


def perplexity_torch(ref, text: str = TEXT) -> float:
    import torch

    ids = ref.tokenizer(text, return_tensors="pt", add_special_tokens=False)["input_ids"]
    with torch.inference_mode():
        logits = ref.model(ids).logits[0, :-1].float()
    nll = torch.nn.functional.cross_entropy(logits, ids[0, 1:])
    return math.exp(float(nll))


def perplexity_fast(fast, text: str = TEXT) -> float:
    ids = fast.tokenizer(text, add_special_tokens=False)["input_ids"]
    logps, _ = fast.score(ids[:1], ids[1:])
    return math.exp(-sum(logps) / len(logps))


def mmlu_items(per_subject: int, seed: int = 0):
    from llmcourse.evaluation import load_mmlu, stratified_sample

    return stratified_sample(load_mmlu(), per_subject, seed=seed)


def mmlu_accuracy_torch(ref, items) -> tuple[float, list[int]]:
    from llmcourse.evaluation import run_benchmark

    res = run_benchmark(items, engine=ref, method="cloze", normalize="char", batch_size=4)
    return res.accuracy.value, [r["prediction"] for r in res.rows]


def mmlu_accuracy_fast(fast, items, threads: int = 4) -> tuple[float, list[int]]:
    """Cloze MMLU with the fast engine's `score` (the same tokenization as llmcourse.evaluation.loglik)."""
    from llmcourse.evaluation.formats import cloze_continuations, cloze_prompt
    from llmcourse.evaluation.loglik import encode_pair

    def pick(item):
        scores = []
        for cont in cloze_continuations(item):
            ctx, ids = encode_pair(fast.tokenizer, cloze_prompt(item), cont)
            logps, _ = fast.score(ctx, ids)
            scores.append(sum(logps) / max(len(cont), 1))
        return max(range(len(scores)), key=scores.__getitem__)

    with ThreadPoolExecutor(threads) as pool:       # concurrent questions share forward passes
        picks = list(pool.map(pick, items))
    return sum(p == it.answer for p, it in zip(picks, items)) / len(items), picks


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--prompts", type=int, default=len(PROMPTS))
    ap.add_argument("--tokens", type=int, default=64)
    ap.add_argument("--per-subject", type=int, default=4, help="MMLU questions per subject (57 subjects)")
    args = ap.parse_args()

    from llmcourse.engine import get_engine

    fast, ref = get_engine("onnx"), get_engine("torch")
    ok = True
    t0 = time.perf_counter()
    div = greedy_agreement(fast, ref, PROMPTS[:args.prompts], args.tokens)
    same = sum(d is None for d in div)
    print(f"greedy replies identical over {args.tokens} tokens: {same}/{len(div)}; first divergence at "
          f"tokens {sorted(d for d in div if d is not None)}  ({time.perf_counter() - t0:.0f} s)", flush=True)

    t0 = time.perf_counter()
    p_ref, p_fast = perplexity_torch(ref), perplexity_fast(fast)
    rel = p_fast / p_ref - 1
    ok &= abs(rel) <= 0.03
    print(f"perplexity on the fixed text: bf16 {p_ref:.3f}, onnx {p_fast:.3f} ({rel:+.2%}; gate: within 3%) "
          f"{'PASS' if abs(rel) <= 0.03 else 'FAIL'}  ({time.perf_counter() - t0:.0f} s)", flush=True)

    t0 = time.perf_counter()
    items = mmlu_items(args.per_subject)
    a_ref, picks_ref = mmlu_accuracy_torch(ref, items)
    a_fast, picks_fast = mmlu_accuracy_fast(fast, items)
    agree = sum(a == b for a, b in zip(picks_ref, picks_fast))
    gap = (a_fast - a_ref) * 100
    ok &= abs(gap) <= 1.0
    print(f"MMLU cloze, {len(items)} questions: bf16 {a_ref:.1%}, onnx {a_fast:.1%} ({gap:+.1f} points; gate: "
          f"within 1) {'PASS' if abs(gap) <= 1.0 else 'FAIL'}; same choice on {agree}/{len(items)}  "
          f"({time.perf_counter() - t0:.0f} s)", flush=True)
    print("quality gate:", "PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
