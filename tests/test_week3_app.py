"""The week 3 dataset generator app for real: the local model, driven by gradio_client and by headless
Chromium (fill the form, generate 5 rows, see the table, download the JSONL, check its rows validate)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from browser import load_app

from llmcourse import datagen
from llmcourse.ui import serve

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
CITY = {"type": "object", "required": ["city", "country"],
        "properties": {"city": {"type": "string", "minLength": 2, "maxLength": 20},
                       "country": {"type": "string", "minLength": 2, "maxLength": 20}}}
BRIEF = "You list real cities of the world and their countries."


def load_app_module():
    return load_app("week3_datagen")


@pytest.fixture(scope="module")
def app_module():
    return load_app_module()


@pytest.fixture(scope="module")
def served(app_module, tmp_path_factory):
    with serve(app_module.build_app(model="local", out_root=tmp_path_factory.mktemp("runs"))) as s:
        yield s


def test_the_form_makes_a_spec_and_bad_input_names_the_fix(app_module):
    spec = app_module.make_spec("Fields", app_module.DEFAULT_FIELDS, "", "Support tickets from shop customers.",
                                app_module.DEFAULT_GRID)
    assert spec.fields == ["text", "label"] and spec.fixed_fields == ["label"]
    assert spec.row_schema["properties"]["text"]["maxLength"] == 160
    with pytest.raises(datagen.SpecError, match="Grid line 1"):
        app_module.parse_grid("tone polite angry")
    with pytest.raises(datagen.SpecError, match="not valid JSON"):
        app_module.make_spec("JSON Schema", None, "{oops", BRIEF, "")


def _predict(client, schema_text, brief, n=2):
    return client.predict("smollm2-135m", "JSON Schema", {"headers": app_module_headers(), "data": []},
                          schema_text, brief, "", n, 1, api_name="/generate")


def app_module_headers():
    return ["name", "type", "description", "choices", "max_length"]


def test_a_bad_schema_gets_one_clear_line_not_a_stack_trace(served):
    from gradio_client import Client

    status, *_ = _predict(Client(served.url, verbose=False), '{"type": "string"}', BRIEF)
    assert status.startswith("⚠️ SpecError:") and "at least one property" in status
    assert "Traceback" not in status and "File \"" not in status
    status, *_ = _predict(Client(served.url, verbose=False), json.dumps(CITY), "")
    assert "brief" in status and status.startswith("⚠️")


def test_gradio_client_generates_rows_with_status_report_and_files(served):
    from gradio_client import Client

    status, table, rejected, report_md, plot, files = _predict(Client(served.url, verbose=False),
                                                              json.dumps(CITY), BRIEF, n=2)
    assert status.startswith("done · `smollm2-135m`") and "$0.000000" in status and " s" in status
    rows = table["data"]
    jsonl = next(Path(f) for f in files if str(f).endswith("rows.jsonl"))
    got = [json.loads(x) for x in jsonl.read_text().splitlines()]
    assert len(got) == len(rows) == int(status.split("· ")[2].split(" rows")[0])
    spec = datagen.DatasetSpec(CITY, brief=BRIEF)
    assert all(spec.validate(r)[1] is None for r in got)
    assert "| validity_rate |" in report_md
    assert {Path(f).suffix for f in files} == {".jsonl", ".csv", ".parquet"} or not got


def test_in_chromium_fill_the_form_generate_5_rows_and_download_the_jsonl(served, tmp_path):
    from browser import browser_page, choose

    with browser_page() as page:
        page.set_default_timeout(600_000)
        page.goto(served.url)
        choose(page, "mode", "JSON Schema")
        page.locator("#schema textarea").fill(json.dumps(CITY))
        page.locator("#brief textarea").fill(BRIEF)
        page.locator("#grid textarea").fill("")
        page.locator("#rows input").fill("5")
        page.locator("#generate").click()
        page.wait_for_function("document.querySelector('#frame-status').innerText.startsWith('done')",
                               timeout=600_000, polling=1000)
        status = page.locator("#frame-status").inner_text()
        n_kept = int(status.split("· ")[2].split(" rows")[0])
        assert "smollm2-135m" in status and n_kept >= 1
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "week3_app.png"), full_page=True)
        shown = page.locator("#rows-table").inner_text()
        page.set_default_timeout(60_000)
        with page.expect_download() as info:
            page.locator("#files tr", has_text=".jsonl").locator("td.download a").first.click()  # stem, ext: two spans
        path = tmp_path / "rows.jsonl"
        info.value.save_as(path)
    rows = [json.loads(x) for x in path.read_text().splitlines()]
    spec = datagen.DatasetSpec(CITY, brief=BRIEF)
    assert len(rows) == n_kept and all(spec.validate(r)[1] is None for r in rows)
    assert all(r["city"] in shown and r["country"] in shown for r in rows)  # the table shows every row


def test_in_chromium_editing_a_schema_picks_json_schema_and_editing_fields_picks_fields(served):
    """The radio follows the box the student edited last (fill is what a paste does: no key pressed)."""
    from playwright.sync_api import expect

    from browser import browser_page, choose

    with browser_page() as page:
        page.set_default_timeout(60_000)
        page.goto(served.url)
        choose(page, "mode", "JSON Schema")     # (waits until the page is wired up)
        choose(page, "mode", "Fields")
        page.locator("#schema textarea").fill(json.dumps(CITY))
        expect(page.locator("#mode input[value='JSON Schema']")).to_be_checked()
        page.locator("#fields [role=gridcell]").first.dblclick()      # the first field's name
        page.keyboard.type("prompt")
        page.keyboard.press("Enter")
        expect(page.locator("#mode input[value='Fields']")).to_be_checked()
