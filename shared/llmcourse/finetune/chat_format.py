"""Turn chat examples into training tensors: the model's own chat template, loss on the answer only.

A causal LM learns from every position whose label is not -100. We copy the token ids into the labels
and blank out (-100) everything before the assistant's answer, so the model is trained to produce the
queue name (and the end-of-turn token), not to re-predict the system prompt and the ticket.
"""

from __future__ import annotations

IGNORE = -100


def encode_example(tokenizer, messages: list[dict], *, max_tokens: int = 256) -> dict:
    """{"input_ids", "labels"} for one conversation whose last message is the assistant's answer.
    Raises ValueError if the template does not render the prompt as a prefix of the full conversation
    (then loss masking by position would be wrong)."""
    if messages[-1]["role"] != "assistant":
        raise ValueError("The last message must be the assistant's answer (the part the loss is computed on).")
    prompt = tokenizer.apply_chat_template(messages[:-1], tokenize=False, add_generation_prompt=True)
    full = tokenizer.apply_chat_template(messages, tokenize=False)
    if not full.startswith(prompt):
        raise ValueError("The chat template does not render the prompt as a prefix of the full conversation; "
                         "mask the answer by text search instead of by position.")
    p_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    a_ids = tokenizer(full[len(prompt):].rstrip("\n"), add_special_tokens=False)["input_ids"]
    ids = (p_ids + a_ids)[-max_tokens:]
    labels = ([IGNORE] * len(p_ids) + a_ids)[-max_tokens:]
    return {"input_ids": ids, "labels": labels}


def collate(batch: list[dict], pad_id: int) -> dict:
    """Right-pad a list of encoded examples into tensors (padding is masked out of attention and loss)."""
    import torch

    n = max(len(b["input_ids"]) for b in batch)
    ids = torch.full((len(batch), n), pad_id, dtype=torch.long)
    labels = torch.full((len(batch), n), IGNORE, dtype=torch.long)
    mask = torch.zeros((len(batch), n), dtype=torch.long)
    for i, b in enumerate(batch):
        k = len(b["input_ids"])
        ids[i, :k] = torch.tensor(b["input_ids"])
        labels[i, :k] = torch.tensor(b["labels"])
        mask[i, :k] = 1
    return {"input_ids": ids, "labels": labels, "attention_mask": mask}
