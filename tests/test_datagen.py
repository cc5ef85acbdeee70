"""llmcourse.datagen without the model: specs and row validation, de-duplication on hand-made near
duplicates, leakage, exports that round-trip, the report on a small fixed dataset, a folder left by a
crash, and a frontier provider's batch (HTTP replayed)."""

from __future__ import annotations

import json
from typing import Literal

import pytest
from pydantic import BaseModel, Field

from llmcourse import datagen
from llmcourse.datagen import (Dataset, DatasetSpec, SpecError, dedupe, leakage, report, schema_from_fields,
                               ticket_spec)

from http_replay import Replay


class Ticket(BaseModel):
    text: str = Field(min_length=10, max_length=120, description="the customer's message")
    label: Literal["billing", "shipping"]
    urgent: bool


def spec(**kw) -> DatasetSpec:
    return DatasetSpec(Ticket, brief="Support tickets from customers of an online shop.",
                       grid={"label": ["billing", "shipping"], "tone": ["calm", "angry"]}, **kw)


ROWS = [  # a small fixed dataset: two exact duplicates (case, spaces, punctuation) and one reworded copy
    {"text": "My card was charged twice for order 4471, please refund one payment.", "label": "billing", "urgent": True},
    {"text": "my card was charged TWICE for order 4471  please refund one payment!", "label": "billing", "urgent": True},
    {"text": "Hello, my card was charged twice for order 4471, please refund one of the payments.",
     "label": "billing", "urgent": False},
    {"text": "The parcel tracking has not moved for a week. Where is my order?", "label": "shipping", "urgent": False},
    {"text": "Could you tell me when the blue kettle ships to Lyon?", "label": "shipping", "urgent": False},
]


# -- spec and validation -------------------------------------------------------------------------
def test_grid_fields_are_fixed_and_left_out_of_what_the_model_writes():
    s = spec()
    assert s.fixed_fields == ["label"] and s.model_fields == ["text", "urgent"]
    batch = s.batch_schema(3)
    items = batch["properties"]["rows"]
    assert items["minItems"] == items["maxItems"] == 3
    assert set(items["items"]["properties"]) == {"text", "urgent"}
    assert s.text_fields == ["text"]


def test_every_free_string_gets_a_max_length():
    s = DatasetSpec({"type": "object", "properties": {"a": {"type": "string"}, "b": {"enum": ["x", "y"]},
                                                       "c": {"type": "array", "items": {"type": "string"}}}},
                    brief="Rows with a free text, a choice and a list.")
    props = s.model_schema()["properties"]
    assert props["a"]["maxLength"] == datagen.spec.DEFAULT_MAX_LENGTH
    assert "maxLength" not in props["b"] and props["c"]["items"]["maxLength"] > 0


def test_validate_accepts_good_rows_and_names_what_is_wrong():
    s = spec(checks=[lambda r: "mentions a competitor" if "acme" in r["text"].lower() else None])
    assert s.validate(ROWS[0]) == (ROWS[0], None)
    assert s.validate({**ROWS[0], "label": "returns"})[1].startswith("invalid label")
    assert s.validate({**ROWS[0], "text": "short"})[1].startswith("invalid text")
    assert s.validate({**ROWS[0], "text": "   "})[1] == "empty field: text"
    assert s.validate({"label": "billing", "urgent": True})[1].startswith("invalid text")
    assert "competitor" in s.validate({**ROWS[0], "text": "Acme sells it for less, match the price."})[1]
    assert s.validate("not a row")[1].startswith("not an object")


def test_json_schema_rows_are_validated_too():
    s = DatasetSpec(schema_from_fields([{"name": "question", "type": "text", "max_length": 80},
                                        {"name": "level", "type": "choice", "choices": "easy, hard"},
                                        {"name": "points", "type": "integer"}]), brief="Quiz questions about maths.")
    assert s.validate({"question": "What is 2+2?", "level": "easy", "points": 1})[1] is None
    reason = s.validate({"question": "What is 2+2?", "level": "medium", "points": 1})[1]
    assert reason.startswith("invalid level") and "medium" in reason


def test_bad_specs_say_what_to_change():
    with pytest.raises(SpecError, match="brief"):
        DatasetSpec(Ticket, brief="")
    with pytest.raises(SpecError, match="grid\\['label'\\] has \\['returns'\\]"):
        DatasetSpec(Ticket, brief="Support tickets from customers.", grid={"label": ["billing", "returns"]})
    with pytest.raises(SpecError, match="examples\\[0\\]"):
        DatasetSpec(Ticket, brief="Support tickets from customers.", examples=[{"text": "hi"}])
    with pytest.raises(SpecError, match="at least two choices"):
        schema_from_fields([{"name": "label", "type": "choice", "choices": "spam"}])
    with pytest.raises(SpecError, match="line 1, column"):
        datagen.parse_schema('{"type": "object", "properties": {')
    with pytest.raises(SpecError, match="at least one property"):
        datagen.parse_schema('{"type": "string"}')


