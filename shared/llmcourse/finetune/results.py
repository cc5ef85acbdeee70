"""A small results file shared by the week-6 notebooks, so the closing comparison can reuse numbers.

Each entry: an approach's accuracy on the held-out test set, seconds per ticket, and dollars per 1,000
tickets, with when and on how many test tickets it was measured. Stored in the user cache folder.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from ..settings import cache_dir


def results_path() -> Path:
    return cache_dir("week6") / "results.json"


def record(name: str, accuracy: float | None, *, n: int, seconds_per_ticket: float | None = None,
           usd_per_1000: float | None = None, group: str = "") -> dict:
    """Save (or overwrite) one approach's figures; returns the entry."""
    path = results_path()
    table = load_results()
    table[name] = {"accuracy": None if accuracy is None else round(accuracy, 4), "n": n, "seconds_per_ticket": seconds_per_ticket,
                   "usd_per_1000": usd_per_1000, "group": group, "measured": time.strftime("%Y-%m-%d %H:%M")}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(table, indent=1))
    return table[name]


def load_results() -> dict:
    path = results_path()
    return json.loads(path.read_text()) if path.exists() else {}


def results_table():
    """The recorded results as a pandas DataFrame, best accuracy first."""
    import pandas as pd

    table = pd.DataFrame.from_dict(load_results(), orient="index")
    return table.sort_values("accuracy", ascending=False) if len(table) else table
