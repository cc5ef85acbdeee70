"""Fit a conversation into a token budget by dropping its oldest turns.

APIs are stateless: every call resends the whole conversation, so a long chat eventually
outgrows the context window (and costs more each turn). The usual fix keeps the system prompt
and the most recent turns.

>>> msgs = [{"role": "system", "content": "Be brief."},
...         {"role": "user", "content": "Hi " * 50}, {"role": "assistant", "content": "Hello!"},
...         {"role": "user", "content": "What is 2 + 2?"}]
>>> [m["role"] for m in trim_history(msgs, 30, "o200k_base")]
['system', 'user']
"""

from __future__ import annotations

from .tokens import count_tokens


def trim_history(messages: list[dict], budget: int, model: str | None = None) -> list[dict]:
    """The messages, oldest non-system turns dropped, so that `count_tokens(result, model) <= budget`.

    System messages are always kept, and the kept turns start with a user message. Raises
    ValueError when even the system prompt plus the last message does not fit.
    """
    system = [m for m in messages if m.get("role") == "system"]
    turns = [m for m in messages if m.get("role") != "system"]
    while turns:
        if count_tokens(system + turns, model) <= budget and turns[0].get("role") == "user":
            return system + turns
        if len(turns) == 1:
            break
        turns = turns[1:]
    need = count_tokens(system + turns, model) if turns else count_tokens(system, model)
    raise ValueError(f"The system prompt and the last message alone take {need} tokens "
                     f"(model {model or 'o200k_base'}), over the budget of {budget}: raise the budget "
                     "or shorten them.")
