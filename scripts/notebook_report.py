"""Per notebook: how long it runs, which model calls it makes, and what those calls would cost with API
keys, priced from the registry (models.toml). Writes the table into docs/instructors.md.

From the suite's own run (nothing runs twice):

    python scripts/notebook_report.py spy test-artifacts/report      # prints two variables to export
    export IPYTHONDIR=... NOTEBOOK_REPORT_DIR=...; make test          # with --junitxml=test-artifacts/junit.xml
    python scripts/notebook_report.py table test-artifacts/report --times test-artifacts/junit.xml --write docs/instructors.md

Or standalone: `python scripts/notebook_report.py run test-artifacts/report [NOTEBOOK ...]` executes the
notebooks (nbclient, the kernel in the notebook's folder, no keys, offline) and times them itself.

The spy is an IPython startup file: in every kernel it wraps three functions of `llmcourse.chat` without
changing what they return, to record, for each call that reaches `chat()` (directly, or through the keyless
gateway that `openai_client()` and friends start), which model was asked for and the tokens the ledger
recorded. It writes one JSON file per kernel; `table` finds each kernel's notebook by its first cell.

`table` prices each call at the model it would reach WITH keys: no model given -> the "fast" alias
(what chat() picks when a key is set); an alias or name -> what the registry resolves it to with every
provider's key present; "local" stays free; a call through the gateway -> the "fast" model (`model_for()`
picks it once the SDK's key is set). The token counts are the local model's (its tokenizer and its
reply lengths): an order of magnitude, not a quote. Branches that only run with a key (cloud speech,
OpenAI embeddings, frontier fine-tuning) do not run offline and are not counted.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BEGIN, END = "<!-- notebook-table:begin -->", "<!-- notebook-table:end -->"
NO_KEYS = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GOOGLE_API_KEY", "GEMINI_API_KEY", "DEEPSEEK_API_KEY",
           "GROQ_API_KEY", "PERPLEXITY_API_KEY", "OPENROUTER_API_KEY", "COHERE_API_KEY")

# The IPython startup file: prints nothing, changes no result, writes $NOTEBOOK_REPORT_DIR/<pid>.json.
SPY = r'''
def _notebook_report_spy():
    import json, os, sys, threading
    out_dir = os.environ.get("NOTEBOOK_REPORT_DIR")
    if not out_dir:
        return
    try:
        import llmcourse  # noqa: F401  (light: torch and the SDKs load only when used)
    except Exception:
        return
    m = sys.modules["llmcourse.chat"]
    state, record = threading.local(), {"cwd": os.getcwd(), "first_cell": None, "calls": []}
    orig_default, orig_get, orig_record = m.default_model, m.get_model, m.ledger.record

    def called_from(prefix, frame):
        while frame is not None:
            if (frame.f_globals.get("__name__") or "").startswith(prefix):
                return True
            frame = frame.f_back
        return False

    def default_model():
        caller = sys._getframe(1)
        if caller.f_code.co_name == "chat" and caller.f_globals.get("__name__") == "llmcourse.chat":
            state.defaulted = True
        return orig_default()

    def get_model(name, *a, **k):
        caller = sys._getframe(1)
        if caller.f_code.co_name == "chat" and caller.f_globals.get("__name__") == "llmcourse.chat":
            via = called_from("llmcourse.gateway", caller.f_back)
            state.asked = "(gateway)" if via else ("(default)" if getattr(state, "defaulted", False) else name)
            state.defaulted = False
        return orig_get(name, *a, **k)

    def ledger_record(**kw):
        record["calls"].append({"asked": getattr(state, "asked", "?"), "model": kw.get("model"),
                                "input_tokens": kw.get("input_tokens", 0),
                                "output_tokens": kw.get("output_tokens", 0)})
        return orig_record(**kw)

    m.default_model, m.get_model, m.ledger.record = default_model, get_model, ledger_record
    path = os.path.join(out_dir, f"{os.getpid()}.json")

    def after_cell(result):
        if record["first_cell"] is None and (result.info.raw_cell or "").strip():
            record["first_cell"] = result.info.raw_cell
        with open(path, "w") as f:
            json.dump(record, f)

    get_ipython().events.register("post_run_cell", after_cell)  # noqa: F821


_notebook_report_spy()
del _notebook_report_spy
'''


def spy(folder: Path) -> dict[str, str]:
    """Write the startup file under `folder`; the environment variables that turn it on."""
    startup = folder / "ipython" / "profile_default" / "startup"
    startup.mkdir(parents=True, exist_ok=True)
    (startup / "00-notebook-report.py").write_text(SPY)
    (folder / "calls").mkdir(exist_ok=True)
    return {"IPYTHONDIR": str((folder / "ipython").resolve()),
            "NOTEBOOK_REPORT_DIR": str((folder / "calls").resolve())}


def notebooks() -> list[str]:
    out = subprocess.run(["git", "ls-files", "*.ipynb"], cwd=ROOT, capture_output=True, text=True, check=True)
    return out.stdout.split()


def run(folder: Path, paths: list[str], timeout: int = 600) -> int:
    """Execute each notebook with the spy on; seconds per notebook into `folder`/times.json."""
    import nbformat
    from nbclient import NotebookClient

    for name in NO_KEYS:
        os.environ.pop(name, None)
    os.environ.update(spy(folder), LLMCOURSE_IGNORE_DOTENV="1", HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
                      GRADIO_ANALYTICS_ENABLED="False", TOKENIZERS_PARALLELISM="false", ANONYMIZED_TELEMETRY="False")
    times_file = folder / "times.json"
    times = json.loads(times_file.read_text()) if times_file.exists() else {}
    failed = 0
    for path in paths:
        nb = nbformat.read(ROOT / path, as_version=4)
        client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                                resources={"metadata": {"path": str((ROOT / path).parent)}})
        start, error = time.perf_counter(), ""
        try:
            client.execute()
        except Exception as exc:  # noqa: BLE001  (reported; the other notebooks still run)
            error, failed = type(exc).__name__, failed + 1
        times[path] = round(time.perf_counter() - start, 1)
        print(f"{path}: {times[path]:.0f} s{' FAILED: ' + error if error else ''}", flush=True)
        times_file.write_text(json.dumps(times, indent=1))
    return 1 if failed else 0


# ------------------------------------------------------------------------------------------ table
def first_code_cell(path: Path) -> str:
    import nbformat

    nb = nbformat.read(path, as_version=4)
    return next((c.source for c in nb.cells if c.cell_type == "code" and c.source.strip()), "")


def calls_by_notebook(folder: Path) -> dict[str, list[dict]]:
    """Each spied kernel's calls, keyed by its notebook's path (found by cwd and first cell)."""
    firsts: dict[tuple[str, str], str] = {}
    out: dict[str, list[dict]] = {}
    for dump in sorted((folder / "calls").glob("*.json")):
        record = json.loads(dump.read_text())
        cwd = Path(record["cwd"]).resolve()
        if ROOT not in (cwd, *cwd.parents) or not record["first_cell"]:
            continue  # a notebook run from a copy (tests that clone the course) or an empty kernel
        for nb in sorted(cwd.glob("*.ipynb")):
            key = (str(nb), "")
            if key not in firsts:
                firsts[key] = first_code_cell(nb)
            if firsts[key].strip() == record["first_cell"].strip():
                rel = str(nb.relative_to(ROOT))
                if len(record["calls"]) >= len(out.get(rel, [])):  # a notebook run twice: the fuller run
                    out[rel] = record["calls"]
                break
    return out


def with_keys(asked: str):
    """The registry model a call would reach with every provider's key set (None: it stays free)."""
    from llmcourse.cost import FREE_PROVIDERS
    from llmcourse.registry import get_model

    name = "fast" if asked in ("(default)", "(gateway)", "?") else asked
    info = get_model(name, available=lambda provider: True)
    return None if info.provider in FREE_PROVIDERS else info