def test_cells_cover_the_grid_in_a_reproducible_order():
    cells = spec().cells(seed=1)
    assert len(cells) == 4 and {(c["label"], c["tone"]) for c in cells} == {
        ("billing", "calm"), ("billing", "angry"), ("shipping", "calm"), ("shipping", "angry")}
    assert cells == spec().cells(seed=1)


def test_plan_asks_only_for_missing_slots_and_keeps_each_slots_cell():
    s = spec()
    full = datagen.plan(s, 6, 2, done=set())
    assert [slots for slots, _ in full] == [[0, 1], [2, 3], [4, 5]]
    resumed = datagen.plan(s, 6, 2, done={0, 1, 2})
    assert resumed == [([3], full[1][1]), ([4, 5], full[2][1])]


def test_the_prompt_names_the_cell_and_shows_examples_without_fixed_fields():
    s = spec(examples=[ROWS[3], ROWS[0]])
    user = s.messages({"label": "billing", "tone": "angry"}, 2)[1]["content"]
    assert "label: billing; tone: angry" in user and "2 new" in user
    assert "card was charged twice" in user.split("Examples:")[1].splitlines()[1]  # same label first
    assert '"label"' not in user


def test_no_repetition_rejects_looping_text():
    assert datagen.no_repetition({"text": "I will visit Mars. " * 8}).startswith("text repeats itself")
    assert datagen.no_repetition({"text": "Please refund the second payment for order 4471."}) is None


def test_ticket_spec_matches_the_week6_contract():
    s = ticket_spec()
    assert s.grid["label"] == ["billing", "technical", "account", "shipping", "returns"]
    assert s.fixed_fields == ["label"] and len(s.cells()) == 60
    assert s.row_schema["properties"]["text"]["maxLength"] <= 300


# -- duplicates and leakage -------------------------------------------------------------------------
def test_ngram_dedupe_drops_exact_and_reworded_copies():
    kept, dropped = dedupe(ROWS, fields=["text"], method="ngram", threshold=0.5)
    assert kept == [ROWS[0], ROWS[3], ROWS[4]]
    assert [(d["duplicate_of"], d["reason"].split(" (")[0]) for d in dropped] == [
        (0, "exact duplicate of row 0"), (0, "near duplicate")]
    assert dedupe(ROWS, fields=["text"], method=None)[1][0]["duplicate_of"] == 0  # exact only
    assert len(dedupe(ROWS, fields=["text"], method=None)[0]) == 4


def test_embedding_dedupe_catches_a_paraphrase_that_shares_few_ngrams():
    rows = [{"text": "I was billed two times for the same order, please give one payment back."},
            {"text": "You charged my card twice for a single purchase; refund the extra charge."},
            {"text": "The parcel tracking has not moved for a week."}]
    assert dedupe(rows, method="ngram")[1] == []  # no shared word 3-grams
    kept, dropped = dedupe(rows, method="embedding", threshold=0.6)
    assert kept == [rows[0], rows[2]] and dropped[0]["duplicate_of"] == 0
    assert 0.6 <= dropped[0]["similarity"] < 1.0
    assert dedupe(rows, method="embedding", threshold=0.95)[1] == []  # the threshold is a parameter


def test_leakage_finds_rows_copied_from_an_evaluation_set():
    evalset = ["The tracking page has said label created for six days, where is my parcel please help",
               "I cannot log in because the password reset email never arrives in my inbox"]
    rows = [{"text": "Hi! The tracking page has said label created for six days, where is my parcel please help me"},
            {"text": "My headphones will not pair with my phone over Bluetooth after the update"}]
    leaks = leakage(rows, evalset)
    assert [(d["row_index"], d["eval_index"]) for d in leaks] == [(0, 0)] and leaks[0]["overlap"] > 0.8


# -- exports and the report ------------------------------------------------------------------------
def test_exports_round_trip(tmp_path):
    ds = Dataset.from_rows(ROWS)
    for suffix in ("jsonl", "csv", "parquet"):
        path = getattr(ds, f"to_{suffix}")(tmp_path / f"rows.{suffix}")
        back = datagen.read_rows(path)
        assert back == ROWS, suffix
    hf = ds.to_hf()
    assert hf.num_rows == 5 and hf.column_names == ["text", "label", "urgent"] and hf[3] == ROWS[3]


def test_push_to_hub_needs_an_explicit_token():
    with pytest.raises(ValueError, match="token="):
        Dataset.from_rows(ROWS).push_to_hub("me/tickets", token="")


