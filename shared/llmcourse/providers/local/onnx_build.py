"""The ONNX copy of the local model, for the fast backend (onnx_engine.py).

`prepare_onnx()` turns the bf16 safetensors cache (engine.prepare) into an ONNX model with
onnxruntime-genai's model builder, once (~30 s of CPU), atomically, into the user cache folder:
GroupQueryAttention with the KV cache in and out, logits of the last position only. The builder writes
float32 weights (the GGUF's Q4_1 values, exactly as the bf16 copy holds them); onnx_q4.requantize then
stores every projection as the GGUF's own 4-bit blocks, exactly (q4x: 2.8x fewer bytes; see there).

Measured 2026-12-03 on 2 AVX512-BF16 cores (benchmarks/local_inference.py, benchmarks/local_quality.py):
- q4x (default): ~65 tok/s against 57 for float32; perplexity 37.00 against bf16's 37.08 (float32:
  36.99); MMLU cloze on 228 questions 32.0%, the same as bf16 (the same choice on 225); greedy replies
  identical to bf16's over 64 tokens on 9 of 20 prompts, as float32's (the others part at rounding-level
  ties, at the same places as float32's: bf16 and float32 arithmetic differ).
- float32 (LLMCOURSE_ONNX_WEIGHTS=fp32), measured 2026-12-02 on 2 AVX2 cores: 27 tok/s against ~5 for
  transformers in bf16 (emulated on such a CPU); perplexity within 0.3% of bf16.
- the builder's own 4-bit (MatMulNBits, asymmetric, blocks of 32, fp32 activations): 29 tok/s but
  rejected: re-quantizing the GGUF's Q4_1 rounds each block's minimum to a whole step, and perplexity
  went 37.1 -> 51.9.
- 8-bit with int8 activations (accuracy_level 4): 41 tok/s and perplexity within 1%, but rejected: it
  changes greedy answers ("L'Etoile, la Marseur. France" for the capital of France).
- 8-bit with fp32 activations (accuracy_level 1): 0.9 tok/s (no fast kernel for it on AVX2).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from ...errors import LLMCourseError
from ...settings import cache_dir
from .engine_base import model_info

BUILDER = "onnxruntime_genai.models.builder"
PRECISION = "fp32"
# key=value pairs for the builder's --extra_options; changing them changes the cache folder's name
EXTRA_OPTIONS = {"shared_embeddings": "false", "prune_lm_head": "true"}
VERSION = 3   # bump when the build changes in a way the options above do not show
WEIGHTS = ("q4x", "fp32")   # the builder's float32 rewritten as exact 4-bit blocks (onnx_q4), or left as is


def onnx_weights() -> str:
    """Which weights the ONNX build stores: LLMCOURSE_ONNX_WEIGHTS, q4x by default."""
    w = (os.environ.get("LLMCOURSE_ONNX_WEIGHTS") or "q4x").strip().lower()
    if w not in WEIGHTS:
        raise LLMCourseError(f"LLMCOURSE_ONNX_WEIGHTS={w!r} is not one of {', '.join(WEIGHTS)}.")
    return w


def onnx_variant() -> str:
    """A short name for the build settings (part of the cache folder's name)."""
    if PRECISION == "fp32" and onnx_weights() == "q4x":
        from .onnx_q4 import VERSION as Q4_VERSION

        return f"q4x-v{VERSION}.{Q4_VERSION}"
    if PRECISION in ("int4", "int8"):
        sym = "s" if EXTRA_OPTIONS.get("is_symmetric") == "true" else "a"
        return (f"{PRECISION}-{sym}{EXTRA_OPTIONS.get('block_size', '32')}-acc{EXTRA_OPTIONS.get('accuracy_level', '0')}"
                f"-v{VERSION}")
    return f"{PRECISION}-v{VERSION}"


def onnx_dir() -> Path:
    """The folder holding the ONNX model (may not exist yet)."""
    return cache_dir("models") / f"{model_info().api_id.lower()}-onnx-{onnx_variant()}"


def onnx_is_cached() -> bool:
    d = onnx_dir()
    return (d / "model.onnx").exists() and (d / "llmcourse.json").exists()


def onnx_available() -> bool:
    """Whether this environment can build and run the ONNX backend."""
    return all(importlib.util.find_spec(m) is not None for m in ("onnxruntime", "onnxruntime_genai", "onnx"))


def prepare_onnx(source: Path, *, force: bool = False, verbose: bool = True) -> Path:
    """Build the ONNX model from the bf16 folder `source` once (atomic: a crash leaves no half cache)."""
    target = onnx_dir()
    if onnx_is_cached() and not force:
        return target
    if not onnx_available():
        raise LLMCourseError("The fast local backend needs onnxruntime and onnxruntime-genai: run `make setup`, "
                             "or use LLMCOURSE_LOCAL_BACKEND=torch.")
    if verbose:
        print(f"Building the ONNX model ({onnx_variant()}) in {target} (once, ~30 s)...", flush=True)
    t0 = time.perf_counter()
    tmp = target.with_name(target.name + f".tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    extra = [f"{k}={v}" for k, v in EXTRA_OPTIONS.items()]
    cmd = [sys.executable, "-m", BUILDER, "-i", str(source), "-o", str(tmp), "-p", PRECISION, "-e", "cpu",
           "-c", str(tmp / "build-cache"), "--extra_options", *extra]
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TQDM_DISABLE="1")
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0 or not (tmp / "model.onnx").exists():
        shutil.rmtree(tmp, ignore_errors=True)
        raise LLMCourseError(f"Building the ONNX model failed (exit {proc.returncode}); use "
                             f"LLMCOURSE_LOCAL_BACKEND=torch meanwhile. Builder output:\n{proc.stderr[-3000:]}")
    shutil.rmtree(tmp / "build-cache", ignore_errors=True)
    counts = None
    if PRECISION == "fp32" and onnx_weights() == "q4x":
        from .onnx_q4 import requantize

        counts = requantize(tmp)
    (tmp / "llmcourse.json").write_text(json.dumps({"source": str(source), "precision": PRECISION,
                                                     "extra_options": EXTRA_OPTIONS, "version": VERSION,
                                                     "variant": onnx_variant(), "projections": counts}))
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)
    if verbose:
        kept = f"; {counts['q4']} projections as 4-bit blocks, {counts['float32']} float32" if counts else ""
        print(f"Built in {time.perf_counter() - t0:.1f} s{kept}.", flush=True)
    return target
