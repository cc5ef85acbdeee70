"""Ready-made specs: the support tickets week 6 fine-tunes a classifier on.

The week 6 contract: one JSON object per line, {"text": a customer's message, "label": one of
TICKET_LABELS}. The label comes from the attribute grid (label x persona x tone), so it is exactly the
one asked for; the model writes only the text.
"""

from __future__ import annotations

from .spec import DatasetSpec, no_repetition

TICKET_LABELS = ["billing", "technical", "account", "shipping", "returns"]
PERSONAS = ["student", "retiree", "small business owner", "parent"]
TONES = ["polite", "angry", "confused"]
TICKET_BRIEF = "You write support tickets as customers of an online electronics shop would."

# Hand-written seeds, one per label (shown two at a time; never written to the dataset).
TICKET_EXAMPLES = [
    {"text": "I was charged twice for order 4471 this morning. Please refund the second payment.", "label": "billing"},
    {"text": "My new headphones will not pair with my phone over Bluetooth. I tried resetting them twice.",
     "label": "technical"},
    {"text": "I can't log in to my account: the password reset email never arrives.", "label": "account"},
    {"text": "The tracking page has said 'label created' for six days. Where is my parcel?", "label": "shipping"},
    {"text": "The keyboard I bought is missing two keys. How do I send it back for a refund?", "label": "returns"},
]


def ticket_schema(max_length: int = 200) -> dict:
    """The row schema: a free-text `text` (at most `max_length` characters) and a `label`."""
    return {"title": "Ticket", "type": "object", "additionalProperties": False, "required": ["text", "label"],
            "properties": {"text": {"type": "string", "minLength": 15, "maxLength": max_length,
                                    "description": "the customer's message"},
                           "label": {"type": "string", "enum": TICKET_LABELS}}}


def ticket_spec(max_length: int = 200) -> DatasetSpec:
    """The support-ticket spec of week 6: 5 labels x 4 personas x 3 tones = 60 grid cells."""
    return DatasetSpec(ticket_schema(max_length), brief=TICKET_BRIEF, examples=TICKET_EXAMPLES,
                       grid={"label": TICKET_LABELS, "persona": PERSONAS, "tone": TONES},
                       checks=[no_repetition], name="tickets")


def eval_texts(paths) -> list[str]:
    """The texts of evaluation files (JSONL; every string field of a row, joined) for a leakage check."""
    import json
    from pathlib import Path

    from .dedupe import row_text

    out = []
    for p in paths:
        for line in Path(p).read_text(encoding="utf-8").splitlines():
            if line.strip():
                out.append(row_text(json.loads(line)))
    return out


def write_training_file(dataset, path, *, eval_files=(), n: int = 8, threshold: float = 0.5) -> dict:
    """Write week 6's file: {"text", "label"} per line, without any row that leaks into `eval_files`
    (word `n`-gram overlap >= `threshold`, see `leakage`). Returns what was written and dropped."""
    from .dedupe import leakage
    from .export import to_jsonl

    rows = [{"text": r["text"], "label": r["label"]} for r in getattr(dataset, "rows", dataset)]
    leaks = leakage(rows, eval_texts(eval_files), n=n, threshold=threshold) if eval_files else []
    drop = {d["row_index"] for d in leaks}
    kept = [r for i, r in enumerate(rows) if i not in drop]
    to_jsonl(kept, path)
    return {"path": str(path), "written": len(kept), "dropped_for_leakage": len(drop), "leaks": leaks}
