"""Week 6: fine-tuning the local model (LoRA, QLoRA, trl) and a frontier model (OpenAI's API).

>>> from llmcourse.finetune import prepare_tickets, load_base, add_lora, train, score  # doctest: +SKIP
>>> data = prepare_tickets("week6_finetune/data")                                    # doctest: +SKIP
>>> model, tok = load_base(); model = add_lora(model)                                 # doctest: +SKIP
>>> train(model, tok, data.train, steps=60); score(model, tok, data.test)            # doctest: +SKIP

Modules: data (read, curate, split, save), chat_format (template + answer-only loss), lora (peft,
training loop, save/load/merge), precision (bf16 mixed precision where the hardware has it), qlora
(bitsandbytes 4-bit), sft (trl's SFTTrainer), evaluate (accuracy on the held-out set), baselines
(scikit-learn, retrieval shots), results (figures shared between notebooks), frontier (OpenAI
fine-tuning jobs), drift (input monitoring). Heavy libraries (torch, peft, bitsandbytes, trl) load only when used.
"""

from __future__ import annotations

from .._lazy import lazy_exports

_EXPORTS = {
    "LABELS": "data", "SYSTEM_PROMPT": "data", "DataError": "data", "read_jsonl": "data",
    "normalise_label": "data", "ticket_text": "data", "curate": "data", "split": "data",
    "to_messages": "data", "write_chat_jsonl": "data", "prepare_tickets": "data", "load_prepared": "data", "prepared_dir": "data",
    "encode_example": "chat_format", "collate": "chat_format",
    "load_base": "lora", "add_lora": "lora", "train": "lora", "TrainResult": "lora", "plot_loss": "lora",
    "trainable_parameters": "lora", "save_adapter": "lora", "load_adapter": "lora", "merge": "lora",
    "load_4bit": "qlora", "add_qlora": "qlora", "weight_bytes": "qlora",
    "sft_train": "sft", "native_bf16": "precision",
    "score": "evaluate", "score_chat": "evaluate", "usd_per_1000": "evaluate", "parse_label": "evaluate", "pick_shots": "evaluate", "few_shot_messages": "evaluate",
    "Scores": "evaluate", "perplexity": "evaluate", "generate_answers": "evaluate",
    "baselines": "baselines", "retrieval_shots": "baselines",
    "record": "results", "load_results": "results", "results_table": "results",
    "build_openai_jsonl": "frontier", "validate_openai_jsonl": "frontier", "estimate_training_cost": "frontier",
    "start_job": "frontier", "wait_for_job": "frontier", "ask_finetuned": "frontier",
    "drift_check": "drift", "psi": "drift",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
