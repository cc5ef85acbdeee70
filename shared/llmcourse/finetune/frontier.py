"""Fine-tuning a frontier model through its provider's API (closed weights: the only way).

OpenAI's supervised fine-tuning takes a JSONL file, one {"messages": [...]} conversation per line,
trains for some epochs and returns a model id ("ft:gpt-4.1-mini-2025-04-14:org::abc123") you call
like any other. This module builds and validates that file, estimates the bill, uploads it, creates
and polls the job, and asks the result. Every step runs for real with OPENAI_API_KEY; the tests
replay the HTTP (tests/http_replay.py) through the real `openai` SDK.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

from .. import settings
from ..errors import LLMCourseError
from .data import to_messages

# Training prices in USD per million training tokens (tokens in the file x epochs), and the price per
# million input/output tokens for calling the fine-tuned model. Figures as OpenAI published them in 2025
# (platform.openai.com/docs/pricing, "Fine-tuning"); NOT re-read on 2026-12-02 (no internet where this
# was written): check the page before you spend. The registry (models.toml) does not hold them yet.
TRAINING_PRICES = {
    "gpt-4.1-mini-2025-04-14": {"training": 5.00, "input": 0.80, "output": 3.20},
    "gpt-4.1-2025-04-14": {"training": 25.00, "input": 3.00, "output": 12.00},
    "gpt-4o-mini-2024-07-18": {"training": 3.00, "input": 0.30, "output": 1.20},
}
DEFAULT_BASE = "gpt-4.1-mini-2025-04-14"
ROLES = {"system", "user", "assistant"}
MIN_EXAMPLES = 10
MAX_EXAMPLE_TOKENS = 65_536
DONE = {"succeeded", "failed", "cancelled"}


def build_openai_jsonl(rows: list[dict], path) -> Path:
    """Write {"text","label"} rows as OpenAI fine-tuning JSONL (system + user + assistant per line)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps({"messages": to_messages(r["text"], r["label"])}) + "\n" for r in rows))
    return path


def _line_problems(n: int, obj) -> list[str]:
    if not isinstance(obj, dict) or not isinstance(obj.get("messages"), list) or not obj["messages"]:
        return [f"line {n}: needs a non-empty \"messages\" list"]
    out = [f"line {n}: unexpected key {k!r} (only \"messages\" is used)" for k in obj if k not in ("messages", "tools")]
    for i, m in enumerate(obj["messages"]):
        if not isinstance(m, dict) or m.get("role") not in ROLES:
            out.append(f"line {n}, message {i}: role must be one of {sorted(ROLES)}")
        elif not isinstance(m.get("content"), str) or not m["content"].strip():
            out.append(f"line {n}, message {i}: empty or non-text content")
    if not any(isinstance(m, dict) and m.get("role") == "assistant" for m in obj["messages"]):
        out.append(f"line {n}: no assistant message (nothing to learn from)")
    return out


@dataclass
class FileCheck:
    """A validated fine-tuning file: its problems (by line), size and token counts."""

    path: Path
    examples: int
    tokens: int
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def validate_openai_jsonl(path, *, model: str = DEFAULT_BASE) -> FileCheck:
    """Check the file the way the API will, before uploading: JSON per line, roles, content, an assistant
    answer per example, at least 10 examples, no example over the token limit. Problems name the line."""
    from ..tokens import count_tokens

    path = Path(path)
    problems, examples, tokens = [], 0, 0
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"line {n}: not valid JSON ({exc.msg})")
            continue
        found = _line_problems(n, obj)
        problems += found
        if not found:
            examples += 1
            k = count_tokens(obj["messages"], model="gpt-4.1-mini")
            tokens += k
            if k > MAX_EXAMPLE_TOKENS:
                problems.append(f"line {n}: {k} tokens, over the {MAX_EXAMPLE_TOKENS}-token limit")
    if examples < MIN_EXAMPLES:
        problems.append(f"only {examples} valid examples: the API needs at least {MIN_EXAMPLES}")
    return FileCheck(path, examples, tokens, problems)


