"""trim_history keeps the system prompt and the newest turns within a token budget."""

import pytest

from llmcourse.history import trim_history
from llmcourse.tokens import count_tokens


def chat_of(n_turns: int) -> list[dict]:
    msgs = [{"role": "system", "content": "You are a helpful assistant."}]
    for i in range(n_turns):
        msgs += [{"role": "user", "content": f"Question number {i}: tell me a fact about the number {i}."},
                 {"role": "assistant", "content": f"Fact {i}: the number {i} is written with the digit {i}."}]
    return msgs + [{"role": "user", "content": "And the last question?"}]


@pytest.mark.parametrize("model", ["o200k_base", "local"])
def test_fits_budget_keeps_system_and_newest(model):
    msgs = chat_of(10)
    budget = count_tokens(msgs, model) // 3
    kept = trim_history(msgs, budget, model)
    assert count_tokens(kept, model) <= budget
    assert kept[0] == msgs[0] and kept[-1] == msgs[-1]
    assert kept[1]["role"] == "user"
    assert kept[1:] == msgs[len(msgs) - len(kept) + 1:]  # a contiguous, newest suffix
    assert len(kept) < len(msgs)


def test_unchanged_when_it_fits():
    msgs = chat_of(2)
    assert trim_history(msgs, 10_000, "o200k_base") == msgs


def test_too_small_budget_names_the_fix():
    with pytest.raises(ValueError, match="raise the budget"):
        trim_history(chat_of(1), 5, "o200k_base")
