"""Per notebook: how long it runs here, which model calls it makes, and what those calls would cost
with API keys, priced from the registry (models.toml). Writes the table into docs/instructors.md.

    python scripts/notebook_report.py run [NOTEBOOK ...] --save test-artifacts/notebooks.json
    python scripts/notebook_report.py table test-artifacts/notebooks.json [--times junit.xml] [--write docs/instructors.md]

`run` executes each notebook as the suite does (nbclient, the kernel in the notebook's folder, no keys,
offline), with one extra cell before and one after it. The cell before only records, for every call
that reaches `chat()` (directly, or through the keyless gateway that `openai_client()` and friends
start), which model was asked for; the cell after reads the session's ledger (tokens per call). Nothing
the notebook computes changes.

`table` prices each call at the model it would reach WITH keys: no model given -> the "fast" alias
(what chat() picks when a key is set); an alias or name -> what the registry resolves it to with every
provider's key present; "local" stays free; a call that came through the gateway -> the "fast" model
(`model_for()` picks it when the SDK's key is set). The token counts are the local model's (its
tokenizer and its reply lengths): an estimate of the order of magnitude, not a quote. Branches that
only run with a key (cloud speech, OpenAI embeddings, frontier fine-tuning) do not run here and are not
counted: the notebook says what they cost. Times come from this run, or from the suite's JUnit XML
(`pytest --junitxml`) with --times.
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

# Runs in the notebook's kernel before its first cell: records what each chat() call asked for.
SPY = r'''
import sys as _s, threading as _t, llmcourse as _l
_m = _s.modules["llmcourse.chat"]
_state, _asked = _t.local(), []
_orig_default, _orig_get, _orig_record = _m.default_model, _m.get_model, _m.ledger.record
def _called_from(prefix, depth):
    f = _s._getframe(depth)
    while f is not None:
        if (f.f_globals.get("__name__") or "").startswith(prefix):
            return True
        f = f.f_back
    return False
def _default():
    caller = _s._getframe(1)
    if caller.f_code.co_name == "chat" and caller.f_globals.get("__name__") == "llmcourse.chat":
        _state.defaulted = True
    return _orig_default()
def _get(name, *a, **k):
    if _s._getframe(1).f_code.co_name != "chat":  # default_model() naming the local model, say
        return _orig_get(name, *a, **k)
    via = _called_from("llmcourse.gateway", 2)
    _state.asked = "(gateway)" if via else ("(default)" if getattr(_state, "defaulted", False) else name)
    _state.defaulted = False
    return _orig_get(name, *a, **k)
def _record(**kw):
    _asked.append({"asked": getattr(_state, "asked", "?"), "model": kw.get("model"),
                   "input_tokens": kw.get("input_tokens", 0), "output_tokens": kw.get("output_tokens", 0)})
    return _orig_record(**kw)
_m.default_model, _m.get_model, _m.ledger.record = _default, _get, _record
'''
REPORT = 'import json as _j; print("NOTEBOOK-REPORT" + _j.dumps(_asked))'


def notebooks() -> list[str]:
    out = subprocess.run(["git", "ls-files", "*.ipynb"], cwd=ROOT, capture_output=True, text=True, check=True)
    return out.stdout.split()


def run_one(path: str, timeout: int = 600) -> dict:
    """Execute one notebook with the spy cells; {"seconds", "ok", "error", "calls"}."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(ROOT / path, as_version=4)
    nb.cells.insert(0, nbformat.v4.new_code_cell(SPY))
    nb.cells.append(nbformat.v4.new_code_cell(REPORT))
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str((ROOT / path).parent)}})
    start, error = time.perf_counter(), None
    try:
        client.execute()
    except Exception as exc:  # noqa: BLE001  (a failing notebook is reported, the others still run)
        error = f"{type(exc).__name__}: {str(exc).strip().splitlines()[-1] if str(exc).strip() else ''}"[:300]
    seconds = time.perf_counter() - start
    calls = []
    for out in nb.cells[-1].get("outputs", []):
        text = out.get("text", "")
        if "NOTEBOOK-REPORT" in text:
            calls = json.loads(text.split("NOTEBOOK-REPORT", 1)[1])
    return {"seconds": round(seconds, 1), "ok": error is None, "error": error, "calls": calls}


