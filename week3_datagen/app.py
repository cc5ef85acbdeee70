"""Week 3 app: a synthetic dataset generator.

Write or pick a schema (a form of fields, or JSON Schema), write the brief and an attribute grid, pick the
model and the row count, and generate: rows appear in a live table as they are made, then the quality
report and the files (JSONL, CSV, Parquet) to download. Stop keeps the rows made so far.

Run it: `python week3_datagen/app.py` (then open the printed URL). Import it: `build_app()`.
"""

from __future__ import annotations

import json
import tempfile
import time
import uuid
from pathlib import Path

import gradio as gr

from llmcourse import datagen, ui

FIELD_HEADERS = ["name", "type", "description", "choices", "max_length"]
DEFAULT_FIELDS = [["text", "text", "the customer's message", "", 160],
                  ["label", "choice", "", "billing, technical, account, shipping, returns", ""]]
DEFAULT_BRIEF = datagen.presets.TICKET_BRIEF
DEFAULT_GRID = "label: billing, technical, account, shipping, returns\ntone: polite, angry, confused"
PRESETS = {"support tickets (week 6)": (datagen.ticket_schema(160), DEFAULT_BRIEF, DEFAULT_GRID)}
_STOP: dict[str, bool] = {}


def parse_grid(text: str) -> dict[str, list[str]]:
    """'name: a, b, c' per line -> {"name": ["a", "b", "c"]}."""
    grid = {}
    for i, line in enumerate((text or "").splitlines(), 1):
        if not line.strip():
            continue
        if ":" not in line:
            raise datagen.SpecError(f"Grid line {i} ({line.strip()[:40]!r}) needs the form 'name: value, value'")
        key, values = line.split(":", 1)
        grid[key.strip()] = [v.strip() for v in values.split(",") if v.strip()]
    return grid


def make_spec(mode: str, fields, schema_text: str, brief: str, grid_text: str) -> datagen.DatasetSpec:
    """The spec from the form: the fields table or the JSON Schema box, the brief and the grid."""
    if mode == "JSON Schema":
        schema = datagen.parse_schema(schema_text or "")
    else:
        rows = fields.values.tolist() if hasattr(fields, "values") else (fields or [])
        schema = datagen.schema_from_fields([dict(zip(FIELD_HEADERS, r)) for r in rows])
    return datagen.DatasetSpec(schema, brief=brief or "", grid=parse_grid(grid_text))


def _status(ds: datagen.Dataset, state: str) -> str:
    s = ds.summary()
    return (f"{state} · `{s['model']}` · {s['accepted']} rows ({s['rejected']} rejected) · "
            f"{s['input_tokens']} in / {s['output_tokens']} out tokens · ${s['cost_usd']:.6f} · {s['seconds']:.1f} s")


def _table(ds: datagen.Dataset):
    import pandas as pd

    return pd.DataFrame(ds.rows) if len(ds) else pd.DataFrame()


def _rejected(ds: datagen.Dataset):
    import pandas as pd

    return pd.DataFrame([{"slot": r["slot"], "reason": r["reason"]} for r in ds.rejected], columns=["slot", "reason"])


def _files(ds: datagen.Dataset, folder: Path, all_formats: bool) -> list[str]:
    out = [str(ds.to_jsonl(folder / "rows.jsonl"))]
    if all_formats and len(ds):
        out += [str(ds.to_csv(folder / "rows.csv")), str(ds.to_parquet(folder / "rows.parquet"))]
    return out


def run(model, mode, fields, schema_text, brief, grid_text, n_rows, batch_size, run_id, out_root,
        progress=gr.Progress()):
    """Generate, yielding (status, rows, rejected, report, plot, files) as rows arrive."""
    empty = (None, None, "", None, None)
    try:
        spec = make_spec(mode, fields, schema_text, brief, grid_text)
        n, batch = int(n_rows), int(batch_size)
    except Exception as exc:  # a bad schema, brief or grid: one line, no stack trace
        yield (ui.error_line(exc), *empty)
        return
    folder = Path(out_root) / f"run-{time.strftime('%Y%m%d-%H%M%S')}-{run_id[:6]}"
    _STOP[run_id] = False
    done = 0
    try:
        progress((0, n), desc="generating", unit="rows")
        for rec in datagen.iter_generate(spec, n, out=folder, model=model, batch_size=batch, dedupe="ngram",
                                         stop=lambda: _STOP.get(run_id, False)):
            done += 1
            progress((done, n), desc="generating", unit="rows")
            ds = datagen.Dataset.load(folder, spec=spec)
            yield (_status(ds, f"{done}/{n}"), _table(ds), _rejected(ds), "", None, _files(ds, folder, False))
    except Exception as exc:
        ds = datagen.Dataset.load(folder, spec=spec) if folder.exists() else None
        yield (ui.error_line(exc), *(empty if ds is None else (_table(ds), _rejected(ds), "", None,
                                                                 _files(ds, folder, True))))
        return
    ds = datagen.Dataset.load(folder, spec=spec)
    state = "stopped" if _STOP.pop(run_id, False) else "done"
    r = datagen.report(ds, spec=spec, spread=len(ds) > 1)
    yield (_status(ds, state), _table(ds), _rejected(ds), r._repr_markdown_(), r.figure(), _files(ds, folder, True))


