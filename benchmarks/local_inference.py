"""Local engine figures, side by side in one run: each llmcourse backend (transformers bf16; ONNX
Runtime with the GGUF's exact 4-bit blocks, the default, and with float32 weights) and llama.cpp on the
same GGUF, for the same prompt and greedy settings: tokens/s for a 128-token reply, time to first
token, peak RSS, and the ratio to llama.cpp. Also the cold set-up (GGUF -> bf16 safetensors -> ONNX,
what `make setup` does once) and warm load times.

    python benchmarks/local_inference.py [--runs 3] [--rounds 2] [--threads N]

llama.cpp is optional: `make bench-reference` (benchmarks/reference.sh) builds llama-cpp-python once
into <cache>/llama-cpp (or $LLMCOURSE_LLAMA_CPP), where this script finds it; a plain
`pip install llama-cpp-python` works too. Each backend runs in a fresh process (so RSS is its own),
and the backends take turns `--rounds` times (medians over all runs), so that a busy machine
slows them alike: compare ratios, not absolute figures, across machines.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROMPT = [{"role": "user", "content": "Write a long story about a lighthouse keeper."}]
N_TOKENS = 128

CHILD = r'''
import json, os, resource, sys, time
phase, runs = sys.argv[1], int(sys.argv[2])
PROMPT = json.loads(sys.argv[3]); N = int(sys.argv[4]); threads = int(os.environ["OMP_NUM_THREADS"])
out = {}
t0 = time.perf_counter()
if phase == "llama_cpp":
    if os.environ.get("LLMCOURSE_LLAMA_CPP"):
        sys.path.insert(0, os.environ["LLMCOURSE_LLAMA_CPP"])
    import llama_cpp.llama_cpp as low   # the bindings, as llama_cpp.llama calls them
    if os.environ.get("LLMCOURSE_LLAMA_PLAIN_BUFFERS"):   # see plain_buffers_needed()
        default_params = low.llama_model_default_params
        def plain():
            p = default_params(); p.use_extra_bufts = False; return p
        low.llama_model_default_params = plain
    from llama_cpp import Llama
    from llmcourse.engine import gguf_path
    llm = Llama(model_path=str(gguf_path()), n_ctx=2048, n_threads=threads, verbose=False)
    out["load_s"] = time.perf_counter() - t0
    llm.create_chat_completion(PROMPT, max_tokens=4, temperature=0)   # warm-up
    tps, ttft = [], []
    for _ in range(runs):
        t = time.perf_counter(); first = None; n = 0
        for ev in llm.create_chat_completion(PROMPT, max_tokens=N, temperature=0, stream=True):
            if ev["choices"][0]["delta"].get("content"):
                first = first or time.perf_counter() - t; n += 1
        ttft.append(first); tps.append(n / (time.perf_counter() - t))
    out.update(ttft_s=ttft, tokens_per_s=tps, output_tokens=n)
else:
    import torch, transformers  # noqa: F401  (import time reported apart from load time)
    from llmcourse import engine
    out["import_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    if phase == "cold":
        engine.prepare(verbose=False)
        out["load_s"] = time.perf_counter() - t0
    else:
        eng = engine.get_engine(phase.split("-")[0])
        out["load_s"] = time.perf_counter() - t0
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


def llama_cpp_dir() -> Path | None:
    """Where benchmarks/reference.sh put llama-cpp-python, if it did."""
    base = os.environ.get("LLMCOURSE_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache"), "llmcourse")
    d = Path(os.environ.get("LLMCOURSE_LLAMA_CPP") or Path(base) / "llama-cpp")
    return d if (d / "llama_cpp").is_dir() else None


def has_llama_cpp(env: dict) -> bool:
    code = "import sys, os; p = os.environ.get('LLMCOURSE_LLAMA_CPP'); p and sys.path.insert(0, p); import llama_cpp"
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True).returncode == 0


PROBE = """
import os, sys
if os.environ.get("LLMCOURSE_LLAMA_CPP"):
    sys.path.insert(0, os.environ["LLMCOURSE_LLAMA_CPP"])
