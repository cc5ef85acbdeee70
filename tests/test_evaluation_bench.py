"""Benchmarks in llmcourse.evaluation: data files, accuracy intervals, log-likelihood scoring with the real
local model, the runner's three methods, IFEval-style checks and contamination."""

from __future__ import annotations

import json

import pytest

from llmcourse.evaluation import (Accuracy, Item, check_instruction, contaminated, continuation_logprobs,
                                  format_example, load_from_hub, load_humaneval, load_mmlu, overlap,
                                  run_benchmark, score_replies, stratified_sample, wilson_interval)
from llmcourse.evaluation.formats import parse_letter, parse_number
from llmcourse.evaluation.loglik import encode_pair

from http_replay import Replay

EASY = [Item("What is the capital of France?", ["Paris", "Tokyo", "a banana", "seven"], 0),
        Item("What color is the sky on a clear day?", ["green", "blue", "purple", "striped"], 1),
        Item("What is frozen water called?", ["ice", "sand", "wood", "smoke"], 0),
        Item("Which animal says meow?", ["a cow", "a fish", "a snail", "a cat"], 3),
        Item("What do bees make?", ["honey", "steel", "plastic", "glass"], 0),
        Item("Which of these is a fruit?", ["a brick", "an apple", "a chair", "a cloud"], 1)]


def test_mmlu_and_humaneval_come_from_the_package_files():
    items = load_mmlu()
    assert len(items) == 14042 and len({i.subject for i in items}) == 57
    assert all(len(i.choices) == 4 and i.answer in (0, 1, 2, 3) for i in items)
    sample = stratified_sample(items, 3, seed=1)
    assert len(sample) == 171 and sample == stratified_sample(items, 3, seed=1)
    assert {s.subject for s in sample} == {i.subject for i in items}
    with pytest.raises(ValueError, match="subjects are"):
        load_mmlu(subjects=["astrology"])
    problems = load_humaneval()
    assert len(problems) == 164 and problems[0]["task_id"] == "HumanEval/0"


def test_wilson_interval_against_known_values():
    lo, hi = wilson_interval(30, 100)
    assert (round(lo, 4), round(hi, 4)) == (0.2189, 0.3958)   # the textbook Wilson values for 30/100
    assert wilson_interval(0, 10)[0] == 0 and wilson_interval(0, 10)[1] > 0.2   # no 0-width interval at 0
    assert Accuracy(293, 1000).half_width < Accuracy(29, 100).half_width / 3
    with pytest.raises(ValueError, match="no scored items"):
        wilson_interval(0, 0)


def test_continuation_split_follows_lm_eval(engine):
    ctx, cont = encode_pair(engine.tokenizer, "Question: Capital of France?\nAnswer: ", "Paris")
    assert engine.tokenizer.decode(cont) == " Paris" and not engine.tokenizer.decode(ctx).endswith(" ")


def test_batched_shared_context_scoring_equals_one_full_pass_each(engine):
    """The cache trick (context once, continuations on copies) gives the numbers of the plain way."""
    import torch
    from transformers import AutoModelForCausalLM

    class FP32:                                  # float32, so the comparison is not bf16 rounding
        tokenizer = engine.tokenizer
        model = AutoModelForCausalLM.from_pretrained(engine.model_dir, dtype=torch.float32).eval()

    pairs = [("The capital of France is", " Paris"), ("The capital of France is", " a large banana split"),
             ("Question: What do bees make?\nAnswer:", " honey"), ("Hi", " there, friend")]
    got = continuation_logprobs(pairs, batch_size=3, engine=FP32)
    for (c, x), s in zip(pairs, got):
        ctx, cont = encode_pair(engine.tokenizer, c, x)
        with torch.inference_mode():
            logp = torch.log_softmax(FP32.model(input_ids=torch.tensor([ctx + cont])).logits[0].float(), -1)
        want = sum(logp[len(ctx) - 1 + j, t].item() for j, t in enumerate(cont))
        assert s.logprob == pytest.approx(want, abs=2e-3) and s.tokens == len(cont)
    assert got[0].greedy and not got[1].greedy and got[0].logprob > got[1].logprob + 5