def cost_with_keys(calls: list[dict]) -> tuple[float, dict[str, int]]:
    """(USD, {model name: calls}) for these calls at the prices of the models they would reach."""
    usd, models = 0.0, {}
    for call in calls:
        info = with_keys(call["asked"])
        if info is None:
            continue
        usd += info.cost(call["input_tokens"], call["output_tokens"])
        models[info.name] = models.get(info.name, 0) + 1
    return usd, models


def junit_seconds(path: Path) -> dict[str, float]:
    """Seconds per notebook from a pytest JUnit XML file: nbmake's test of `week5_rag/01_x.ipynb` has the
    classname `week5_rag.01_x.ipynb` (the course's folders and notebooks have no dots in their names)."""
    out: dict[str, float] = {}
    for case in ET.parse(path).getroot().iter("testcase"):
        cls = case.get("classname") or ""
        if cls.endswith(".ipynb"):
            key = cls.removesuffix(".ipynb").replace(".", "/") + ".ipynb"
            out[key] = out.get(key, 0.0) + float(case.get("time", 0))
    return out


def junit_failed(path: Path) -> set[str]:
    """Notebooks whose test failed or errored in a pytest JUnit XML file."""
    return {(case.get("classname") or "").removesuffix(".ipynb").replace(".", "/") + ".ipynb"
            for case in ET.parse(path).getroot().iter("testcase")
            if (case.get("classname") or "").endswith(".ipynb")
            and (case.find("failure") is not None or case.find("error") is not None)}


