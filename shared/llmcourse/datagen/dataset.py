"""A generated dataset, read back from its run folder: rows, rejections, calls, and what they cost.

>>> ds = Dataset.load("data/tickets")       # doctest: +SKIP
>>> ds.rows[:2], ds.validity_rate, ds.rows_per_minute   # doctest: +SKIP
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from . import export
from .export import read_jsonl


def reason_kind(reason: str) -> str:
    """A rejection reason's category: invalid, empty field, check, exact duplicate, near duplicate,
    call failed, missing."""
    for kind in ("exact duplicate", "near duplicate", "call failed", "missing", "empty field", "check"):
        if reason.startswith(kind):
            return kind
    return "invalid"


@dataclass
class Dataset:
    """Accepted records (`records`), rejected ones with their reason (`rejected`) and the call log
    (`calls`). `rows` are the plain rows, in slot order."""

    records: list[dict]
    rejected: list[dict] = field(default_factory=list)
    calls: list[dict] = field(default_factory=list)
    folder: Path | None = None
    spec: object = None

    @classmethod
    def load(cls, folder, spec=None) -> "Dataset":
        folder = Path(folder)
        if not folder.is_dir():
            raise FileNotFoundError(f"No dataset folder at {folder}: run datagen.generate(..., out={str(folder)!r}) first")
        acc = sorted(read_jsonl(folder / "accepted.jsonl"), key=lambda r: r["slot"])
        rej = sorted(read_jsonl(folder / "rejected.jsonl"), key=lambda r: r["slot"])
        return cls(acc, rej, read_jsonl(folder / "calls.jsonl"), folder, spec)

    @classmethod
    def from_rows(cls, rows: list[dict], spec=None) -> "Dataset":
        """A dataset from plain rows (e.g. one made elsewhere), for `report` and the exports."""
        return cls([{"slot": i, "row": r, "attributes": {}, "model": ""} for i, r in enumerate(rows)], spec=spec)

    @property
    def rows(self) -> list[dict]:
        return [r["row"] for r in self.records]

    def __len__(self) -> int:
        return len(self.records)

    @property
    def attempted(self) -> int:
        return len(self.records) + len(self.rejected)

    def reasons(self) -> Counter:
        """Rejections counted by kind."""
        return Counter(reason_kind(r["reason"]) for r in self.rejected)

    @property
    def valid(self) -> int:
        """Rows that parsed and passed the schema and checks (duplicates included)."""
        r = self.reasons()
        return len(self.records) + r["exact duplicate"] + r["near duplicate"]

    @property
    def validity_rate(self) -> float:
        return self.valid / self.attempted if self.attempted else 0.0

    @property
    def duplicate_rate(self) -> float:
        """Duplicates removed / valid rows."""
        r = self.reasons()
        return (r["exact duplicate"] + r["near duplicate"]) / self.valid if self.valid else 0.0

    def _sum(self, key: str) -> float:
        return sum(c.get(key) or 0 for c in self.calls)

    @property
    def seconds(self) -> float:
        return self._sum("seconds")

    @property
    def cost(self) -> float:
        return self._sum("cost")

    @property
    def tokens(self) -> dict:
        return {"input": int(self._sum("input_tokens")), "output": int(self._sum("output_tokens"))}

    @property
    def rows_per_minute(self) -> float:
        """Accepted rows per minute of model time (the calls' own seconds)."""
        return 60 * len(self.records) / self.seconds if self.seconds else 0.0

    def summary(self) -> dict:
        models = sorted({c.get("model", "") for c in self.calls} or {r["model"] for r in self.records})
        return {"model": ", ".join(m for m in models if m) or "-", "attempted": self.attempted,
                "accepted": len(self), "rejected": len(self.rejected), "validity_rate": round(self.validity_rate, 3),
                "duplicate_rate": round(self.duplicate_rate, 3), "calls": len(self.calls),
                "input_tokens": self.tokens["input"], "output_tokens": self.tokens["output"],
                "cost_usd": round(self.cost, 6), "seconds": round(self.seconds, 1),
                "rows_per_minute": round(self.rows_per_minute, 1)}

    def __repr__(self) -> str:
        s = self.summary()
        return (f"<Dataset {s['accepted']} rows ({s['rejected']} rejected) from {s['model']}: "
                f"validity {s['validity_rate']:.0%}, {s['rows_per_minute']} rows/min, ${s['cost_usd']}>")

    def to_pandas(self):
        return export.to_pandas(self.rows)

    def to_jsonl(self, path) -> Path:
        return export.to_jsonl(self.rows, path)

    def to_csv(self, path) -> Path:
        return export.to_csv(self.rows, path)

    def to_parquet(self, path) -> Path:
        return export.to_parquet(self.rows, path)

    def to_hf(self):
        return export.to_hf_dataset(self.rows)

    def push_to_hub(self, repo_id: str, *, token: str, private: bool = True):
        return export.push_to_hub(self.rows, repo_id, token=token, private=private)
