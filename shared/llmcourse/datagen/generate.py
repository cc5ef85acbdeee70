"""Generate rows in batches through structured output, validate and de-duplicate each one, and append it
to disk as it arrives, so an interrupted run resumes with nothing lost and nothing repeated.

A run writes three JSONL files in its folder:
- `accepted.jsonl`: {"slot", "row", "attributes", "model"} for every row kept;
- `rejected.jsonl`: {"slot", "reason", "row", "attributes", "model"} for every row turned away;
- `calls.jsonl`: one line per model call (slots, tokens, cost, seconds, error).

Each row has a *slot* (0..n-1). A slot is done once it is in accepted or rejected; a resumed run asks only
for the slots that are not, with the same grid cell and seed they would have had.

>>> ds = generate(spec, 10, model="local", batch_size=2, out="data/tickets")   # doctest: +SKIP
>>> ds.summary()                                                             # doctest: +SKIP
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Callable, Iterator

from .dedupe import Deduper, row_text
from .export import read_jsonl
from .spec import DatasetSpec, SpecError

FATAL = ("AuthenticationError", "KeyProblem", "SpendLimitError", "UnknownModelError")


def _append(path: Path, record: dict) -> None:
    with path.open("a", encoding="utf-8") as f:
        f.write(json.dumps(record, ensure_ascii=False) + "\n")
        f.flush()


def _fingerprint(spec: DatasetSpec) -> dict:
    return {"schema": spec.row_schema, "brief": spec.brief.strip(), "grid": spec.grid}


def _repair(path: Path) -> None:
    """Cut a last line that a killed process left half-written, so the next append starts clean."""
    if path.exists() and path.stat().st_size:
        data = path.read_bytes()
        if not data.endswith(b"\n"):
            path.write_bytes(data[:data.rfind(b"\n") + 1])


def _check_folder(out: Path, spec: DatasetSpec) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name in ("accepted.jsonl", "rejected.jsonl", "calls.jsonl"):
        _repair(out / name)
        (out / name).touch()  # all three exist from the start, so a reader never has to guess
    meta = out / "spec.json"
    fp = _fingerprint(spec)
    if meta.exists():
        old = json.loads(meta.read_text(encoding="utf-8"))
        if {k: old.get(k) for k in fp} != json.loads(json.dumps(fp)):
            raise SpecError(f"{out} holds rows made from another schema, brief or grid: pass a new out= folder "
                            f"(or delete {out} to start again)")
    else:
        meta.write_text(json.dumps(fp, indent=1, ensure_ascii=False), encoding="utf-8")


def plan(spec: DatasetSpec, n: int, batch_size: int, done: set[int], seed: int = 0) -> list[tuple[list[int], dict]]:
    """The calls still to make: [(slots, attributes)]. Slot s belongs to grid cell (s // batch_size)."""
    cells = spec.cells(seed)
    calls: dict[int, list[int]] = {}
    for s in range(n):
        if s not in done:
            calls.setdefault(s // batch_size, []).append(s)
    return [(slots, cells[b % len(cells)]) for b, slots in sorted(calls.items())]


def ask(model, messages: list[dict], schema: dict, *, temperature: float, seed: int, max_tokens=None):
    """One structured call: a Reply-like object (parsed, usage, cost, latency, model)."""
    if callable(model) and not isinstance(model, str):
        return model(messages, schema, temperature=temperature, seed=seed, max_tokens=max_tokens)
    from ..chat import chat

    extra = {"seed": seed} if is_local(model) else {}
    return chat(messages, model=model, schema=schema, temperature=temperature, max_tokens=max_tokens, **extra)


def is_local(model) -> bool:
    """True when `model` (a name, None for the default, or a backend) is the in-process local model: its
    constrained decoding holds every row to the full schema, so batches can ask for it all."""
    if not isinstance(model, str) and model is not None:
        return False
    from ..registry import get_model

    return get_model(model or _default()).provider == "local"


def _default() -> str:
    from ..chat import default_model

    return default_model()


class Run:
    """The state of one generation run in its folder (see `iter_generate`)."""

    def __init__(self, spec: DatasetSpec, out, *, dedupe: str | None, threshold: float | None):
        self.spec, self.out = spec, Path(out)
        _check_folder(self.out, spec)
        self.accepted_path, self.rejected_path = self.out / "accepted.jsonl", self.out / "rejected.jsonl"
        self.calls_path = self.out / "calls.jsonl"
        self.deduper = Deduper(dedupe, threshold)
        accepted = read_jsonl(self.accepted_path)
        self.done = {r["slot"] for r in accepted} | {r["slot"] for r in read_jsonl(self.rejected_path)}
        # the seed examples first: a row that copies one is a duplicate too
        self.deduper.add_many([self.text(ex) for ex in spec.examples], [f"example {i}" for i in range(len(spec.examples))])
        self.deduper.add_many([self.text(r["row"]) for r in accepted], [f"slot {r['slot']}" for r in accepted])

    def text(self, row: dict) -> str:
        fields = self.spec.text_fields
        return row_text(row, fields) if fields else json.dumps(row, sort_keys=True)

    def record(self, slot: int, row, attributes: dict, model: str, reason: str | None = None) -> dict:
        """Validate, de-duplicate and append one row; returns the record written (with `accepted`)."""
        clean = None
        if reason is None:
            if isinstance(row, dict):
                row = {**row, **{k: attributes[k] for k in self.spec.fixed_fields}}
            clean, reason = self.spec.validate(row)
        if clean is not None:
            hit = self.deduper.check(self.text(clean))
            if hit is not None:
                other, sim = self.deduper.ident(hit[0]), hit[1]
                reason = (f"exact duplicate of {other}" if sim >= 1.0
                          else f"near duplicate of {other} ({self.deduper.method} {sim:.2f})")
        rec = {"slot": slot, "row": clean if clean is not None else row, "attributes": attributes, "model": model}
        if reason is None:
            _append(self.accepted_path, rec)
            self.deduper.add(self.text(clean), f"slot {slot}")
        else:
            rec = {"slot": slot, "reason": reason, **rec}
            _append(self.rejected_path, rec)
        self.done.add(slot)
        return {**rec, "accepted": reason is None}


def _call(run: Run, model, slots: list[int], attributes: dict, *, temperature: float, seed: int,
          max_tokens) -> tuple[list, str, str | None]:
    """Make one call for `slots`: (rows or [], model name, error or None). Logs it to calls.jsonl."""
    start = time.perf_counter()
    name = model if isinstance(model, str) else getattr(model, "name", "custom")
    try:
        schema = run.spec.batch_schema(len(slots), loose=not is_local(model))
        reply = ask(model, run.spec.messages(attributes, len(slots)), schema,
                    temperature=temperature, seed=seed * 1_000_003 + slots[0], max_tokens=max_tokens)
    except Exception as exc:  # a reply that does not parse, a provider failure: recorded, run goes on
        if type(exc).__name__ in FATAL or not _recordable(exc):
            raise
        _append(run.calls_path, {"slots": slots, "model": str(name), "error": str(exc)[:300],
                                 "seconds": round(time.perf_counter() - start, 3)})
        return [], str(name), f"call failed: {str(exc).splitlines()[0][:200]}"
    parsed = reply.parsed
    rows = (parsed.get("rows") if isinstance(parsed, dict) else getattr(parsed, "rows", None)) or []
    u = reply.usage
    _append(run.calls_path, {"slots": slots, "model": reply.model, "provider": getattr(reply, "provider", ""),
                             "input_tokens": u.input_tokens, "output_tokens": u.output_tokens,
                             "cost": reply.cost or 0.0, "seconds": round(reply.latency, 3), "rows": len(rows)})
    return rows, reply.model, None


def _recordable(exc: Exception) -> bool:
    from ..errors import LLMCourseError

    return isinstance(exc, LLMCourseError)


def iter_generate(spec: DatasetSpec, n: int, *, out, model: str | Callable | None = None, batch_size: int = 1,
                  temperature: float = 0.9, seed: int = 0, dedupe: str | None = "embedding",
                  threshold: float | None = None, max_tokens: int | None = None,
                  stop: Callable[[], bool] | None = None) -> Iterator[dict]:
    """Generate up to `n` rows into folder `out`, yielding each record as it is written (see `Run.record`).

    model: a course model name (any provider, default as in `chat`) or a callable backend (see
    `openai_sdk_backend`). batch_size: rows per call, all sharing one grid cell. dedupe: "embedding",
    "ngram" or None (exact only), with `threshold`. stop(): checked between calls; True ends the run
    (rows already written stay). Resumes whatever the folder already holds.
    """
    if not isinstance(n, int) or n < 1:
        raise SpecError(f"n must be a whole number of rows >= 1, got {n!r}")
    if batch_size < 1:
        raise SpecError(f"batch_size must be >= 1, got {batch_size!r}")
    run = Run(spec, out, dedupe=dedupe, threshold=threshold)
    for slots, attributes in plan(spec, n, batch_size, run.done, seed):
        if stop is not None and stop():
            return
        rows, name, error = _call(run, model, slots, attributes, temperature=temperature, seed=seed,
                                  max_tokens=max_tokens)
        for i, slot in enumerate(slots):
            if error:
                yield run.record(slot, None, attributes, name, reason=error)
            elif i >= len(rows):
                yield run.record(slot, None, attributes, name, reason=f"missing: the reply had {len(rows)} "
                                                                      f"rows for {len(slots)} asked")
            else:
                row = rows[i].model_dump() if hasattr(rows[i], "model_dump") else rows[i]
                yield run.record(slot, row, attributes, name)


def generate(spec: DatasetSpec, n: int, *, out, progress: bool = True, **kw):
    """Generate `n` rows (see `iter_generate` for the options) and return the folder's `Dataset`.

    Interrupt it (Ctrl-C, a crash, a closed laptop) and call it again with the same `out`: it resumes.
    """
    from .dataset import Dataset

    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=n, desc=f"generating {spec.name}", unit="row")
        bar.update(len(Run(spec, out, dedupe=None, threshold=None).done & set(range(n))))
    try:
        for rec in iter_generate(spec, n, out=out, **kw):
            if bar is not None:
                bar.update(1)
                bar.set_postfix(kept=rec["accepted"])
    finally:
        if bar is not None:
            bar.close()
    return Dataset.load(out, spec=spec)


def openai_sdk_backend(client=None, model: str | None = None):
    """A backend for the OpenAI SDK (`response_format` json_schema): the real API with OPENAI_API_KEY, the
    course's keyless gateway (answered by the local model) without it. Pass it as `model=`."""
    from ..clients import model_for, openai_client, via_gateway
    from ..registry import get_model
    from ..structured import StructuredOutputError

    free = client is None and via_gateway("openai")  # the gateway's answers come from the local model
    client = client or openai_client()
    model_id = model or model_for("openai")

    class _Usage:
        def __init__(self, u):
            self.input_tokens = getattr(u, "prompt_tokens", 0) or 0
            self.output_tokens = getattr(u, "completion_tokens", 0) or 0

    class _Reply:
        pass

    def backend(messages, schema, *, temperature, seed, max_tokens=None):
        start = time.perf_counter()
        r = client.chat.completions.create(
            model=model_id, messages=messages, temperature=temperature, max_completion_tokens=max_tokens,
            response_format={"type": "json_schema", "json_schema": {"name": "rows", "schema": schema}})
        out = _Reply()
        out.text = r.choices[0].message.content or ""
        try:
            out.parsed = json.loads(out.text)
        except json.JSONDecodeError as exc:
            raise StructuredOutputError(f"The reply is not JSON ({exc}); it began {out.text[:80]!r}",
                                        provider="openai", model=model_id) from exc
        out.usage, out.latency = _Usage(r.usage), time.perf_counter() - start
        out.model, out.provider = backend.name, "openai"
        try:
            out.cost = 0.0 if free else get_model(model_id).cost(out.usage.input_tokens, out.usage.output_tokens)
        except Exception:
            out.cost = 0.0  # a model id the registry does not price
        return out

    backend.name = f"{'gateway' if free else 'openai'}/{model_id}"
    return backend
