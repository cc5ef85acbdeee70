"""The fast local backend: the same model as ONNX (onnx_build.py: the GGUF's 4-bit blocks, exactly)
run by ONNX Runtime, with our own decode loop (batching.py), so concurrent requests share each forward
pass, a prompt's known beginning is not read twice, and the course's logits processors (JSON grammar,
repetition penalty) work unchanged.

It has the interface of the transformers engine (engine.LocalEngine): `generate`, `stream`,
`encode_chat`, `count_tokens`, `grammar_compiler`, `tokenizer`... and `.model` is still the plain
transformers model (loaded on first use) for lessons that look inside; chat() never uses it.

>>> from llmcourse.engine import get_engine
>>> eng = get_engine("onnx")                                               # doctest: +SKIP
>>> "Paris" in eng.generate([{"role": "user", "content": "What is the capital of France?"}]).text
True
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Iterator

from .batching import BatchDecoder, Job, openmp_runtimes
from .engine_base import ChatEngineBase, Generation
from .onnx_build import prepare_onnx


def session_threads() -> int:
    """ONNX Runtime threads: OMP_NUM_THREADS when set (the course's one knob), else all cores (0)."""
    try:
        return max(0, int(os.environ.get("OMP_NUM_THREADS") or 0))
    except ValueError:
        return 0


class OnnxEngine(ChatEngineBase):
    """The local model as ONNX (onnx_build.py), decoded in batches."""

    backend = "onnx"

    def __init__(self, model_dir: Path, *, onnx_path: Path | None = None, torch_model=None):
        """model_dir: the bf16 folder (tokenizer, config); torch_model: a callable returning the
        transformers model, for `.model` (engine.get_engine passes the process-wide one)."""
        import onnxruntime as ort
        from transformers import AutoTokenizer

        t0 = time.perf_counter()
        self.model_dir = Path(model_dir)
        self._torch_model = torch_model
        self.onnx_dir = Path(onnx_path or prepare_onnx(self.model_dir))
        self.tokenizer = AutoTokenizer.from_pretrained(self.model_dir)
        config = json.loads((self.model_dir / "config.json").read_text())
        self._vocab = int(config["vocab_size"])
        so = ort.SessionOptions()
        so.intra_op_num_threads = session_threads()
        so.inter_op_num_threads = 1
        # Its threads spin between one pass's ops and the next pass (the worker picks a token in between):
        # one reply 66-82 -> 94-118 tokens/s on 2 cores (llama.cpp 125-128 in the same runs, 2026-12-04);
        # they stop spinning soon after the last pass. Only where the worker's own torch ops can be kept on
        # its thread (batching.torch_on_this_thread_only), or they and the spinning threads fight.
        so.add_session_config_entry("session.intra_op.allow_spinning", "1" if openmp_runtimes() else "0")
        self.session = ort.InferenceSession(str(self.onnx_dir / "model.onnx"), so,
                                            providers=["CPUExecutionProvider"])
        self.decoder = BatchDecoder(self.session, layers=int(config["num_hidden_layers"]),
                                    kv_heads=int(config["num_key_value_heads"]),
                                    head_dim=int(config.get("head_dim") or
                                                 config["hidden_size"] // config["num_attention_heads"]))
        self.eos = int(config.get("eos_token_id") or self.tokenizer.eos_token_id)
        self.load_seconds = time.perf_counter() - t0

    @property
    def vocab_size(self) -> int:
        return self._vocab

    @property
    def model(self):
        """The plain transformers model (bf16), for looking inside; chat() does not use it."""
        if self._torch_model is None:
            from transformers import AutoModelForCausalLM
            import torch

            model = AutoModelForCausalLM.from_pretrained(self.model_dir, dtype=torch.bfloat16).eval()
            self._torch_model = lambda: model
        return self._torch_model()

    # -- generation ----------------------------------------------------------------------------
    def submit(self, ids: list[int], *, max_tokens: int, temperature: float | None = None,
               top_p: float | None = None, seed: int | None = None, logits_processor=None) -> Job:
        """Queue a generation for token ids `ids`; iterate the returned Job for the new token ids."""
        procs = [] if logits_processor is None else (
            list(logits_processor) if isinstance(logits_processor, (list, tuple)) else [logits_processor])
        return self.decoder.submit(Job(list(ids), max_tokens, self.eos, temperature=temperature, top_p=top_p,
                                       seed=seed, processors=procs))

    def _job(self, messages, max_tokens, temperature, top_p, seed, logits_processor):
        ids = self._fit(self.encode_chat(messages), max_tokens)
        return ids, self.submit(ids[0].tolist(), max_tokens=max_tokens, temperature=temperature,
                                top_p=top_p, seed=seed, logits_processor=logits_processor)

    def generate(self, messages: list[dict], *, max_tokens: int = 256, temperature: float | None = None,
                 top_p: float | None = None, seed: int | None = None, logits_processor=None) -> Generation:
        """Complete a chat. Greedy when `temperature` is None or 0, sampled otherwise."""
        ids, job = self._job(messages, max_tokens, temperature, top_p, seed, logits_processor)
        try:
            new = list(job)
        finally:
            job.cancel()
        text = self.tokenizer.decode(new, skip_special_tokens=True)
        return Generation(text=text, input_tokens=int(ids.shape[1]), output_tokens=len(new))

    def stream(self, messages: list[dict], *, max_tokens: int = 256, temperature: float | None = None,
               top_p: float | None = None, seed: int | None = None, logits_processor=None,
               usage: dict | None = None) -> Iterator[str]:
        """Yield text chunks as they are generated. Closing the iterator stops generation.

        If `usage` is a dict, it is filled with input_tokens/output_tokens at the end.
        """
        ids, job = self._job(messages, max_tokens, temperature, top_p, seed, logits_processor)
        new: list[int] = []
        sent = ""
        try:
            for tok in job:
                new.append(tok)
                text = self.tokenizer.decode(new, skip_special_tokens=True)
                if text.endswith("\ufffd"):      # half a UTF-8 character: wait for the rest
                    continue
                if len(text) > len(sent):
                    chunk, sent = text[len(sent):], text
                    yield chunk
        finally:
            job.cancel()                         # a closed stream frees its row at the next step
        if usage is not None:
            usage.update(input_tokens=int(ids.shape[1]), output_tokens=len(new))

    # -- scoring (the quality gate) ------------------------------------------------------------
    def score(self, context: list[int], continuation: list[int]) -> tuple[list[float], bool]:
        """Log-probabilities of each `continuation` token after `context` (ids), and whether greedy
        decoding would have produced exactly the continuation. The context is read in one pass, the
        continuation one token per step (the model keeps only the last position's logits); calls
        from several threads are batched together."""
        import numpy as np

        rec = _Recorder(continuation)
        job = self.decoder.submit(Job(list(context), len(continuation), eos=-1, processors=[rec]))
        list(job)
        logps, greedy = [], True
        for row, tok in zip(rec.scores, continuation):
            row = row.astype(np.float64)
            m = row.max()
            logps.append(float(row[tok] - m - np.log(np.exp(row - m).sum())))
            greedy = greedy and int(row.argmax()) == tok
        return logps, greedy


class _Recorder:
    """A logits processor that keeps each step's logits and forces the given tokens (for scoring)."""

    def __init__(self, forced: list[int]):
        self.scores, self.forced = [], [int(t) for t in forced]

    def __call__(self, input_ids, scores):
        import torch

        self.scores.append(scores[0].numpy().copy())
        out = torch.full_like(scores, float("-inf"))
        out[0, self.forced[min(len(self.scores), len(self.forced)) - 1]] = 0.0
        return out
