"""A pytest plugin for the notebooks the suite runs with nbmake: a clean run shows no library warnings.

A student's first run should show only what the student did. A warning printed by a library (a
DeprecationWarning, tqdm's "IProgress not found", a logging WARNING) is a defect of the lesson or the
package, so the notebook fails with the cell and the line. A cell that shows a warning on purpose
carries the tag `expect-warning`; a warning nobody can avoid goes in ALLOWED with its reason.

Loaded for the whole suite by the root conftest.py (`pytest_plugins`).
"""

from __future__ import annotations

import re

WARNING = re.compile(r"\b[A-Z]\w*Warning\b|^\s*WARNING\b|IProgress not found", re.M)
SOURCE_ECHO = re.compile(r":\d+: \w*Warning: ")
ALLOWED: dict[str, str] = {
    # regular expression: why it cannot be avoided (none so far)
}


def warning_lines(nb) -> list[tuple[int, str]]:
    """(cell index, line) for each library warning in `nb`'s outputs (stderr streams and warnings
    rendered as text), skipping cells tagged `expect-warning` and lines ALLOWED matches."""
    found = []
    for i, cell in enumerate(nb.cells):
        if cell.get("cell_type") != "code" or "expect-warning" in cell.get("metadata", {}).get("tags", []):
            continue
        for out in cell.get("outputs", []):
            if out.get("output_type") != "stream" or out.get("name") != "stderr":
                continue
            echo = False  # `warnings` prints "file:N: XWarning: msg", then the source line: one warning
            for line in "".join(out.get("text", "")).splitlines():
                if echo:
                    echo = False
                    continue
                echo = bool(SOURCE_ECHO.search(line))
                if WARNING.search(line) and not any(re.search(p, line) for p in ALLOWED):
                    found.append((i, line.strip()[:300]))
    return found


def pytest_configure(config):
    try:
        from nbmake import nb_run
        from nbmake.nb_result import NotebookError
    except ImportError:  # nbmake not installed: nothing to check
        return
    original = nb_run.NotebookRun.execute
    if getattr(original, "_llmcourse_checks", False):
        return

    def execute(self):
        res = original(self)
        if res.error is None:
            found = warning_lines(res.nb)
            if found:
                lines = "\n".join(f"  cell {i}: {line}" for i, line in found)
                summary = f"{len(found)} library warning line(s) in a clean run (cell {found[0][0]})"
                res.error = NotebookError(
                    summary=summary, failing_cell_index=found[0][0],
                    trace=f"{self.filename}: {summary}:\n{lines}\nFix the cause, or tag a cell that warns on "
                          f"purpose `expect-warning` (tests/nbmake_checks.py).")
        return res

    execute._llmcourse_checks = True
    nb_run.NotebookRun.execute = execute
