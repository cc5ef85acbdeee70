"""Train the ticket-routing LoRA adapter with trl's SFTTrainer: one script for a laptop, a GPU, or many.

    python week6_finetune/train.py --steps 60 --out runs/router           # one CPU or GPU
    accelerate launch --num_processes 1 --cpu week6_finetune/train.py     # the same under accelerate
    accelerate launch --num_processes 8 week6_finetune/train.py           # 8 GPUs, data parallel
    accelerate launch --config_file week6_finetune/accelerate/fsdp.yaml week6_finetune/train.py
    accelerate launch --config_file week6_finetune/accelerate/deepspeed_zero2.yaml week6_finetune/train.py

The script does not change between these: accelerate starts one process per device, and the trainer
reads the process group from the environment (see week6_finetune/README.md for multi-node).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(HERE / "data"), help="folder with raw_tickets.jsonl and test.jsonl")
    ap.add_argument("--out", default="runs/router", help="where to save the adapter")
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--batch-size", type=int, default=8, help="per device")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--rank", type=int, default=8)
    ap.add_argument("--limit", type=int, default=0, help="use only the first N training rows (smoke tests)")
    args = ap.parse_args(argv)

    from llmcourse.finetune import load_prepared, sft_train

    rows = load_prepared(args.data).train
    rows = rows[:args.limit] if args.limit else rows
    trainer = sft_train(rows, args.out, steps=args.steps, batch_size=args.batch_size, lr=args.lr, r=args.rank)
    if trainer.accelerator.is_main_process:
        losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
        summary = {"processes": trainer.accelerator.num_processes, "device": str(trainer.accelerator.device),
                   "steps": trainer.state.global_step, "losses": losses, "adapter": str(Path(args.out).resolve())}
        print(json.dumps(summary))


if __name__ == "__main__":
    main()
