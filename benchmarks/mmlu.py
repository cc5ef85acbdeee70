"""Reproduce a published number: SmolLM2-135M-Instruct on MMLU, cloze formulation (issue 13, item 4).

    python benchmarks/mmlu.py                      # all 14,042 questions (hours on 2 CPU cores)
    python benchmarks/mmlu.py --per-subject 30     # a stratified sample: 30 questions from each of 57 subjects
    python benchmarks/mmlu.py --per-subject 30 --method letter --save results.jsonl

Zero-shot, no chat template, "Question: ...\\nAnswer:" and each choice's text as the continuation,
the choice with the highest log-probability per character wins (lighteval's cloze MMLU, which the
SmolLM2 model card reports: 29.3). Prints accuracy with its 95% interval (Wilson), the other two
normalisations for the same forward passes, the time and questions per second. The machine's load
counts: on a shared 2-core machine take the speed as a lower bound.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "shared"))

from llmcourse.evaluation import load_mmlu, run_benchmark, stratified_sample  # noqa: E402

MODEL_CARD = 29.3   # huggingface.co/HuggingFaceTB/SmolLM2-135M-Instruct, "MMLU (cloze)", read 2026-12-02


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--per-subject", type=int, default=0, help="questions per subject (0 = all 14,042)")
    ap.add_argument("--method", choices=["cloze", "letter"], default="cloze")
    ap.add_argument("--batch-size", type=int, default=4, help="questions per forward pass")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--save", type=Path, help="write one JSON line per question here")
    args = ap.parse_args()

    import torch
    print(f"torch threads: {torch.get_num_threads()}", flush=True)
    items = load_mmlu()
    if args.per_subject:
        items = stratified_sample(items, args.per_subject, seed=args.seed)
    print(f"{len(items)} questions from {len({i.subject for i in items})} subjects, method={args.method}",
          flush=True)
    t0 = time.perf_counter()
    res = run_benchmark(items, model="local", method=args.method, normalize="char",
                        batch_size=args.batch_size, progress=True)
    took = time.perf_counter() - t0
    acc = res.accuracy
    print(f"\nSmolLM2-135M-Instruct, MMLU {args.method}: {acc}")
    for norm in ("char", "token", "none"):
        print(f"  normalize={norm:5s}: {res.accuracy_with(norm)}")
    print(f"model card (cloze): {MODEL_CARD}%; difference {acc.value * 100 - MODEL_CARD:+.1f} points, "
          f"the card's figure {'inside' if acc.low * 100 <= MODEL_CARD <= acc.high * 100 else 'outside'} "
          f"our 95% interval")
    print(f"chance: 25.0%; time {took:.0f} s, {len(items) / took:.2f} questions/s")
    worst = sorted(res.by_subject().items(), key=lambda kv: kv[1].value)
    print("lowest subjects:", ", ".join(f"{s} {a.value:.0%}" for s, a in worst[:3]),
          "| highest:", ", ".join(f"{s} {a.value:.0%}" for s, a in worst[-3:]))
    if args.save:
        args.save.write_text("".join(json.dumps(r) + "\n" for r in res.rows))
        print(f"rows written to {args.save}")


if __name__ == "__main__":
    main()