import llama_cpp
from llmcourse.engine import gguf_path
llm = llama_cpp.Llama(model_path=str(gguf_path()), n_ctx=256, n_threads=1, verbose=False)
llm("The capital of France is", max_tokens=2)
"""


def plain_buffers_needed(env: dict) -> bool:
    """True when llama.cpp crashes reading a prompt with its extra weight buffers (AMX/repacked tiles) and so
    must run with plain CPU buffers: llama-cpp-python 0.3.36 built with -march=native segfaulted on every
    prompt of more than one token on an AMX CPU (Xeon, 2-core VM, 2026-12-04); one-token prompts ran."""
    return subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True).returncode < 0


PHASE_ENV = {"onnx-fp32": {"LLMCOURSE_ONNX_WEIGHTS": "fp32"}}


def run_phase(phase: str, runs: int, env: dict) -> dict:
    env = dict(env, **PHASE_ENV.get(phase, {}))
    p = subprocess.run([sys.executable, "-c", CHILD, phase, str(runs), json.dumps(PROMPT), str(N_TOKENS)],
                       capture_output=True, text=True, env=env)
    for line in p.stdout.splitlines():
        if line.startswith("RESULT"):
            return json.loads(line[6:])
    raise RuntimeError(f"{phase} failed:\n{p.stderr[-2000:]}")


def merge(results: list[dict]) -> dict:
    """Several rounds of one backend: all runs pooled, the largest RSS, the median load."""
    out = {"tokens_per_s": [x for r in results for x in r["tokens_per_s"]],
           "ttft_s": [x for r in results for x in r["ttft_s"]],
           "load_s": statistics.median(r["load_s"] for r in results),
           "peak_rss_mb": max(r["peak_rss_mb"] for r in results)}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3, help="128-token replies per backend per round")
    ap.add_argument("--rounds", type=int, default=2, help="times the backends take turns")
    ap.add_argument("--threads", type=int, default=os.cpu_count(), help="threads for every backend")
    ap.add_argument("--no-cold", action="store_true", help="skip the cold set-up (GGUF -> caches)")
    args = ap.parse_args()
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", OMP_NUM_THREADS=str(args.threads),
               PYTHONPATH=str(ROOT / "shared"))
    ref = llama_cpp_dir()
    if ref:
        env["LLMCOURSE_LLAMA_CPP"] = str(ref)
    phases = ["torch", "onnx", "onnx-fp32"]
    plain = False
    if has_llama_cpp(env):
        phases.append("llama_cpp")
        if plain_buffers_needed(env):
            plain = True
            env["LLMCOURSE_LLAMA_PLAIN_BUFFERS"] = "1"
            print("llama.cpp crashed reading a prompt with its extra weight buffers (AMX/repacked tiles) on this "
                  "CPU: its column runs with plain CPU buffers (use_extra_bufts=False).")
    else:
        print("llama_cpp is not importable: skipping the llama.cpp column (build it once with "
              "`make bench-reference`).")
    cold = None
    if not args.no_cold:
        with tempfile.TemporaryDirectory() as tmp:
            cold = run_phase("cold", 0, dict(env, LLMCOURSE_CACHE=tmp))
    for p in phases:                 # build each model once before any timing (a build is not a load)
        if p.startswith("onnx"):
            subprocess.run([sys.executable, "-c", "from llmcourse import engine; engine.prepare(verbose=False)"],
                           env=dict(env, **PHASE_ENV.get(p, {})), check=True, capture_output=True)
    got: dict[str, list[dict]] = {p: [] for p in phases}
    for _ in range(args.rounds):
        for p in phases:
            got[p].append(run_phase(p, args.runs, env))
    res = {p: merge(v) for p, v in got.items()}
    names = {"torch": "llmcourse torch (transformers bf16)", "onnx": "llmcourse onnx (ORT 4-bit q4x; default)",
             "onnx-fp32": "llmcourse onnx (ORT float32)",
             "llama_cpp": "llama.cpp (same Q4_1 GGUF)" + (", plain buffers" if plain else "")}
    med = statistics.median
    base = med(res["llama_cpp"]["tokens_per_s"]) if "llama_cpp" in res else None
    print(f"\n{'engine':46} {'load s':>7} {'TTFT s':>7} {'tok/s':>7} {'peak RSS MB':>11} {'x llama.cpp':>11}")
    for p in phases:
        r = res[p]
        tps = med(r["tokens_per_s"])
        ratio = f"{tps / base:.2f}" if base else "-"
        print(f"{names[p]:46} {r['load_s']:7.2f} {med(r['ttft_s']):7.3f} {tps:7.1f} {r['peak_rss_mb']:11.0f} "
              f"{ratio:>11}")
    print(f"\n({args.threads} threads, {os.cpu_count()} CPU cores; {N_TOKENS}-token greedy replies; "
          f"{args.runs} runs x {args.rounds} rounds per backend, medians; tok/s includes reading the prompt)")
    if cold:
        print(f"cold set-up (GGUF -> bf16 safetensors -> ONNX, once per machine): {cold['load_s']:.1f} s, "
              f"peak RSS {cold['peak_rss_mb']:.0f} MB (plus importing torch + transformers: "
              f"{cold['import_s']:.1f} s)")


if __name__ == "__main__":
    main()
