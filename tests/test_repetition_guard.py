"""The local model's repetition guard (issue 17): a repeated line or sentence is never shown, streamed or
not; the penalty counts only the reply's own tokens; greedy stays deterministic. Figures before/after on the
RAG questions and chat prompts: `python benchmarks/rag.py --answers`."""

import random

import pytest

from llmcourse import chat
from llmcourse.providers.local.repeats import RepeatGuard, cut_repeat, first_repeat

LOOP = ("The leave policy gives 25 days.\n1. The company will not pay a pension to employees.\n"
        "2. The company will not pay a pension to employees.\n3. The company will not")
FINE = "Paris is the capital of France. It is large.\nThe capital of France is Paris, a big city"
POEM = "Write a short poem about the sea."  # greedy SmolLM2 loops here: a line repeats within ~60 tokens


def pieces(text: str, seed: int) -> list[str]:
    rnd, out, i = random.Random(seed), [], 0
    while i < len(text):
        n = rnd.randint(1, 7)
        out.append(text[i:i + n])
        i += n
    return out


def shown(text: str, seed: int) -> tuple[str, bool]:
    guard = RepeatGuard()
    return "".join(guard.feed(p) for p in pieces(text, seed)) + guard.finish(), guard.stopped


def test_first_repeat_ignores_list_numbers_and_short_lines():
    assert LOOP[first_repeat(LOOP):].startswith("2. The company")
    assert first_repeat("Thank you.\nThank you.\nStep one: mix.") is None  # under 4 words
    assert first_repeat(FINE) is None
    assert first_repeat("A world of endless blue, said she.\nA world of endless blue, said he.", similarity=0.8) == 35


@pytest.mark.parametrize("seed", range(30))
def test_a_repeat_is_never_shown_however_the_stream_is_cut(seed):
    text, stopped = shown(LOOP, seed)
    assert stopped and text.rstrip() == cut_repeat(LOOP)
    assert cut_repeat(LOOP).endswith("1. The company will not pay a pension to employees.")
    assert shown(FINE, seed) == (FINE, False)  # nothing held back for good


def test_a_line_that_only_starts_like_an_earlier_one_is_shown_once_it_differs():
    guard = RepeatGuard()
    assert guard.feed("We ship robots to Europe. ") == "We ship robots to Europe. "
    assert guard.feed("We ship robots") == ""
    assert guard.feed(" to Asia too.") == "We ship robots to Asia too."
    assert not guard.stopped


def test_the_local_model_no_longer_loops_and_the_guard_can_be_switched_off():
    guarded = chat(POEM, model="local", max_tokens=100)
    raw = chat(POEM, model="local", max_tokens=100, repetition_guard=False)
    assert first_repeat(raw.text) is not None  # what greedy decoding does on its own
    assert first_repeat(guarded.text) is None and len(guarded.text.split()) >= 15
    streamed = chat(POEM, model="local", max_tokens=100, stream=True)
    assert "".join(streamed) == guarded.text  # greedy, streamed or not: the same text
    assert guarded.text == chat(POEM, model="local", max_tokens=100).text