def test_report_on_a_small_fixed_dataset():
    r = report(Dataset.from_rows(ROWS), spec=spec())
    texts = [row["text"] for row in ROWS]
    assert r.summary["accepted"] == 5 and r.fields["label"] == {"billing": 3, "shipping": 2}
    assert r.fields["urgent"] == {True: 2, False: 3}
    assert r.lengths["text"] == [len(t) for t in texts]
    assert r.distinct["distinct_1"] == round(datagen.distinct_n(texts, 1), 3) < 0.7  # the copies repeat words
    unique = report(Dataset.from_rows([ROWS[0], ROWS[3], ROWS[4]]), spec=spec())
    assert unique.distinct["distinct_2"] > r.distinct["distinct_2"]
    assert unique.spread > r.spread > 0
    fig = r.figure()
    assert len(fig.axes) == 3  # text lengths, label, urgent
    assert "| distinct_2 |" in r._repr_markdown_()


def _write(folder, accepted, rejected, calls):
    folder.mkdir()
    for name, recs in (("accepted", accepted), ("rejected", rejected), ("calls", calls)):
        (folder / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs))


def test_dataset_rates_from_a_run_folder(tmp_path):
    acc = [{"slot": i, "row": r, "attributes": {}, "model": "m"} for i, r in enumerate(ROWS[:3])]
    rej = [{"slot": 3, "reason": "exact duplicate of slot 0", "row": ROWS[0]},
           {"slot": 4, "reason": "invalid label: Input should be 'billing' or 'shipping'", "row": {}}]
    calls = [{"slots": [0, 1], "seconds": 20.0, "cost": 0.001, "input_tokens": 100, "output_tokens": 50},
             {"slots": [2, 3, 4], "seconds": 10.0, "cost": 0.002, "input_tokens": 100, "output_tokens": 70}]
    _write(tmp_path / "run", acc, rej, calls)
    ds = Dataset.load(tmp_path / "run")
    assert ds.validity_rate == 4 / 5 and ds.duplicate_rate == 1 / 4
    assert ds.rows_per_minute == 3 / 0.5 and ds.tokens == {"input": 200, "output": 120}
    assert ds.summary()["cost_usd"] == 0.003 and ds.reasons() == {"exact duplicate": 1, "invalid": 1}


def test_a_line_half_written_by_a_crash_is_cut_and_its_slot_redone(tmp_path):
    s = spec()
    folder = tmp_path / "run"
    from llmcourse.datagen.generate import Run

    Run(s, folder, dedupe=None, threshold=None)  # creates the folder and spec.json
    good = {"slot": 0, "row": ROWS[0], "attributes": {"label": "billing", "tone": "calm"}, "model": "m"}
    (folder / "accepted.jsonl").write_text(json.dumps(good) + "\n" + '{"slot": 1, "row": {"te')
    run = Run(s, folder, dedupe=None, threshold=None)
    assert run.done == {0}
    assert (folder / "accepted.jsonl").read_text() == json.dumps(good) + "\n"


def test_a_folder_of_another_spec_is_refused(tmp_path):
    from llmcourse.datagen.generate import Run

    Run(spec(), tmp_path / "run", dedupe=None, threshold=None)
    other = DatasetSpec(Ticket, brief="Complaints from hotel guests, one per row.")
    with pytest.raises(SpecError, match="another schema, brief or grid"):
        Run(other, tmp_path / "run", dedupe=None, threshold=None)


# -- a frontier provider: one call returns a batch (HTTP replayed) ------------------------------
def _openai_reply(content):
    return {"id": "c1", "object": "chat.completion", "created": 1, "model": "m",
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}],
            "usage": {"prompt_tokens": 300, "completion_tokens": 90, "total_tokens": 390}}


def test_a_frontier_batch_is_one_call_with_the_batch_schema(monkeypatch, tmp_path):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-" + "T" * 24)
    batch = {"rows": [{"text": ROWS[0]["text"], "urgent": True}, {"text": ROWS[1]["text"], "urgent": True},
                      {"text": "Short", "urgent": False}]}
    rp = Replay((200, _openai_reply(json.dumps(batch)))).install("openai")
    ds = datagen.generate(spec(), 3, model="openai", batch_size=3, out=tmp_path / "run", progress=False,
                          dedupe="ngram")
    sent = rp.body()
    rows_schema = sent["response_format"]["json_schema"]["schema"]["properties"]["rows"]
    assert rows_schema["minItems"] == rows_schema["maxItems"] == 3
    assert "seed" not in sent  # the seed goes to the local model only
    assert ds.records, ds.rejected
    label = ds.records[0]["attributes"]["label"]
    assert ds.rows == [{"text": ROWS[0]["text"], "label": label, "urgent": True}]  # the label comes from the grid
    assert [r["reason"].split(" of")[0] for r in ds.rejected] == ["exact duplicate", "invalid text: String should have at least 10 characters"]
    assert ds.rejected[0]["reason"] == "exact duplicate of slot 0"
    assert ds.calls[0]["input_tokens"] == 300 and ds.cost > 0 and ds.validity_rate == 2 / 3


def test_module_examples_run():
    import doctest
    import importlib

    for name in ("spec", "dedupe", "export", "report"):
        mod = importlib.import_module(f"llmcourse.datagen.{name}")
        result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS)
        assert result.failed == 0 and result.attempted > 0, mod.__name__
