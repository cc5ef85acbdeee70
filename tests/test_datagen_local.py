"""llmcourse.datagen with the real local model: rows through constrained decoding, a run interrupted by a
real exception in the middle of a batch and resumed with nothing lost and nothing repeated, stopping
between calls, and the optional judge."""

from __future__ import annotations

import json

import pytest

from llmcourse import datagen
from llmcourse.datagen import DatasetSpec, iter_generate

CITY = {"title": "City", "type": "object", "required": ["city", "country", "continent"],
        "properties": {"city": {"type": "string", "minLength": 2, "maxLength": 20},
                       "country": {"type": "string", "minLength": 2, "maxLength": 20},
                       "continent": {"enum": ["Europe", "Asia", "Africa", "Americas"]}}}


def city_spec() -> DatasetSpec:
    return DatasetSpec(CITY, brief="You list real cities of the world.", grid={"continent": ["Europe", "Asia"]},
                       examples=[{"city": "Lyon", "country": "France", "continent": "Europe"}])


def lines(path):
    return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []


def test_rows_are_valid_and_carry_their_grid_cell(engine, tmp_path):
    ds = datagen.generate(city_spec(), 2, model="local", batch_size=2, out=tmp_path / "run", progress=False,
                          dedupe="ngram", max_tokens=None)
    assert ds.attempted == 2 and len(ds.calls) == 1  # one call for the batch
    for rec in ds.records:
        assert city_spec().validate(rec["row"])[1] is None
        assert rec["row"]["continent"] == rec["attributes"]["continent"]  # fixed by the grid, not the model
    assert ds.calls[0]["output_tokens"] > 0 and ds.seconds > 0 and ds.cost == 0


def test_a_run_interrupted_mid_batch_resumes_with_nothing_lost_or_repeated(engine, tmp_path):
    out = tmp_path / "run"
    written = []
    with pytest.raises(RuntimeError, match="power cut"):
        for rec in iter_generate(city_spec(), 4, model="local", batch_size=2, out=out, dedupe=None, seed=3):
            written.append(rec)
            if len(written) == 3:  # batch 2 = slots 2 and 3: slot 2 is on disk, slot 3 is not
                raise RuntimeError("power cut")
    before = {r["slot"]: r for r in lines(out / "accepted.jsonl") + lines(out / "rejected.jsonl")}
    assert sorted(before) == [0, 1, 2]
    assert [c["slots"] for c in lines(out / "calls.jsonl")] == [[0, 1], [2, 3]]

    resumed = list(iter_generate(city_spec(), 4, model="local", batch_size=2, out=out, dedupe=None, seed=3))
    assert [r["slot"] for r in resumed] == [3]  # only the missing slot was asked for
    assert lines(out / "calls.jsonl")[-1]["slots"] == [3]
    after = lines(out / "accepted.jsonl") + lines(out / "rejected.jsonl")
    assert sorted(r["slot"] for r in after) == [0, 1, 2, 3]  # each slot exactly once
    for slot, rec in before.items():  # nothing written before the interruption changed
        assert next(r for r in after if r["slot"] == slot) == rec
    assert list(iter_generate(city_spec(), 4, model="local", batch_size=2, out=out)) == []  # done: no calls


def test_stop_ends_the_run_between_calls_and_keeps_the_rows(engine, tmp_path):
    calls = []
    stop = lambda: len(calls) >= 1  # noqa: E731
    for rec in iter_generate(city_spec(), 6, model="local", batch_size=1, out=tmp_path / "run", dedupe=None,
                             stop=stop):
        calls.append(rec)
    ds = datagen.Dataset.load(tmp_path / "run")
    assert ds.attempted == 1 and len(ds.calls) == 1


def test_report_can_ask_a_judge_per_row(engine):
    rows = [{"city": "Paris", "country": "France", "continent": "Europe"}]
    r = datagen.report(rows, spec=city_spec(), spread=False, judge="local", judge_rows=1)
    assert len(r.judged) == 1 and r.judged[0]["reason"] and r.judged[0]["row"] == rows[0]
    assert r.flat()["judge_mean"] == r.judged[0]["score"]
