"""The data process for week 6: read, parse, assess, curate, split and save support tickets.

Pure Python (json, random): no pandas or torch, so the checks run anywhere and fast.

>>> from llmcourse.finetune.data import normalise_label
>>> normalise_label("Billing "), normalise_label("billing_issue"), normalise_label("RMA")
('billing', 'billing', 'returns')
"""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import LLMCourseError

LABELS = ("billing", "technical", "account", "shipping", "returns")
SYSTEM_PROMPT = ("Route the customer support ticket to one queue: billing, technical, account, shipping "
                 "or returns. Reply with the queue name only.")
# How agents spelt each queue in the raw export, after lower-casing and trimming (see make_raw.py).
LABEL_ALIASES = {
    "billing": "billing", "billing_issue": "billing", "payments/billing": "billing",
    "technical": "technical", "tech": "technical", "technical support": "technical", "tech support": "technical",
    "account": "account", "acct": "account", "account_access": "account", "account & login": "account",
    "shipping": "shipping", "delivery": "shipping", "shipping/delivery": "shipping",
    "returns": "returns", "return": "returns", "rma": "returns", "returns_exchanges": "returns",
}
MISSING = (None, "", "N/A", "n/a", "null")


class DataError(LLMCourseError):
    """Malformed rows; `.problems` lists them as 'file:line: what is wrong'."""

    def __init__(self, path, problems: list[str]):
        self.problems = problems
        shown = "\n  ".join(problems[:10]) + (f"\n  ... and {len(problems) - 10} more" if len(problems) > 10 else "")
        super().__init__(f"{len(problems)} malformed row(s) in {path}:\n  {shown}\n"
                         f"Fix or delete those lines, or pass strict=False to skip them and get the list back.")


@dataclass
class Loaded:
    """Rows read from a JSONL file, with the 1-based line number of each and the lines rejected."""

    rows: list[dict]
    lines: list[int]
    problems: list[str] = field(default_factory=list)


def read_jsonl(path, *, required: tuple[str, ...] = (), strict: bool = True) -> Loaded:
    """Read one JSON object per line. A line that is not a JSON object, or lacks a `required`
    field, is reported by its line number: raised as DataError when strict, else returned."""
    path = Path(path)
    rows, lines, problems = [], [], []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"{path.name}:{n}: not valid JSON ({exc.msg} at column {exc.colno})")
            continue
        if not isinstance(row, dict):
            problems.append(f"{path.name}:{n}: expected a JSON object, got {type(row).__name__}")
            continue
        absent = [k for k in required if row.get(k) in MISSING]
        if absent:
            problems.append(f"{path.name}:{n}: missing {', '.join(absent)}")
            continue
        rows.append(row)
        lines.append(n)
    if problems and strict:
        raise DataError(path, problems)
    return Loaded(rows, lines, problems)


def normalise_label(raw) -> str | None:
    """The canonical queue for a label as typed in the raw export, or None if it is unknown/missing."""
    if raw in MISSING or not isinstance(raw, str):
        return None
    return LABEL_ALIASES.get(re.sub(r"\s+", " ", raw.strip().lower()))


def ticket_text(row: dict) -> str:
    """Subject and body as the model sees them: 'Subject: body', whitespace collapsed."""
    subject = row.get("subject") if row.get("subject") not in MISSING else "(no subject)"
    body = re.sub(r"\s+", " ", str(row.get("body") or "")).strip()
    return f"{subject}: {body}"


