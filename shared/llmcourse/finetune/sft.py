"""The higher-level path: trl's SFTTrainer does the loop, the masking and the LoRA wrapping for us.

It runs the same on one CPU, one GPU, or many (launched with `accelerate launch`: see
week6_finetune/train.py). Prompt-completion data makes trl compute the loss on the completion (the
queue name) only, with the model's chat template.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..quiet import quiet_loading
from .data import to_messages
from .lora import DEFAULT_TARGETS, base_model_dir
from .precision import native_bf16


def prompt_completion(rows: list[dict]):
    """{"text","label"} rows as a datasets.Dataset of conversational prompt/completion pairs."""
    from datasets import Dataset

    return Dataset.from_list([{"prompt": to_messages(r["text"]),
                               "completion": [{"role": "assistant", "content": r["label"]}]} for r in rows])


def sft_train(rows: list[dict], out_dir, *, steps: int = 60, batch_size: int = 8, lr: float = 1e-3,
              r: int = 8, alpha: int = 16, model_dir=None, seed: int = 0, bf16: bool | None = None):
    """Train a LoRA adapter with trl's SFTTrainer and save it to `out_dir`; returns the trainer (its
    `state.log_history` holds the losses). Uses CUDA when present, else the CPU; `bf16=None` follows
    `accelerate launch --mixed_precision`, and otherwise trains in bf16 mixed precision where the hardware
    computes in it (as `train(precision="auto")`)."""
    import torch
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    cuda = torch.cuda.is_available()
    model_dir = Path(model_dir or base_model_dir())
    with quiet_loading():
        tok = AutoTokenizer.from_pretrained(model_dir)
        # eager attention on a CPU: the faster backward pass for short sequences (see lora.train)
        model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32,
                                                     attn_implementation=None if cuda else "eager")
    if bf16 is None:   # `accelerate launch --mixed_precision ...` decides; else bf16 where the hardware has it
        launched = os.environ.get("ACCELERATE_MIXED_PRECISION")
        bf16 = launched == "bf16" if launched else native_bf16("cuda" if cuda else "cpu")
    cfg = SFTConfig(output_dir=str(out_dir), max_steps=steps, per_device_train_batch_size=batch_size,
                    learning_rate=lr, lr_scheduler_type="cosine", warmup_steps=min(5, steps),
                    logging_steps=max(1, steps // 10), save_strategy="no", report_to="none", seed=seed,
                    use_cpu=not cuda, bf16=bf16, activation_checkpointing=False,
                    completion_only_loss=True, max_length=256, disable_tqdm=False, dataloader_num_workers=0)
    lora = LoraConfig(r=r, lora_alpha=alpha, lora_dropout=0.0, target_modules=list(DEFAULT_TARGETS),
                      task_type="CAUSAL_LM")
    trainer = SFTTrainer(model=model, args=cfg, train_dataset=prompt_completion(rows), processing_class=tok,
                         peft_config=lora)
    trainer.train()
    if trainer.accelerator.is_main_process:
        trainer.model.save_pretrained(out_dir)
        tok.save_pretrained(out_dir)
    return trainer
