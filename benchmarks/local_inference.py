"""Local engine figures: cold load (from the GGUF), warm load (from the safetensors cache), time to
first token, tokens/s for a 128-token greedy reply, peak RSS; and llama.cpp on the same GGUF when
`llama_cpp` is importable (optional).

    python benchmarks/local_inference.py [--runs 3]

Each phase runs in a fresh process so that loads are really cold/warm and RSS is per phase.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

PROMPT = [{"role": "user", "content": "Write a long story about a lighthouse keeper."}]
N_TOKENS = 128

CHILD = r'''
import json, os, resource, sys, time
phase, runs = sys.argv[1], int(sys.argv[2])
PROMPT = json.loads(sys.argv[3]); N = int(sys.argv[4])
out = {}
t0 = time.perf_counter()
if phase == "llama_cpp":
    from llama_cpp import Llama
    from llmcourse.engine import gguf_path
    llm = Llama(model_path=str(gguf_path()), n_ctx=2048, n_threads=os.cpu_count(), verbose=False)
    out["load_s"] = time.perf_counter() - t0
    tps, ttft = [], []
    for _ in range(runs):
        t = time.perf_counter(); first = None; n = 0
        for ev in llm.create_chat_completion(PROMPT, max_tokens=N, temperature=0, stream=True):
            if ev["choices"][0]["delta"].get("content"):
                first = first or time.perf_counter() - t; n += 1
        ttft.append(first); tps.append(n / (time.perf_counter() - t))
    out.update(ttft_s=ttft, tokens_per_s=tps)
else:
    import torch, transformers  # noqa: F401  (import time reported apart from load time)
    from llmcourse import engine
    out["import_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    if phase == "cold":
        engine.prepare(verbose=False)
    eng = engine.LocalEngine()
    out["load_s"] = time.perf_counter() - t0
    if phase == "warm":
        eng.generate(PROMPT, max_tokens=4)  # warm-up
        tps, ttft = [], []
        for _ in range(runs):
            t = time.perf_counter(); first = None
            for chunk in eng.stream(PROMPT, max_tokens=N):
                first = first or time.perf_counter() - t
            ttft.append(first)
            t = time.perf_counter(); g = eng.generate(PROMPT, max_tokens=N)
            tps.append(g.output_tokens / (time.perf_counter() - t))
        out.update(ttft_s=ttft, tokens_per_s=tps, output_tokens=g.output_tokens)
out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print("RESULT" + json.dumps(out))
'''


def run_phase(phase: str, runs: int, env: dict) -> dict:
    p = subprocess.run([sys.executable, "-c", CHILD, phase, str(runs), json.dumps(PROMPT), str(N_TOKENS)],
                       capture_output=True, text=True, env=env)
    for line in p.stdout.splitlines():
        if line.startswith("RESULT"):
            return json.loads(line[6:])
    raise RuntimeError(f"{phase} failed:\n{p.stderr[-2000:]}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    with tempfile.TemporaryDirectory() as tmp:
        env["LLMCOURSE_CACHE"] = tmp
        cold = run_phase("cold", args.runs, env)
        warm = run_phase("warm", args.runs, env)
    rows = [("llmcourse (transformers, bf16)", cold["load_s"], warm)]
    try:
        import llama_cpp  # noqa: F401
        rows.append(("llama.cpp (same GGUF)", None, run_phase("llama_cpp", args.runs, env)))
    except ImportError:
        print("llama_cpp is not importable: skipping the llama.cpp column (optional).")
    med = statistics.median
    print(f"\n{'engine':32} {'cold load s':>11} {'warm load s':>11} {'TTFT s':>7} {'tok/s':>7} {'peak RSS MB':>11}")
    for name, cold_s, r in rows:
        cold_txt = f"{cold_s:.2f}" if cold_s is not None else "-"
        print(f"{name:32} {cold_txt:>11} {r['load_s']:11.2f} {med(r['ttft_s']):7.3f} "
              f"{med(r['tokens_per_s']):7.1f} {r['peak_rss_mb']:11.0f}")
    print(f"\n(load times exclude importing torch + transformers: {warm['import_s']:.2f} s; "
          f"cold load peak RSS {cold['peak_rss_mb']:.0f} MB; {args.runs} runs, medians; "
          f"{os.cpu_count()} CPU cores; {N_TOKENS}-token greedy replies)")


if __name__ == "__main__":
    main()
