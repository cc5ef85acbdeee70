"""Benchmark items and the ways to ask a model about them.

An `Item` is one question: multiple choice (`choices` and the index of the right one in `answer`)
or generative (`choices` is None and `answer` is the reference text, e.g. "72" for GSM8K).

Three formulations, the cause of many "inconsistent" leaderboard numbers:
- **cloze** (log-likelihood): "Question: ...\\nAnswer:" followed by each choice's *text*; the most
  likely text wins. Works for small base models that cannot yet follow a format.
- **letter** (log-likelihood): the choices are listed as A-D in the prompt and the continuations
  are " A", " B", ...; the model must map text to letter, which small models do at chance.
- **generate**: the model writes an answer and we parse it (a letter, or a final number). The only
  way for API models, which do not return prompt log-probabilities.

>>> item = Item("What is 2 + 2?", ["3", "4", "5", "22"], 1)
>>> print(letter_prompt(item))
Question: What is 2 + 2?
A. 3
B. 4
C. 5
D. 22
Answer:
>>> parse_letter("The answer is (B).", 4), parse_number("So she has 1,234.5 apples left.")
(1, '1234.5')
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

LETTERS = "ABCDEFGHIJ"


@dataclass
class Item:
    """One benchmark question. `answer`: index into `choices`, or the reference text (generative)."""

    question: str
    choices: list[str] | None
    answer: int | str
    subject: str = ""
    id: str = ""
    meta: dict = field(default_factory=dict, repr=False)

    @property
    def is_multiple_choice(self) -> bool:
        return self.choices is not None

    @property
    def reference(self) -> str:
        """The right answer as text."""
        return self.choices[self.answer] if self.choices is not None else str(self.answer)


def cloze_prompt(item: Item) -> str:
    return f"Question: {item.question}\nAnswer:"


def cloze_continuations(item: Item) -> list[str]:
    return [f" {c}" for c in item.choices]


def letter_prompt(item: Item) -> str:
    lines = [f"{LETTERS[i]}. {c}" for i, c in enumerate(item.choices)]
    return f"Question: {item.question}\n" + "\n".join(lines) + "\nAnswer:"


def letter_continuations(item: Item) -> list[str]:
    return [f" {LETTERS[i]}" for i in range(len(item.choices))]


def generate_prompt(item: Item) -> str:
    """The instruction an API (chat) model gets."""
    if item.is_multiple_choice:
        letters = LETTERS[:len(item.choices)]
        return (letter_prompt(item)[:-len("Answer:")] +
                f"Reply with the letter of the right answer ({', '.join(letters)}) only.")
    return (f"{item.question}\nThink step by step, then give the final answer on the last line as "
            f"'Answer: <number or short answer>'.")


def parse_letter(text: str, n_choices: int) -> int | None:
    """The index of the first standalone choice letter in a reply ("B", "(B)", "Answer: B"), or None."""
    letters = LETTERS[:n_choices]
    m = re.search(rf"answer\s*(?:is)?\s*[:\-]?\s*\(?([{letters}])\b", text, re.I) or \
        re.search(rf"(?<![A-Za-z])\(?([{letters}])\)?(?![A-Za-z])", text)
    return letters.index(m.group(1).upper()) if m else None


def parse_number(text: str) -> str | None:
    """The final answer's number: after "Answer:" if present, else the last number in the text."""
    tail = re.split(r"answer\s*[:\-]", text, flags=re.I)[-1]
    nums = re.findall(r"-?\d[\d,]*(?:\.\d+)?", tail) or re.findall(r"-?\d[\d,]*(?:\.\d+)?", text)
    if not nums:
        return None
    n = nums[-1].replace(",", "").rstrip(".")
    return n.rstrip("0").rstrip(".") if "." in n else n


def parse_short(text: str) -> str:
    """The text after a final "Answer:", stripped and lower-cased (for short free-text answers)."""
    tail = re.split(r"answer\s*[:\-]", text, flags=re.I)[-1]
    return tail.strip().strip(".").strip().lower()