def test_cloze_scoring_gets_easy_questions_right(engine):
    res = run_benchmark(EASY, method="cloze", progress=False)
    print(f"\n{res}; letter formulation: {run_benchmark(EASY, method='letter', progress=False).accuracy}")
    assert res.accuracy.correct >= 5          # measured 6 of 6 (2026-12-02); chance would be 1.5 of 6
    assert res.accuracy.n == 6 and all(len(r["logprobs"]) == 4 for r in res.rows)
    assert res.accuracy_with("none").n == 6


def test_loglik_methods_refuse_api_models_and_generative_items():
    with pytest.raises(ValueError, match="method='generate'"):
        run_benchmark(EASY, model="openai/gpt-x", method="cloze", progress=False)
    with pytest.raises(ValueError, match="generative"):
        run_benchmark([Item("2+2?", None, "4")], method="cloze", progress=False)


def _openai_reply(content):
    return {"id": "c1", "object": "chat.completion", "created": 1, "model": "m",
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}],
            "usage": {"prompt_tokens": 30, "completion_tokens": 3, "total_tokens": 33}}


def test_generate_method_parses_api_replies(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-" + "T" * 24)
    rp = Replay((200, _openai_reply("A")), (200, _openai_reply("The answer is (C).")),
                (200, _openai_reply("3 boxes of 12 is 36, minus 9.\nAnswer: 27"))).install("openai")
    items = [EASY[0], EASY[1], Item("Ana has 3 boxes of 12 pencils and gives away 9. How many are left?", None, "27")]
    res = run_benchmark(items, model="openai", method="generate", progress=False)
    assert [r["correct"] for r in res.rows] == [True, False, True]
    assert [r["prediction"] for r in res.rows] == [0, 2, "27"]
    assert "A. Paris" in rp.body(0)["messages"][-1]["content"] and rp.body(0)["temperature"] == 0


def test_answer_parsers():
    assert parse_letter("B", 4) == 1 and parse_letter("Answer: d", 4) == 3 and parse_letter("I think (A)", 4) == 0
    assert parse_letter("No idea.", 4) is None and parse_letter("E", 4) is None
    assert parse_number("She pays $1,250.00 in total.") == "1250" and parse_number("none") is None


def test_instruction_checks_follow_the_words():
    assert check_instruction("one two three", {"type": "word_count", "max": 3})
    assert not check_instruction("one two three four", {"type": "word_count", "max": 3})
    assert check_instruction("- a\n- b\n* c", {"type": "bullet_count", "min": 3, "max": 3})
    assert check_instruction('```json\n{"a": 1}\n```', {"type": "json"})
    assert not check_instruction("hello World", {"type": "lowercase"})
    assert not check_instruction("Trains are fast.", {"type": "forbidden_words", "words": ["fast"]})
    res = score_replies([{"prompt": "p", "instructions": [{"type": "no_commas"}, {"type": "uppercase"}]}],
                        ["HELLO, WORLD"])
    assert res.prompt_level == 0 and res.instruction_level == 0.5
    with pytest.raises(ValueError, match="known"):
        check_instruction("x", {"type": "rhymes"})


def test_contamination_finds_the_copied_item():
    items = [i.question for i in load_mmlu(subjects=["astronomy"])[:20]]
    web_page = "Some study notes. " + items[7] + " More notes about stars and planets."
    assert contaminated(items, web_page, n=8) == [7]
    assert overlap(items[3], web_page, n=8) == 0


def test_other_benchmarks_show_a_labelled_example_and_load_only_on_request(capsys):
    assert format_example("GSM8K").answer == "27" and len(format_example("MMLU-Pro").choices) == 10
    assert load_from_hub("GSM8K") is None
    assert "online=True" in capsys.readouterr().out
    with pytest.raises(ValueError, match="there are"):
        format_example("SuperGLUE")
