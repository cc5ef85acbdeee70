"""A notebook that builds state builds it where its own run starts clean: the tenth run prints the same
figures as the first (issue 18). Each notebook here runs twice in a row on the same clone."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _figures(nb) -> list[str]:
    """Every printed line of `nb`, with durations and speeds masked (they differ run to run)."""
    lines = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            text = out.get("text") or out.get("data", {}).get("text/plain") or ""
            for line in "".join(text).splitlines():
                if not line.strip():   # a blank line is no figure (a stray newline sometimes lands in a later cell)
                    continue
                line = re.sub(r"\[\d+:\d+[^\]]*\]", "<bar time>", line)     # tqdm: [00:01<00:00, 200.1chunk/s]
                line = re.sub(r"\d+(\.\d+)?\s*(ms|s|sec|seconds|min|tok/s|tokens/s|it/s|\w*/s)\b", "<time>", line)
                lines.append(re.sub(r"0x[0-9a-f]+", "<addr>", line))
    return lines


def _run(path: Path):
    from nbclient import NotebookClient

    nb = nbformat.read(path, 4)
    NotebookClient(nb, timeout=600, resources={"metadata": {"path": str(path.parent)}}).execute()
    return nb


STATEFUL = ["week5_rag/01_rag_by_hand.ipynb"]


@pytest.mark.parametrize("name", STATEFUL)
def test_a_state_building_notebook_prints_the_same_on_its_second_run(name):
    path = ROOT / name
    first, second = _figures(_run(path)), _figures(_run(path))
    assert first == second, [(a, b) for a, b in zip(first, second) if a != b][:5]