def _dedupe_key(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


@dataclass
class CurationReport:
    """What curation kept and why it dropped the rest (counts per reason, with examples)."""

    kept: int
    dropped: Counter
    examples: dict[str, list[str]]
    relabelled: int

    def __str__(self) -> str:
        parts = [f"kept {self.kept}"] + [f"{why}: {n}" for why, n in self.dropped.most_common()]
        return ", ".join(parts) + f"; labels normalised: {self.relabelled}"


def curate(rows: list[dict], *, min_chars: int = 25, max_chars: int = 1000,
           exclude: set[str] = frozenset()) -> tuple[list[dict], CurationReport]:
    """Clean tickets into {"text", "label"} rows: normalise labels; drop rows with no usable label or
    body, too short (noise like "test") or too long (pasted logs), duplicates (case/spacing-insensitive),
    and any text in `exclude` (the test set: it must never leak into training)."""
    excluded = {_dedupe_key(t) for t in exclude}
    seen, out, dropped, examples, relabelled = set(), [], Counter(), {}, 0

    def drop(why: str, text: str) -> None:
        dropped[why] += 1
        examples.setdefault(why, []).append(text[:80])

    for row in rows:
        text = row["text"] if "text" in row else ticket_text(row)
        raw_label = row.get("label", row.get("category"))
        label = normalise_label(raw_label)
        if label is None:
            drop("no usable label", f"{raw_label!r}: {text}")
        elif row.get("body", "x") in MISSING:
            drop("missing body", text)
        elif len(text) < min_chars:
            drop("too short", text)
        elif len(text) > max_chars:
            drop("too long", text)
        elif (key := _dedupe_key(text)) in excluded:
            drop("in the test set", text)
        elif key in seen:
            drop("duplicate", text)
        else:
            seen.add(key)
            relabelled += raw_label != label
            out.append({"text": text, "label": label})
    return out, CurationReport(len(out), dropped, examples, relabelled)


def split(rows: list[dict], *, validation: float = 0.15, seed: int = 0) -> tuple[list[dict], list[dict]]:
    """Stratified train/validation split: each label keeps its share in both parts."""
    rng = random.Random(seed)
    train, val = [], []
    for label in LABELS:
        group = [r for r in rows if r["label"] == label]
        rng.shuffle(group)
        k = max(1, round(len(group) * validation)) if group else 0
        val += group[:k]
        train += group[k:]
    rng.shuffle(train)
    rng.shuffle(val)
    return train, val


def to_messages(text: str, label: str | None = None, *, system: str = SYSTEM_PROMPT) -> list[dict]:
    """One example in chat format: system, user (the ticket) and, for training, the assistant's label."""
    msgs = [{"role": "system", "content": system}, {"role": "user", "content": text}]
    if label is not None:
        msgs.append({"role": "assistant", "content": label})
    return msgs


def write_jsonl(rows: list[dict], path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def write_chat_jsonl(rows: list[dict], path, *, system: str = SYSTEM_PROMPT) -> Path:
    """Save {"text","label"} rows as chat-format JSONL ({"messages": [...]} per line)."""
    return write_jsonl([{"messages": to_messages(r["text"], r["label"], system=system)} for r in rows], path)


@dataclass
class TicketData:
    """The curated splits and how they were made."""

    train: list[dict]
    validation: list[dict]
    test: list[dict]
    report: CurationReport
    problems: list[str]
    sources: dict[str, int]

    def __repr__(self) -> str:
        return (f"TicketData(train={len(self.train)}, validation={len(self.validation)}, test={len(self.test)}, "
                f"sources={self.sources}, rejected_lines={len(self.problems)})")


def prepare_tickets(data_dir, *, out_dir=None, seed: int = 0) -> TicketData:
    """The whole data process in one call: read the raw export (reporting broken lines), add week 3's
    synthetic tickets when `synthetic_tickets.jsonl` exists (training only), curate, split, and save
    train/validation/test as chat-format JSONL in `out_dir` (default: prepared_dir(), in the user cache,
    so running the notebooks leaves the repository unchanged)."""
    data_dir = Path(data_dir)
    raw = read_jsonl(data_dir / "raw_tickets.jsonl", strict=False)
    test = read_jsonl(data_dir / "test.jsonl", required=("text", "label")).rows
    bad = [r for r in test if r["label"] not in LABELS]
    if bad:
        raise DataError(data_dir / "test.jsonl", [f"unknown label {r['label']!r} (use one of {LABELS})" for r in bad])
    rows, sources, problems = list(raw.rows), {"raw export": len(raw.rows)}, list(raw.problems)
    synthetic = data_dir / "synthetic_tickets.jsonl"
    if synthetic.exists():
        syn = read_jsonl(synthetic, required=("text", "label"), strict=False)
        rows += syn.rows
        sources["week 3 synthetic"] = len(syn.rows)
        problems += syn.problems
    clean, report = curate(rows, exclude={r["text"] for r in test})
    train, val = split(clean, seed=seed)
    out = Path(out_dir) if out_dir else prepared_dir()
    for name, part in (("train", train), ("validation", val), ("test", test)):
        write_chat_jsonl(part, out / f"{name}.jsonl")
    return TicketData(train, val, test, report, problems, sources)


def prepared_dir() -> Path:
    """Where prepare_tickets saves the splits by default: <user cache>/week6/prepared."""
    from ..settings import cache_dir

    return cache_dir("week6", "prepared")


def load_prepared(data_dir) -> TicketData:
    """Re-read splits saved by prepare_tickets (a restart point for later notebooks); prepares them first
    if they are missing."""
    out = prepared_dir()
    if not all((out / f"{n}.jsonl").exists() for n in ("train", "validation", "test")):
        return prepare_tickets(data_dir)

    def back(name):
        return [{"text": m["messages"][1]["content"], "label": m["messages"][2]["content"]}
                for m in read_jsonl(out / f"{name}.jsonl", required=("messages",)).rows]

    return TicketData(back("train"), back("validation"), back("test"), CurationReport(0, Counter(), {}, 0), [], {})
