"""LoRA on the local model with peft: load a fresh trainable copy, add adapters, train, save, merge.

peft (and bitsandbytes, which peft imports) load only inside these functions.
"""

from __future__ import annotations

import contextlib
import math
import random
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import LLMCourseError
from ..quiet import quiet_loading
from .chat_format import IGNORE, collate, encode_example
from .data import to_messages
from .precision import autocast, device_of, resolve
from .precision import label as precision_label

DEFAULT_TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


def base_model_dir() -> Path:
    """The local model's safetensors folder (from the course's engine cache)."""
    from ..providers.local.engine import prepare

    return Path(prepare(verbose=False, onnx=False))  # the bf16 folder only: no model load, no ONNX build


def load_base(dtype: str = "float32", *, model_dir=None):
    """A fresh (model, tokenizer) from the safetensors folder: never the shared engine's model, so
    training cannot change what `chat(model="local")` answers."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model_dir = Path(model_dir or base_model_dir())
    tok = AutoTokenizer.from_pretrained(model_dir)
    with quiet_loading():
        model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=getattr(torch, dtype))
    return model, tok


# peft 0.21 and trl read transformers 5's deprecated `is_gradient_checkpointing` on every adapter they wrap or
# load: a FutureWarning the student can do nothing about, hidden (only that one) from the lesson's output.
warnings.filterwarnings("ignore", message=r".*`is_gradient_checkpointing` is deprecated", category=FutureWarning)


def add_lora(model, *, r: int = 8, alpha: int = 16, dropout: float = 0.0,
             target_modules=DEFAULT_TARGETS, seed: int | None = 0):
    """Wrap `model` with LoRA adapters (rank r, scale alpha/r) on `target_modules`; base weights frozen.

    `seed`: the adapters' random start (A; B starts at zero) is drawn from this seed, so the same settings give
    the same adapters whatever ran before in the process (None: from torch's global generator). Without it a
    test's trained model depended on which tests had run before it in the same worker (trained losses 0.452
    and 0.454 in two runs of the same code, 2026-12-03). The global generator is left as it was.

    `dropout` (on each adapter's input) regularizes long runs on little data; 0 by default because our runs
    are 30 steps and on a CPU its random masks cost a third of a step (30 steps, one thread, bf16 mixed, eager
    attention: 2.22 s against 3.27 s per step, with the same accuracy after them: 0.75 and 0.74; 2026-12-03)."""
    import torch
    from peft import LoraConfig, get_peft_model

    cfg = LoraConfig(r=r, lora_alpha=alpha, lora_dropout=dropout, target_modules=list(target_modules),
                     task_type="CAUSAL_LM")
    if seed is None:
        return get_peft_model(model, cfg)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return get_peft_model(model, cfg)


def trainable_parameters(model) -> tuple[int, int]:
    """(trainable, total) parameter counts."""
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return trainable, sum(p.numel() for p in model.parameters())


@dataclass
class TrainResult:
    """What a training run did: the loss at every step, the time it took, and the settings."""

    losses: list[float]
    seconds: float
    steps: int
    settings: dict = field(default_factory=dict)

    @property
    def seconds_per_step(self) -> float:
        return self.seconds / max(self.steps, 1)

    def smoothed(self, k: int = 5) -> list[float]:
        return [sum(self.losses[max(0, i - k + 1):i + 1]) / len(self.losses[max(0, i - k + 1):i + 1])
                for i in range(len(self.losses))]

    def __repr__(self) -> str:
        first, last = self.smoothed()[min(4, self.steps - 1)], self.smoothed()[-1]
        precision = f", {self.settings['precision']}" if "precision" in self.settings else ""
        return (f"TrainResult(steps={self.steps}, loss {first:.3f} -> {last:.3f}, "
                f"{self.seconds:.0f} s, {self.seconds_per_step:.2f} s/step{precision})")


def encode_rows(tokenizer, rows: list[dict], *, max_tokens: int = 256) -> list[dict]:
    """{"text","label"} rows as encoded chat examples (loss on the answer tokens only)."""
    return [encode_example(tokenizer, to_messages(r["text"], r["label"]), max_tokens=max_tokens) for r in rows]


def _check_gradients(model, step: int) -> None:
    """After the first backward pass: the LoRA B matrices (zero at the start) must all get gradients.
    Measured with the 4-bit CPU trap: only 60 of 420 adapter tensors got any, against all B's normally."""
    named = [(n, p.grad) for n, p in model.named_parameters() if p.requires_grad]
    grads = [g for n, g in named if "lora_B" in n] or [g for _, g in named]
    alive = sum(g is not None and bool(g.abs().sum() > 0) for g in grads)
    if alive < 0.5 * len(grads):
        raise LLMCourseError(
            f"Step {step}: {len(grads) - alive} of {len(grads)} adapter tensors got a zero gradient, so training "
            f"would learn (almost) nothing. With a 4-bit model this is the bitsandbytes CPU trap: the model ran "
            f"inference before training and its weights were repacked. Load a fresh model (load_4bit()) and "
            f"train it before any generate() or forward pass.")


@contextlib.contextmanager
def using_attention(model, implementation: str | None):
    """Run `model` with another attention implementation inside the block ("eager", "sdpa"), then restore it.
    None, or a model that cannot switch (not a transformers model), keeps the model's own."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    if implementation is None or not hasattr(base, "set_attn_implementation"):
        yield model
        return
    before = base.config._attn_implementation
    base.set_attn_implementation(implementation)
    try:
        yield model
    finally:
        base.set_attn_implementation(before)


def answer_loss(model, batch: dict):
    """The mean cross-entropy on the answer tokens, as `model(**batch).loss` computes it, with the vocabulary
    projection run only where a label is (`logits_to_keep`): about 3 of a ticket's 80 positions, so each
    training step skips most of the 49,152-wide lm_head matmul and its backward pass."""
    import torch.nn.functional as F

    labels = batch["labels"]
    keep = labels.new_zeros(labels.shape, dtype=bool)
    keep[:, :-1] = labels[:, 1:] != IGNORE       # position p predicts token p + 1
    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], logits_to_keep=keep).logits
    return F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), labels[:, 1:][keep[:, :-1]])


def train(model, tokenizer, rows: list[dict], *, steps: int = 60, batch_size: int = 8, lr: float = 1e-3,
          warmup: int = 5, seed: int = 0, precision: str = "auto", attention: str | None = "auto",
          progress: bool = True) -> TrainResult:
    """A plain PyTorch loop over shuffled batches: AdamW on the trainable (adapter) parameters, linear
    warm-up then cosine decay, loss on the answer tokens, a tqdm bar showing the loss.

    `precision`: "auto" runs the forward pass in bf16 mixed precision where the hardware computes in bf16
    (the adapters, optimizer and loss stay float32), else float32; "bf16" or "fp32" to choose (see
    `llmcourse.finetune.precision`).

    `attention`: the attention implementation used while training; "auto" means "eager" on a CPU and the
    model's own on a GPU (None: always the model's own). Eager (plain matmul + softmax) has the faster
    backward pass for ~90-token tickets on a CPU: 30 LoRA steps on one thread in bf16 mixed took 71 s
    against 107 s with PyTorch's fused "sdpa", 8 QLoRA steps 27 s against 33 s (2026-12-03). The model gets its
    own attention back afterwards: for generation with long prompts sdpa is the faster one (40 tickets with 5
    retrieved examples each: 21 s against 30 s)."""
    import torch
    from tqdm.auto import tqdm

    torch.manual_seed(seed)
    rng = random.Random(seed)
    examples = encode_rows(tokenizer, rows)
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise LLMCourseError("The model has no trainable parameters: wrap it with add_lora() first.")
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.0)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / warmup) * 0.5 * (
        1 + math.cos(math.pi * min(s, steps) / steps)))
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    precision = resolve(model, precision)
    if attention == "auto":
        attention = "eager" if device_of(model) == "cpu" else None
    model.train()
    order, losses, t0 = [], [], time.perf_counter()
    bar = tqdm(range(steps), desc="training", disable=not progress)
    try:
        with using_attention(model, attention):
            for step in bar:
                if len(order) < batch_size:
                    order += rng.sample(range(len(examples)), len(examples))
                batch = {k: v.to(model.device)
                         for k, v in collate([examples[i] for i in order[:batch_size]], pad).items()}
                del order[:batch_size]
                with autocast(model, precision):
                    loss = answer_loss(model, batch)
                loss.backward()
                if step == 0:
                    _check_gradients(model, step)
                opt.step()
                sched.step()
                opt.zero_grad(set_to_none=True)
                losses.append(float(loss.detach()))
                bar.set_postfix(loss=f"{losses[-1]:.3f}")
    finally:
        model.eval()   # also when the gradient check stops training, or on an interrupt
    return TrainResult(losses, time.perf_counter() - t0, steps,
                       {"batch_size": batch_size, "lr": lr, "examples": len(examples),
                        "precision": precision_label(model, precision)})


def plot_loss(result: TrainResult, *, ax=None, label: str = "loss"):
    """Loss per step (faint) and its moving average: a falling curve is the model learning."""
    import matplotlib.pyplot as plt

    ax = ax or plt.subplots(figsize=(6, 3))[1]
    ax.plot(result.losses, alpha=0.3, label=f"{label} (per step)")
    ax.plot(result.smoothed(), label=f"{label} (moving average)")
    ax.set_xlabel("step")
    ax.set_ylabel("cross-entropy on answer tokens")
    ax.legend()
    return ax


def save_adapter(model, path) -> Path:
    """Save only the adapter weights and config (a few MB), not the base model."""
    path = Path(path)
    model.save_pretrained(path)
    return path


def load_adapter(path, *, dtype: str = "float32", model_dir=None):
    """(model, tokenizer): a fresh base model with the saved adapter attached."""
    from peft import PeftModel

    base, tok = load_base(dtype, model_dir=model_dir)
    return PeftModel.from_pretrained(base, str(path)).eval(), tok


def merge(model, path=None, tokenizer=None):
    """Fold the adapter into the base weights (W + B·A·alpha/r): a plain transformers model, no peft needed
    to serve it. With `path`, save it there (safetensors + tokenizer) as well."""
    merged = model.merge_and_unload()
    if path is not None:
        merged.save_pretrained(path)
        if tokenizer is not None:
            tokenizer.save_pretrained(path)
    return merged
