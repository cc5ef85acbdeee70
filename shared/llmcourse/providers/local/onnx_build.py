"""The ONNX copy of the local model, for the fast backend (onnx_engine.py).

`prepare_onnx()` turns the bf16 safetensors cache (engine.prepare) into an ONNX model with
onnxruntime-genai's model builder, once (~15-20 s on 2 cores), atomically, into the user cache folder:
GroupQueryAttention with the KV cache in and out, logits of the last position only. The builder writes
float32 weights (the GGUF's Q4_1 values, exactly as the bf16 copy holds them); onnx_q4.requantize then
stores every projection as the GGUF's own 4-bit blocks (q4x; see there) and the float32 copy goes.

Measured 2026-12-03 on 2 AVX512-BF16 cores (benchmarks/local_inference.py, benchmarks/local_quality.py):
- q4x (default): 1.2-1.3x float32's tokens/s in one run of the side-by-side benchmark (0.51-0.55x
  llama.cpp's, against 0.42-0.44x for float32), a third less memory (635 MB peak against 982); the
  quality gate's figures are in onnx_q4. Its 4-bit kernel scales worse than float32 over several rows
  (2 rows 23 ms a step against 22.5, 1 row 13 against 21), so a float32 copy for wider passes was tried
  and dropped: it loaded in 4.8 s instead of 1.3, peaked at 1,151 MB, and won nothing at 4 rows.
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
    """Which weights the ONNX model stores: LLMCOURSE_ONNX_WEIGHTS, q4x by default (or fp32)."""
    w = (os.environ.get("LLMCOURSE_ONNX_WEIGHTS") or "q4x").strip().lower()
    if w not in WEIGHTS:
        raise LLMCourseError(f"LLMCOURSE_ONNX_WEIGHTS={w!r} is not one of {', '.join(WEIGHTS)}.")
    return w


def onnx_variant(weights: str | None = None) -> str:
    """A short name for the build settings (part of the cache folder's name)."""
    if (weights or onnx_weights()) == "q4x":
        from .onnx_q4 import VERSION as Q4_VERSION

        return f"q4x-v{VERSION}.{Q4_VERSION}"
    return f"{PRECISION}-v{VERSION}"


def onnx_dir(weights: str | None = None) -> Path:
    """The folder holding the ONNX model with these weights (default: onnx_weights(); may not exist yet)."""
    return cache_dir("models") / f"{model_info().api_id.lower()}-onnx-{onnx_variant(weights)}"


def onnx_is_cached(weights: str | None = None) -> bool:
    d = onnx_dir(weights)
    return (d / "model.onnx").exists() and (d / "llmcourse.json").exists()


def onnx_available() -> bool:
    """Whether this environment can build and run the ONNX backend."""
    return all(importlib.util.find_spec(m) is not None for m in ("onnxruntime", "onnxruntime_genai", "onnx"))


# The builder's own imports (torch, transformers, onnx_ir) take ~9 s. A builder started before the bf16 folder
# exists (`start_builder`) does them while the GGUF is converted, on the other core, then reads its arguments
# from stdin: a fresh `make setup` 9 s sooner. Same builder, same arguments, same output.
_WARM_BUILDER = (
    "import json, runpy, sys\n"
    "import onnxruntime_genai.models.builders  # the slow imports, before the arguments come\n"
    "line = sys.stdin.readline()\n"
    "if not line.strip():\n"
    "    sys.exit(0)  # not needed after all\n"
    "sys.argv = [sys.argv[0]] + json.loads(line)\n"
    f"runpy.run_module({BUILDER!r}, run_name='__main__', alter_sys=True)\n")


def _builder_env() -> dict:
    return dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TQDM_DISABLE="1")


def start_builder():
    """The ONNX builder in a process of its own, importing what it needs; `prepare_onnx(..., builder=)` hands it
    its arguments. One that is not used is killed (engine.prepare does)."""
    import subprocess as sp

    return sp.Popen([sys.executable, "-c", _WARM_BUILDER], stdin=sp.PIPE, stdout=sp.PIPE, stderr=sp.PIPE,
                    text=True, env=_builder_env())