def stop(run_id: str) -> str:
    _STOP[run_id] = True
    return "stopping after the current call…"


def load_preset(name: str):
    schema, brief, grid = PRESETS[name]
    return "JSON Schema", json.dumps(schema, indent=1), brief, grid


def build_app(*, model: str | None = None, out_root: str | Path | None = None, max_rows: int = 100):
    """The Gradio app (API names: /generate, /stop). out_root: where run folders go (a temp dir by default)."""
    out_root = str(out_root or tempfile.mkdtemp(prefix="datagen-app-"))
    with ui.frame("Week 3 · Synthetic dataset generator", model=model,
                  description="Describe a row, write a brief, and let a model fill the table.") as f:
        run_id, root = gr.State(""), gr.State(out_root)
        with gr.Row():
            with gr.Column(scale=1):
                mode = gr.Radio(["Fields", "JSON Schema"], value="Fields", label="Schema from", elem_id="mode")
                fields = gr.Dataframe(value=DEFAULT_FIELDS, headers=FIELD_HEADERS, label="Fields (type: text, "
                                      "integer, number, boolean, choice)", interactive=True, elem_id="fields")
                schema_text = gr.Textbox(label="JSON Schema", lines=8, elem_id="schema",
                                         value=json.dumps(datagen.ticket_schema(160), indent=1))
                preset = gr.Dropdown(list(PRESETS), label="Or start from a preset", value=None, elem_id="preset")
                brief = gr.Textbox(label="Brief", value=DEFAULT_BRIEF, lines=2, elem_id="brief")
                grid = gr.Textbox(label="Attribute grid (one per line: name: value, value)", value=DEFAULT_GRID,
                                  lines=3, elem_id="grid")
                with gr.Row():
                    n_rows = gr.Number(5, label="Rows", minimum=1, maximum=max_rows, precision=0, elem_id="rows")
                    batch = gr.Number(1, label="Rows per call", minimum=1, maximum=10, precision=0, elem_id="batch")
                with gr.Row():
                    go = gr.Button("Generate", variant="primary", elem_id="generate")
                    halt = gr.Button("Stop", elem_id="stop")
            with gr.Column(scale=2):
                status = f.status_box()
                table = gr.Dataframe(label="Rows", elem_id="rows-table", interactive=False)
                rejected = gr.Dataframe(label="Rejected (with reasons)", elem_id="rejected-table", interactive=False)
                files = gr.File(label="Download", file_count="multiple", elem_id="files")
        report_md = gr.Markdown(elem_id="report")
        plot = gr.Plot(label="Quality report", elem_id="plot")
        preset.change(load_preset, preset, [mode, schema_text, brief, grid], api_visibility="private")
        # Editing a schema means using it: the radio follows the box last edited, typed or pasted (a student who
        # pasted a schema but left "Fields" chosen got rows of the default fields). In the browser, no round trip.
        schema_text.change(None, None, mode, js="() => 'JSON Schema'")
        fields.change(None, None, mode, js="() => 'Fields'")
        go.click(lambda: uuid.uuid4().hex, None, run_id, api_visibility="private").then(
            run, [f.model, mode, fields, schema_text, brief, grid, n_rows, batch, run_id, root],
            [status, table, rejected, report_md, plot, files], api_name="generate")
        halt.click(stop, run_id, status, api_name="stop")
    return f.blocks


if __name__ == "__main__":
    served = ui.serve(build_app())
    print(f"Dataset generator running at {served.url} (Ctrl-C to stop)")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        served.close()
