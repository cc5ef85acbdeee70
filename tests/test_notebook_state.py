"""A notebook that builds state builds it where its own run starts clean: the tenth run prints the same
figures as the first (issue 18). Each notebook here runs twice in a row on the same clone."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _figures(nb) -> list[str]:
    """Every line `nb` prints to stdout or shows as a result, with durations and speeds masked (they
    differ run to run). Stderr (progress bars, warnings) is no figure: how often a bar redraws is timing.

    The kernel sends what a cell prints in chunks cut wherever its flush timer fires (a CI run cut
    `print(text, "...")` between its two arguments), and a last newline sometimes lands in the next
    cell: so stdout is joined, across cells, up to the next rich output, and only then cut into lines."""
    texts, stdout = [], ""
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                if out.get("name") == "stdout":
                    stdout += "".join(out.get("text", ""))
                continue
            texts += [stdout, "".join(out.get("data", {}).get("text/plain") or "")]
            stdout = ""
    texts.append(stdout)
    lines = []
    for text in texts:
        for line in text.splitlines():
            if not line.strip():   # a blank line is no figure
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


def _stream(text, name="stdout"):
    return nbformat.v4.new_output("stream", name=name, text=text)


def test_figures_join_a_print_the_kernel_sent_in_chunks_and_still_see_a_changed_figure():
    def nb(*cells):
        book = nbformat.v4.new_notebook()
        for outputs in cells:
            cell = nbformat.v4.new_code_cell("")
            cell.outputs = list(outputs)
            book.cells.append(cell)
        return book

    whole = nb([_stream("at Lumenwick De ...\n63 added\n")], [_stream("next\n")])
    chunked = nb([_stream("at Lumenwick De"), _stream("  2%|2  | 5/285", "stderr"), _stream(" ...\n63 added")],
                 [_stream("\n"), _stream("next\n")])
    assert _figures(whole) == _figures(chunked) == ["at Lumenwick De ...", "63 added", "next"]
    assert _figures(nb([_stream("at Lumenwick De ...\n0 added\n")], [_stream("next\n")])) != _figures(whole)