def prepare_onnx(source: Path, *, force: bool = False, verbose: bool = True, builder=None) -> Path:
    """Build the ONNX model from the bf16 folder `source` once (atomic: a crash leaves no half cache):
    float32 from the builder, then (unless LLMCOURSE_ONNX_WEIGHTS=fp32) rewritten as q4x. Returns its
    folder. `builder`: a process from `start_builder()` to run the builder in (else a new one)."""
    weights = onnx_weights()
    target = onnx_dir(weights)
    if onnx_is_cached(weights) and not force:
        return target
    if not onnx_available():
        raise LLMCourseError("The fast local backend needs onnxruntime and onnxruntime-genai: run `make setup`, "
                             "or use LLMCOURSE_LOCAL_BACKEND=torch.")
    if verbose:
        print(f"Building the ONNX model ({onnx_variant(weights)}) in {target} (once, ~15-20 s)...", flush=True)
    t0 = time.perf_counter()
    for stale in target.parent.glob(target.name + ".tmp-*"):       # left by a build that was killed
        if not _alive(stale.name.rsplit("-", 1)[-1]):
            shutil.rmtree(stale, ignore_errors=True)
    built = _fresh_tmp(target, "fp32")
    try:
        counts = _build(source, built, target, weights, builder)
    finally:
        shutil.rmtree(built, ignore_errors=True)
    if verbose:
        kept = f"; {counts['q4']} projections as exact 4-bit blocks, {counts['float32']} float32" if counts else ""
        print(f"Built in {time.perf_counter() - t0:.1f} s{kept}.", flush=True)
    return target


def _build(source: Path, built: Path, target: Path, weights: str, builder=None) -> dict | None:
    """Run the builder into `built` (in `builder`, a process from start_builder, if given), rewrite it as q4x if
    asked, and move the result to `target`."""
    extra = [f"{k}={v}" for k, v in EXTRA_OPTIONS.items()]
    args = ["-i", str(source), "-o", str(built), "-p", PRECISION, "-e", "cpu",
            "-c", str(built / "build-cache"), "--extra_options", *extra]
    if builder is not None:
        _, stderr = builder.communicate(json.dumps(args) + "\n")
        code = builder.returncode
    else:
        proc = subprocess.run([sys.executable, "-m", BUILDER, *args], capture_output=True, text=True,
                              env=_builder_env())
        code, stderr = proc.returncode, proc.stderr
    if code != 0 or not (built / "model.onnx").exists():     # (prepare_onnx removes `built`)
        raise LLMCourseError(f"Building the ONNX model failed (exit {code}); use "
                             f"LLMCOURSE_LOCAL_BACKEND=torch meanwhile. Builder output:\n{stderr[-3000:]}")
    shutil.rmtree(built / "build-cache", ignore_errors=True)
    counts = None
    tmp = built
    try:
        if weights == "q4x":
            from .onnx_q4 import requantize

            tmp = _fresh_tmp(target, "q4x")
            for f in built.iterdir():
                if f.is_file() and not f.name.startswith("model.onnx"):
                    shutil.copy2(f, tmp / f.name)
            counts = requantize(built, tmp)
        (tmp / "llmcourse.json").write_text(json.dumps({"source": str(source), "precision": PRECISION,
                                                         "weights": weights, "extra_options": EXTRA_OPTIONS,
                                                         "version": VERSION, "variant": onnx_variant(weights),
                                                         "projections": counts}))
        shutil.rmtree(target, ignore_errors=True)
        try:
            tmp.rename(target)
        except OSError:
            if not onnx_is_cached(weights):      # another process finished the same build first: use it
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return counts


def _alive(pid: str) -> bool:
    try:
        os.kill(int(pid), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True


def _fresh_tmp(target: Path, tag: str) -> Path:
    tmp = target.with_name(target.name + f".tmp-{tag}-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    return tmp
