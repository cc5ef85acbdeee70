"""Week 6 data process, chat formatting, frontier fine-tuning (replayed HTTP) and drift: no training."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from llmcourse.finetune import data as D
from llmcourse.finetune import drift, frontier

DATA = Path(__file__).resolve().parents[1] / "week6_finetune" / "data"


def test_malformed_rows_are_reported_by_line(tmp_path):
    p = tmp_path / "t.jsonl"
    p.write_text('{"text": "ok ticket", "label": "billing"}\n{"text": "cut off\n[1, 2]\n\n'
                 '{"text": "", "label": "billing"}\n{"text": "fine", "label": "returns"}\n')
    with pytest.raises(D.DataError) as e:
        D.read_jsonl(p, required=("text", "label"))
    assert [x.split(":")[1] for x in e.value.problems] == ["2", "3", "5"]
    assert "t.jsonl:2: not valid JSON" in str(e.value) and "t.jsonl:5: missing text" in str(e.value)
    loaded = D.read_jsonl(p, required=("text", "label"), strict=False)
    assert loaded.lines == [1, 6] and len(loaded.problems) == 3


def test_labels_normalise_and_unknown_labels_are_not_guessed():
    assert [D.normalise_label(x) for x in ("Billing ", "billing_issue", "TECH", "Account & Login", "RMA",
                                            "shipping/delivery")] == [
        "billing", "billing", "technical", "account", "returns", "shipping"]
    assert D.normalise_label("refund?") is None and D.normalise_label(None) is None


def test_curate_drops_duplicates_noise_and_test_leaks():
    rows = [{"subject": "Help", "body": "The app crashes when I open it on my phone.", "category": "TECH"},
            {"subject": "help", "body": "  the app crashes when I open it on my phone. ", "category": "tech"},
            {"subject": "Help", "body": "test", "category": "billing"},
            {"subject": "Help", "body": "Where is my parcel? Tracking has not moved.", "category": None},
            {"subject": "Help", "body": "I was charged twice for one order, refund it.", "category": "Billing "}]
    clean, report = D.curate(rows, exclude={"Help: I was charged twice for one order, refund it."})
    assert clean == [{"text": "Help: The app crashes when I open it on my phone.", "label": "technical"}]
    assert report.dropped == {"duplicate": 1, "too short": 1, "no usable label": 1, "in the test set": 1}


def test_prepare_tickets_on_the_course_data(tmp_path):
    d = D.prepare_tickets(DATA, out_dir=tmp_path)
    assert len(d.problems) == 3 and all("raw_tickets.jsonl:" in p for p in d.problems)
    assert len(d.test) == 100 and {r["label"] for r in d.test} == set(D.LABELS)
    test_texts = {r["text"] for r in d.test}
    assert not test_texts & {r["text"] for r in d.train + d.validation}
    assert len(d.train) > 250 and all(r["label"] in D.LABELS for r in d.train)
    first = json.loads((tmp_path / "train.jsonl").read_text().splitlines()[0])
    assert [m["role"] for m in first["messages"]] == ["system", "user", "assistant"]


def test_answer_only_loss_masks_the_prompt(engine):
    tok = engine.tokenizer
    from llmcourse.finetune.chat_format import IGNORE, collate, encode_example

    ex = encode_example(tok, D.to_messages("Login: I can't sign in.", "account"))
    answer = [i for i, lab in zip(ex["input_ids"], ex["labels"]) if lab != IGNORE]
    assert tok.decode(answer) == "account<|im_end|>"
    assert ex["labels"][:len(ex["labels"]) - len(answer)] == [IGNORE] * (len(ex["labels"]) - len(answer))
    batch = collate([ex, encode_example(tok, D.to_messages("x", "billing"))], pad_id=0)
    assert batch["attention_mask"].sum(1).tolist() == [len(ex["input_ids"]), batch["attention_mask"][1].sum().item()]
    assert (batch["labels"][1][batch["attention_mask"][1] == 0] == IGNORE).all()


def test_openai_jsonl_is_validated_line_by_line(tmp_path):
    rows = [{"text": f"Ticket {i}: my parcel is late", "label": "shipping"} for i in range(12)]
    good = frontier.build_openai_jsonl(rows, tmp_path / "ft.jsonl")
    check = frontier.validate_openai_jsonl(good)
    assert check.ok and check.examples == 12 and check.tokens > 12 * 20
    lines = good.read_text().splitlines()
    lines[3] = json.dumps({"messages": [{"role": "user", "content": "no answer"}]})
    lines[7] = json.dumps({"messages": [{"role": "robot", "content": "x"}, {"role": "assistant", "content": "y"}]})
    lines.append("{oops")
    (tmp_path / "bad.jsonl").write_text("\n".join(lines))
    bad = frontier.validate_openai_jsonl(tmp_path / "bad.jsonl")
    assert [p.split(":")[0].split(",")[0] for p in bad.problems] == ["line 4", "line 8", "line 13"]


def test_training_cost_is_tokens_times_epochs_times_price(tmp_path):
    check = frontier.FileCheck(tmp_path, examples=300, tokens=30_000, problems=[])
    est = frontier.estimate_training_cost(check, model="gpt-4.1-mini-2025-04-14")
    assert est.epochs == 3 and est.usd == pytest.approx(30_000 * 3 * 5.00 / 1e6)
    assert frontier.default_epochs(20) == 5
    with pytest.raises(Exception, match="TRAINING_PRICES"):
        frontier.estimate_training_cost(check, model="gpt-9")


def test_frontier_job_upload_create_poll_use(tmp_path):
    import httpx2
    import openai
    from http_replay import Replay

    path = frontier.build_openai_jsonl([{"text": f"t{i}: parcel late", "label": "shipping"} for i in range(10)],
                                       tmp_path / "ft.jsonl")
    job = {"object": "fine_tuning.job", "id": "ftjob-1", "model": frontier.DEFAULT_BASE, "created_at": 1,
           "organization_id": "org", "result_files": [], "seed": 1, "training_file": "file-1",
           "validation_file": None, "hyperparameters": {"n_epochs": 3}, "fine_tuned_model": None,
           "finished_at": None, "trained_tokens": None, "error": None}
    replay = Replay(
        (200, {"id": "file-1", "object": "file", "bytes": 100, "created_at": 1, "filename": "ft.jsonl",
               "purpose": "fine-tune", "status": "processed"}),
        (200, job | {"status": "validating_files"}),
        (200, job | {"status": "running"}),
        (200, job | {"status": "succeeded", "fine_tuned_model": "ft:gpt-4.1-mini:org::abc", "trained_tokens": 900}),
        (200, {"id": "c1", "object": "chat.completion", "created": 1, "model": "ft:gpt-4.1-mini:org::abc",
               "choices": [{"index": 0, "finish_reason": "stop",
                            "message": {"role": "assistant", "content": "shipping"}}]}))
    client = openai.OpenAI(api_key="sk-test-not-real", max_retries=0,
                           http_client=httpx2.Client(transport=httpx2.MockTransport(replay.handler)))
    created = frontier.start_job(path, epochs=3, client=client)
    seen = []
    done = frontier.wait_for_job(created.id, client=client, sleep=lambda s: None, on_status=seen.append)
    answer = frontier.ask_finetuned(done.fine_tuned_model, "Where is my parcel?", client=client)
    assert answer == "shipping" and seen == ["ftjob-1: running", "ftjob-1: succeeded"]
    assert replay.requests[0].url.path == "/v1/files" and b"fine-tune" in replay.requests[0].content
    assert replay.body(1) == {"training_file": "file-1", "model": frontier.DEFAULT_BASE, "suffix": "tickets",
                              "method": {"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 3}}}}
    assert replay.body(4)["model"] == "ft:gpt-4.1-mini:org::abc"
    assert replay.body(4)["messages"][0]["content"] == D.SYSTEM_PROMPT


def test_failed_job_raises_with_the_api_message():
    import httpx2
    import openai
    from http_replay import Replay

    replay = Replay((200, {"object": "fine_tuning.job", "id": "ftjob-2", "model": "m", "created_at": 1,
                           "status": "failed", "error": {"code": "invalid_file", "message": "line 4 has no assistant",
                                                         "param": None}}))
    client = openai.OpenAI(api_key="sk-test", http_client=httpx2.Client(transport=httpx2.MockTransport(replay.handler)))
    with pytest.raises(Exception, match="failed: line 4 has no assistant"):
        frontier.wait_for_job("ftjob-2", client=client, on_status=None)


def test_no_key_says_what_to_do():
    with pytest.raises(Exception, match="OPENAI_API_KEY.*notebook 03"):
        frontier.fine_tuning_client()


def test_drift_check_flags_shifted_inputs_only():
    d = D.load_prepared(DATA)
    train, val = [r["text"] for r in d.train], [r["text"] for r in d.validation]
    same = drift.drift_check(train[:200], val, train[200:])  # held-out tickets from the same export
    shifted = drift.drift_check(train, val, ["Ich habe keine Rechnung erhalten, bitte helfen Sie mir schnell. "
                                             "Die Bestellung ist seit Wochen unterwegs und niemand antwortet."] * 40)
    assert not same.drifted and shifted.drifted
    assert shifted.length_psi > 10 * same.length_psi
