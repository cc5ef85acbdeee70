"""QLoRA: LoRA adapters trained on top of a 4-bit (nf4) base model, with bitsandbytes.

The base weights are stored in 4 bits (about a quarter of bf16's memory) and dequantised on the fly;
only the small adapters are trained, in higher precision. On CPU this works with bitsandbytes' CPU
library, slowly; on a GPU it is the standard way to fine-tune a model larger than memory allows.

The CPU trap: if the 4-bit model runs any inference before training, bitsandbytes repacks its weights
for the CPU kernel and training then gets zero gradients. So load_4bit() always loads a fresh model,
and lora.train() checks the first step's gradients and stops with an explanation if they are all zero.
"""

from __future__ import annotations

from pathlib import Path

from ..quiet import quiet_loading
from .lora import DEFAULT_TARGETS, add_lora, base_model_dir
from .precision import native_bf16


def default_compute_dtype(device: str) -> str:
    """bfloat16 on CUDA and where the CPU computes it (AVX512-BF16 or AMX: `precision.native_bf16`), else
    float32: on an AVX2-only CPU bf16 matmuls are emulated, and a QLoRA step took 28.5 s in bf16 against
    3.2 s in float32 (2 examples, 2 cores, 2026-12-02)."""
    return "bfloat16" if device.startswith("cuda") or native_bf16(device) else "float32"


def load_4bit(*, model_dir=None, device: str | None = None, compute_dtype: str | None = None):
    """A freshly loaded (model, tokenizer) with 4-bit nf4 weights on `device` (default: cuda if present),
    computing in `compute_dtype` (default: `default_compute_dtype(device)`)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, BitsAndBytesConfig

    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    compute_dtype = compute_dtype or default_compute_dtype(device)
    cfg = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4",
                             bnb_4bit_compute_dtype=getattr(torch, compute_dtype), bnb_4bit_use_double_quant=True)
    model_dir = Path(model_dir or base_model_dir())
    with quiet_loading():
        model = AutoModelForCausalLM.from_pretrained(model_dir, quantization_config=cfg, device_map=device)
        tok = AutoTokenizer.from_pretrained(model_dir)
    return model, tok


def add_qlora(model, *, r: int = 8, alpha: int = 16, dropout: float = 0.0, target_modules=DEFAULT_TARGETS,
              seed: int | None = 0):
    """Prepare a 4-bit model for training (norms in fp32, input gradients on) and add LoRA adapters (seeded:
    see add_lora)."""
    from peft import prepare_model_for_kbit_training

    model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=False)
    return add_lora(model, r=r, alpha=alpha, dropout=dropout, target_modules=target_modules, seed=seed)


def weight_bytes(model) -> int:
    """Bytes held by the model's parameters and buffers (4-bit weights count as packed bytes)."""
    return sum(t.numel() * t.element_size() for t in list(model.parameters()) + list(model.buffers()))
