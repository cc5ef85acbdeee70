"""Load the local model at different precisions and measure what that costs: memory, speed, quality.

>>> from llmcourse.lessons.quantize import load_local, perplexity
>>> model, tok = load_local("bf16")                      # doctest: +SKIP
>>> perplexity(model, tok, "The cat sat on the mat.")    # doctest: +SKIP
42.1

"int8" and "nf4" use bitsandbytes (which runs on CPU too); it is imported only when asked for,
because importing it prints warnings and pulls in torch's compiler stack (~3 s).
"""

from __future__ import annotations

import math
import time

from ..quiet import quiet_loading

PRECISIONS = ("fp32", "bf16", "int8", "nf4")


def load_local(precision: str = "bf16", model_dir=None):
    """(model, tokenizer) of the local model at `precision`: one of fp32, bf16, int8, nf4."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from ..engine import prepare

    if precision not in PRECISIONS:
        raise ValueError(f"Unknown precision {precision!r}; use one of {', '.join(PRECISIONS)}.")
    model_dir = model_dir or prepare(verbose=False)
    # int8 matmuls run in float16 (bitsandbytes casts anything else, with a warning per call)
    kw: dict = {"dtype": {"fp32": torch.float32, "int8": torch.float16}.get(precision, torch.bfloat16)}
    if precision in ("int8", "nf4"):
        from transformers import BitsAndBytesConfig

        kw["device_map"] = "cpu"
        kw["quantization_config"] = (
            BitsAndBytesConfig(load_in_8bit=True) if precision == "int8" else
            BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4",
                               bnb_4bit_compute_dtype=torch.bfloat16))
    with quiet_loading():
        tok = AutoTokenizer.from_pretrained(model_dir)
        model = AutoModelForCausalLM.from_pretrained(model_dir, **kw)
    return model.eval(), tok


def perplexity(model, tokenizer, text: str, *, max_tokens: int = 512) -> float:
    """exp(mean next-token cross-entropy) of `text` (its first `max_tokens` tokens). Lower is better."""
    import torch

    ids = tokenizer(text, return_tensors="pt")["input_ids"][:, :max_tokens]
    if ids.shape[1] < 2:
        raise ValueError("perplexity() needs a text of at least two tokens.")
    with torch.inference_mode():
        loss = model(ids, labels=ids).loss
    return math.exp(float(loss))


def tokens_per_second(model, tokenizer, prompt: str, *, new_tokens: int = 32) -> float:
    """Greedy generation speed: exactly `new_tokens` tokens after `prompt`, in tokens per second."""
    import torch

    ids = tokenizer(prompt, return_tensors="pt")["input_ids"]
    kw = dict(max_new_tokens=new_tokens, min_new_tokens=new_tokens, do_sample=False,
              temperature=None, top_p=None, top_k=None, pad_token_id=tokenizer.eos_token_id)
    with torch.inference_mode():
        start = time.perf_counter()
        out = model.generate(ids, attention_mask=torch.ones_like(ids), **kw)
        seconds = time.perf_counter() - start
    return (out.shape[1] - ids.shape[1]) / seconds


def fast_tokens_per_second(prompt: str, *, new_tokens: int = 32) -> tuple[float, str]:
    """The same greedy generation on the course's fast backend: ONNX Runtime running the bundled GGUF's own
    4-bit blocks (providers/local/onnx_q4.py) with a kernel written for them. Returns (tokens/s, the text).

    Timed like `tokens_per_second` (prompt read and tokens generated, the model already loaded); one short
    warm-up first, since ONNX Runtime sizes its buffers on its first pass. Stops early only at the end of text."""
    from ..errors import LLMCourseError
    from ..providers.local.engine import get_engine
    from ..providers.local.onnx_build import onnx_available

    if not onnx_available():
        raise LLMCourseError("The fast backend needs onnxruntime and onnxruntime-genai: run `make setup`.")
    engine = get_engine("onnx")
    ids = engine.tokenizer(prompt)["input_ids"]
    list(engine.submit(ids, max_tokens=1))                   # warm-up
    start = time.perf_counter()
    new = list(engine.submit(ids, max_tokens=new_tokens))
    seconds = time.perf_counter() - start
    return len(new) / seconds, engine.tokenizer.decode(new, skip_special_tokens=True)
