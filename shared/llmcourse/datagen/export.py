"""Rows out to the usual formats: JSONL, CSV, Parquet, a Hugging Face `datasets.Dataset`, the Hub.

Every function takes a list of plain row dicts. Pushing to the Hub happens only when you call
`push_to_hub` yourself, with a token.

>>> import tempfile, pathlib
>>> rows = [{"text": "Where is my parcel?", "label": "shipping"}]
>>> p = to_jsonl(rows, pathlib.Path(tempfile.mkdtemp()) / "rows.jsonl")
>>> read_rows(p) == rows
True
"""

from __future__ import annotations

import json
from pathlib import Path


def to_jsonl(rows: list[dict], path) -> Path:
    """One JSON object per line (UTF-8, non-ASCII kept readable)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    return path


def read_jsonl(path: Path) -> list[dict]:
    """The records of a JSONL file ([] if it does not exist); a last line cut by a crash is skipped."""
    path = Path(path)
    if not path.exists():
        return []
    out = []
    for line in (path.read_text(encoding="utf-8").splitlines()):
        if line.strip():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                continue  # a half-written last line from a killed process: that slot is simply redone
    return out


def read_rows(path) -> list[dict]:
    """Rows back from a .jsonl, .csv or .parquet file."""
    path = Path(path)
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    import pandas as pd

    if path.suffix == ".csv":
        return pd.read_csv(path, keep_default_na=False).to_dict("records")
    if path.suffix == ".parquet":
        return pd.read_parquet(path).to_dict("records")
    raise ValueError(f"{path}: read_rows reads .jsonl, .csv or .parquet files")


def to_pandas(rows: list[dict]):
    import pandas as pd

    return pd.DataFrame.from_records(rows)


def to_csv(rows: list[dict], path) -> Path:
    """A CSV with a header row (nested values are written as JSON text)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    flat = [{k: json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else v for k, v in r.items()}
            for r in rows]
    to_pandas(flat).to_csv(path, index=False)
    return path


def to_parquet(rows: list[dict], path) -> Path:
    """A Parquet file (pyarrow): typed columns, compressed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    to_pandas(rows).to_parquet(path, index=False)
    return path


def to_hf_dataset(rows: list[dict]):
    """A `datasets.Dataset` in memory (train/test splits: `.train_test_split(test_size=0.2, seed=0)`)."""
    from datasets import Dataset

    return Dataset.from_list(rows)


def push_to_hub(rows: list[dict], repo_id: str, *, token: str, private: bool = True):
    """Upload the rows as a Hub dataset `repo_id` (private by default). Needs a write token, passed
    explicitly (e.g. `token=os.environ["HF_TOKEN"]`), and network access."""
    import os

    if not token:
        raise ValueError("push_to_hub needs token=: create a write token at huggingface.co/settings/tokens "
                         "and pass it explicitly (nothing is uploaded without one)")
    if os.environ.get("HF_HUB_OFFLINE") == "1":
        raise RuntimeError("HF_HUB_OFFLINE=1 is set, so nothing can be uploaded: unset it in this process first")
    return to_hf_dataset(rows).push_to_hub(repo_id, token=token, private=private)