def run(paths: list[str], save: Path) -> int:
    for name in NO_KEYS:
        os.environ.pop(name, None)
    os.environ.update(LLMCOURSE_IGNORE_DOTENV="1", HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
                      GRADIO_ANALYTICS_ENABLED="False", TOKENIZERS_PARALLELISM="false",
                      ANONYMIZED_TELEMETRY="False")
    results = json.loads(save.read_text()) if save.exists() else {}
    for path in paths:
        print(f"{path} ...", end=" ", flush=True)
        results[path] = run_one(path)
        r = results[path]
        print(f"{r['seconds']:.0f} s, {len(r['calls'])} calls{'' if r['ok'] else ', FAILED: ' + r['error']}",
              flush=True)
        save.parent.mkdir(parents=True, exist_ok=True)
        save.write_text(json.dumps(results, indent=1))  # after each notebook: an interrupted run keeps its rows
    results["_meta"] = {"cores": os.cpu_count(), "omp_threads": os.environ.get("OMP_NUM_THREADS", "default"),
                        "date": time.strftime("%Y-%m-%d")}
    save.write_text(json.dumps(results, indent=1))
    return 0 if all(r["ok"] for k, r in results.items() if k != "_meta") else 1


# ------------------------------------------------------------------------------------------ table
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
    """Seconds per notebook from a pytest JUnit XML file (nbmake names a notebook's test by its path)."""
    out: dict[str, float] = {}
    for case in ET.parse(path).getroot().iter("testcase"):
        name = f"{case.get('classname', '')}/{case.get('name', '')}"
        m = re.search(r"([\w./-]+\.ipynb)", case.get("file") or case.get("name") or name)
        if m:
            key = m.group(1).removeprefix("./")
            out[key] = out.get(key, 0.0) + float(case.get("time", 0))
    return out


def durations_seconds(text: str) -> dict[str, float]:
    """Seconds per notebook from pytest's `--durations` lines (`12.34s call     path.ipynb::...`)."""
    out: dict[str, float] = {}
    for m in re.finditer(r"^\s*([\d.]+)s (?:setup|call|teardown)\s+(\S+?\.ipynb)", text, re.M):
        out[m.group(2)] = out.get(m.group(2), 0.0) + float(m.group(1))
    return out


def table(results: dict, times: dict[str, float] | None = None) -> str:
    meta = results.get("_meta", {})
    rows = ["| notebook | minutes here | model calls | would reach with keys | est. USD per run with keys |",
            "|---|---:|---:|---|---:|"]
    total_s = total_usd = 0.0
    for path, r in sorted((k, v) for k, v in results.items() if k != "_meta"):
        secs = (times or {}).get(path, r["seconds"])
        usd, models = cost_with_keys(r["calls"])
        total_s, total_usd = total_s + secs, total_usd + usd
        reach = ", ".join(f"{n} ×{c}" for n, c in sorted(models.items())) or "none (local model only)"
        status = "" if r["ok"] else " (failed in this run)"
        rows.append(f"| `{path}`{status} | {secs / 60:.1f} | {len(r['calls'])} | {reach} | "
                    f"{'$%.4f' % usd if usd else '$0'} |")
    rows.append(f"| **all {len(rows) - 2}** | **{total_s / 60:.0f}** | | | **${total_usd:.3f}** |")
    src = "the suite's JUnit XML" if times else "`scripts/notebook_report.py run`"
    rows.append("")
    rows.append(f"Generated by `scripts/notebook_report.py table` from {src} ({meta.get('cores', '?')} CPU cores, "
                f"{meta.get('date', '?')}); prices from `models.toml` (checked {_checked()}).")
    return "\n".join(rows)


def _checked() -> str:
    from llmcourse.registry import checked_on

    return checked_on()


def write_between_markers(doc: Path, block: str) -> None:
    """Replace the text between BEGIN and END in `doc` by `block` (ValueError when a marker is missing)."""
    text = doc.read_text()
    if BEGIN not in text or END not in text:
        raise ValueError(f"{doc} has no {BEGIN} ... {END} markers: add them where the table goes.")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    doc.write_text(f"{head}{BEGIN}\n{block}\n{END}{tail}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="execute notebooks, recording time and model calls")
    r.add_argument("notebooks", nargs="*")
    r.add_argument("--save", type=Path, default=ROOT / "test-artifacts" / "notebooks.json")
    t = sub.add_parser("table", help="print (or write into a doc) the per-notebook table")
    t.add_argument("results", type=Path, nargs="?", default=ROOT / "test-artifacts" / "notebooks.json")
    t.add_argument("--times", type=Path, help="take seconds from a JUnit XML or a pytest --durations log")
    t.add_argument("--write", type=Path, help="replace the table between the markers in this file")
    args = ap.parse_args(argv)
    if args.command == "run":
        return run(args.notebooks or notebooks(), args.save)
    results = json.loads(args.results.read_text())
    times = None
    if args.times:
        raw = args.times.read_text()
        times = junit_seconds(args.times) if raw.lstrip().startswith("<") else durations_seconds(raw)
    block = table(results, times)
    if args.write:
        write_between_markers(args.write, block)
        print(f"table written into {args.write}")
    else:
        print(block)
    return 0


if __name__ == "__main__":
    sys.exit(main())
