"""What a student sees in a clean run: no library warnings, and the same figures on the tenth run as on
the first (a notebook that builds state builds it where its own run starts clean)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _notebook(path: Path, *sources: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    nbformat.write(nb, path)
    return path


def test_a_library_warning_fails_the_notebook_and_names_the_cell(tmp_path):
    warns = _notebook(tmp_path / "warns.ipynb", "print('fine')",
                      "import warnings\nwarnings.warn('old API', DeprecationWarning, stacklevel=1)")
    clean = _notebook(tmp_path / "clean.ipynb", "print('Warning: this line is the lesson, on stdout')")
    tagged = _notebook(tmp_path / "tagged.ipynb", "import warnings\nwarnings.warn('on purpose', UserWarning)")
    nb = nbformat.read(tagged, 4)
    nb.cells[0].metadata["tags"] = ["expect-warning"]
    nbformat.write(nb, tagged)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "tests.nbmake_checks",
                          "--nbmake", str(warns), str(clean), str(tagged)],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert "1 failed, 2 passed" in out.stdout, out.stdout[-2000:]
    assert "warns.ipynb: 1 library warning line(s) in a clean run (cell 1)" in out.stdout
    assert "DeprecationWarning: old API" in out.stdout