def usd_text(usd: float) -> str:
    return "$0" if not usd else "< $0.0001" if usd < 0.0001 else f"${usd:.4f}"


def durations_seconds(text: str) -> dict[str, float]:
    """Seconds per notebook from pytest's `--durations` lines (`12.34s call     path.ipynb::...`)."""
    out: dict[str, float] = {}
    for m in re.finditer(r"^\s*([\d.]+)s (?:setup|call|teardown)\s+(\S+?\.ipynb)", text, re.M):
        out[m.group(2)] = out.get(m.group(2), 0.0) + float(m.group(1))
    return out


def table(calls: dict[str, list[dict]], times: dict[str, float], *, source: str, failed=frozenset()) -> str:
    from llmcourse.registry import checked_on

    rows = ["| notebook | minutes | model calls | with keys, they reach | est. USD per run with keys |",
            "|---|---:|---:|---|---:|"]
    total_s = total_usd = 0.0
    for path in sorted(set(calls) | set(times)):
        secs, got = times.get(path), calls.get(path)
        usd, models = cost_with_keys(got or [])
        total_s, total_usd = total_s + (secs or 0), total_usd + usd
        reach = ", ".join(f"{n} ×{c}" for n, c in sorted(models.items())) or "none: local model only"
        mark = " (failed: calls up to the failure)" if path in failed else ""
        rows.append(f"| `{path}`{mark} | {'%.1f' % (secs / 60) if secs is not None else '?'} | "
                    f"{len(got) if got is not None else '?'} | {reach if got is not None else '?'} | "
                    f"{usd_text(usd) if got is not None else '?'} |")
    rows.append(f"| **{len(rows) - 2} notebooks** | **{total_s / 60:.0f}** | | | **{usd_text(total_usd)}** |")
    rows += ["", f"Generated by `scripts/notebook_report.py table` from {source}, {os.cpu_count()} CPU cores, "
                 f"{time.strftime('%Y-%m-%d')}; prices from `models.toml` (checked {checked_on()}). "
                 f"`?`: not measured in that run."]
    return "\n".join(rows)


def write_between_markers(doc: Path, block: str) -> None:
    """Replace the text between BEGIN and END in `doc` by `block` (ValueError when a marker is missing)."""
    text = doc.read_text()
    if text.count(BEGIN) != 1 or text.count(END) != 1:
        raise ValueError(f"{doc} needs one {BEGIN} and one {END} line where the table goes.")
    head, rest = text.split(BEGIN, 1)
    doc.write_text(f"{head}{BEGIN}\n{block}\n{END}{rest.split(END, 1)[1]}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    s = sub.add_parser("spy", help="write the IPython startup file; print the variables to export")
    s.add_argument("folder", type=Path)
    r = sub.add_parser("run", help="execute notebooks with the spy on, timing each")
    r.add_argument("folder", type=Path)
    r.add_argument("notebooks", nargs="*")
    t = sub.add_parser("table", help="print (or write into a doc) the per-notebook table")
    t.add_argument("folder", type=Path)
    t.add_argument("--times", type=Path, help="seconds from a JUnit XML or a pytest --durations log "
                                              "(default: the folder's times.json from `run`)")
    t.add_argument("--write", type=Path, help="replace the table between the markers in this file")
    args = ap.parse_args(argv)
    if args.command == "spy":
        print(" ".join(f"{k}={v}" for k, v in spy(args.folder).items()))
        return 0
    if args.command == "run":
        return run(args.folder, args.notebooks or notebooks())
    failed: set[str] = set()
    if args.times:
        raw = args.times.read_text()
        junit = raw.lstrip().startswith("<")
        times = junit_seconds(args.times) if junit else durations_seconds(raw)
        failed = junit_failed(args.times) if junit else set()
        source = f"the suite's timings ({args.times.name})"
    else:
        times_file = args.folder / "times.json"
        times = json.loads(times_file.read_text()) if times_file.exists() else {}
        source = "`scripts/notebook_report.py run`"
    block = table(calls_by_notebook(args.folder), times, source=source, failed=failed)
    if args.write:
        write_between_markers(args.write, block)
        print(f"table written into {args.write}")
    else:
        print(block)
    return 0


if __name__ == "__main__":
    sys.exit(main())