def default_epochs(n_examples: int) -> int:
    """OpenAI's documented default: 3 epochs, more for tiny files (aim ~100 example-passes), fewer for huge."""
    if n_examples * 3 < 100:
        return min(25, 100 // max(n_examples, 1))
    if n_examples * 3 > 25_000:
        return max(1, 25_000 // n_examples)
    return 3


@dataclass
class CostEstimate:
    model: str
    file_tokens: int
    epochs: int
    usd: float

    def __str__(self) -> str:
        return (f"{self.file_tokens:,} tokens x {self.epochs} epochs = {self.file_tokens * self.epochs:,} training "
                f"tokens at ${TRAINING_PRICES[self.model]['training']:.2f}/M on {self.model}: ${self.usd:.4f}")


def estimate_training_cost(check: FileCheck, *, model: str = DEFAULT_BASE, epochs: int | None = None) -> CostEstimate:
    """What training on a validated file will cost: tokens in the file x epochs x the price per token."""
    if model not in TRAINING_PRICES:
        raise LLMCourseError(f"No fine-tuning price for {model!r}; known: {sorted(TRAINING_PRICES)}. Add it to "
                             f"TRAINING_PRICES in llmcourse/finetune/frontier.py from OpenAI's pricing page.")
    epochs = epochs or default_epochs(check.examples)
    return CostEstimate(model, check.tokens, epochs, check.tokens * epochs * TRAINING_PRICES[model]["training"] / 1e6)


def fine_tuning_client(client=None):
    """The `openai.OpenAI` client for fine-tuning: the one given, else one with OPENAI_API_KEY. The local
    gateway has no fine-tuning endpoint, so with no key this fails with what to do instead."""
    if client is not None:
        return client
    if not settings.has_key("openai"):
        raise LLMCourseError("Fine-tuning a frontier model needs OPENAI_API_KEY in .env (it costs money: see "
                             "estimate_training_cost). Without a key, fine-tune the local model (notebook 03).")
    import openai

    return openai.OpenAI(api_key=settings.api_key("openai"))


def start_job(path, *, model: str = DEFAULT_BASE, epochs: int | None = None, suffix: str = "tickets",
              client=None):
    """Upload the file (purpose "fine-tune") and create the job; returns the job object."""
    client = fine_tuning_client(client)
    with open(path, "rb") as fh:
        uploaded = client.files.create(file=fh, purpose="fine-tune")
    method = {"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": epochs or "auto"}}}
    return client.fine_tuning.jobs.create(training_file=uploaded.id, model=model, suffix=suffix, method=method)


def wait_for_job(job_id: str, *, client=None, poll_seconds: float = 30, timeout: float = 3 * 3600,
                 sleep=time.sleep, on_status=print):
    """Poll the job until it succeeds, fails or is cancelled; returns the final job object. Raises with
    the API's error message if it failed, or on timeout (the job keeps running: poll again later)."""
    client = fine_tuning_client(client)
    start, last = time.monotonic(), None
    while True:
        job = client.fine_tuning.jobs.retrieve(job_id)
        if job.status != last and on_status:
            on_status(f"{job_id}: {job.status}")
        last = job.status
        if job.status == "succeeded":
            return job
        if job.status in DONE:
            msg = getattr(getattr(job, "error", None), "message", None) or "no message"
            raise LLMCourseError(f"Fine-tuning job {job_id} {job.status}: {msg}")
        if time.monotonic() - start > timeout:
            raise LLMCourseError(f"Job {job_id} still {job.status} after {timeout:.0f} s; it keeps running on "
                                 f"OpenAI's side: call wait_for_job({job_id!r}) again later.")
        sleep(poll_seconds)


def ask_finetuned(model_id: str, text: str, *, client=None) -> str:
    """The fine-tuned model's answer for one ticket (same system prompt as in training)."""
    client = fine_tuning_client(client)
    r = client.chat.completions.create(model=model_id, messages=to_messages(text), max_completion_tokens=5,
                                       temperature=0)
    return r.choices[0].message.content or ""
