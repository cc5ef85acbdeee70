"""IFEval-style instruction following: instructions a program can verify ("answer in under 50 words",
"mention AI at least 3 times", "no commas"), checked in code, no judge needed.

IFEval (Zhou et al. 2023) has 541 prompts with 25 kinds of such instructions; the Open LLM
Leaderboard v2 reports its strict prompt-level accuracy (every instruction of a prompt followed).
The prompts below are ours, written for this course in IFEval's style (IFEval's own prompts ship in
no package); the checks are the same kinds.

>>> check("Robots help. AI helps. AI and ai!", {"type": "keyword_count", "keyword": "AI", "min": 3})
True
>>> check("one, two", {"type": "no_commas"})
False
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass


def _words(text: str) -> list[str]:
    return re.findall(r"[A-Za-z0-9']+", text)


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s.strip()]


def _json_ok(text: str) -> bool:
    body = re.sub(r"^```(?:json)?\s*|\s*```$", "", text.strip())
    try:
        json.loads(body)
        return True
    except ValueError:
        return False


def _count(n: int, spec: dict) -> bool:
    return spec.get("min", 0) <= n <= spec.get("max", 10**9)


CHECKS = {
    "word_count": lambda t, s: _count(len(_words(t)), s),
    "sentence_count": lambda t, s: _count(len(_sentences(t)), s),
    "keyword_count": lambda t, s: _count(len(re.findall(rf"\b{re.escape(s['keyword'])}\b", t, re.I)), s),
    "forbidden_words": lambda t, s: not any(re.search(rf"\b{re.escape(w)}\b", t, re.I) for w in s["words"]),
    "no_commas": lambda t, s: "," not in t,
    "lowercase": lambda t, s: t == t.lower() and any(c.isalpha() for c in t),
    "uppercase": lambda t, s: t == t.upper() and any(c.isalpha() for c in t),
    "ends_with": lambda t, s: t.strip().endswith(s["phrase"]),
    "starts_with": lambda t, s: t.strip().lower().startswith(s["phrase"].lower()),
    "bullet_count": lambda t, s: _count(len(re.findall(r"^\s*[*-]\s", t, re.M)), s),
    "paragraph_count": lambda t, s: _count(len([p for p in re.split(r"\n\s*\n", t.strip()) if p.strip()]), s),
    "title": lambda t, s: bool(re.search(r"<<[^<>\n]+>>", t)),
    "json": lambda t, s: _json_ok(t),
    "quoted": lambda t, s: len(t.strip()) > 1 and t.strip()[0] == '"' and t.strip()[-1] == '"',
}


def check(text: str, instruction: dict) -> bool:
    """Whether `text` follows one instruction, e.g. {"type": "word_count", "max": 50}."""
    kind = instruction.get("type")
    if kind not in CHECKS:
        raise ValueError(f"Unknown instruction type {kind!r}; known: {', '.join(sorted(CHECKS))}")
    return bool(CHECKS[kind](text, instruction))


# Written for this course in IFEval's style (not IFEval's own prompts).
PROMPTS = [
    {"prompt": "Describe the moon in at most 40 words.", "instructions": [{"type": "word_count", "max": 40}]},
    {"prompt": "Write a short note about AI. Mention the word AI at least 3 times.",
     "instructions": [{"type": "keyword_count", "keyword": "AI", "min": 3}]},
    {"prompt": "List three fruits as a markdown bullet list with exactly 3 bullets.",
     "instructions": [{"type": "bullet_count", "min": 3, "max": 3}]},
    {"prompt": "Explain what a robot is without using any commas.", "instructions": [{"type": "no_commas"}]},
    {"prompt": "Write one sentence about the sea, all in lowercase letters.",
     "instructions": [{"type": "lowercase"}]},
    {"prompt": "Say hello to the class in capital letters only.", "instructions": [{"type": "uppercase"}]},
    {"prompt": "Give a title wrapped in double angular brackets, like <<title>>, then one line about rain.",
     "instructions": [{"type": "title"}]},
    {"prompt": 'Reply with a JSON object with keys "name" and "age" for a made-up person.',
     "instructions": [{"type": "json"}]},
    {"prompt": "Describe a cat. End your reply with the exact phrase 'Is there anything else?'",
     "instructions": [{"type": "ends_with", "phrase": "Is there anything else?"}]},
    {"prompt": "Write two paragraphs about trains, separated by a blank line, without the word 'fast'.",
     "instructions": [{"type": "paragraph_count", "min": 2, "max": 2},
                      {"type": "forbidden_words", "words": ["fast"]}]},
]


@dataclass
class InstructionResult:
    """Strict prompt-level accuracy (all instructions followed) and instruction-level accuracy."""

    rows: list[dict]

    @property
    def prompt_level(self) -> float:
        return sum(all(r["followed"]) for r in self.rows) / len(self.rows)

    @property
    def instruction_level(self) -> float:
        flags = [f for r in self.rows for f in r["followed"]]
        return sum(flags) / len(flags)

    def __str__(self) -> str:
        return (f"{len(self.rows)} prompts: prompt-level {self.prompt_level:.0%}, "
                f"instruction-level {self.instruction_level:.0%}")


def score_replies(prompts: list[dict], replies: list[str]) -> InstructionResult:
    """Check each reply against its prompt's instructions."""
    if len(prompts) != len(replies):
        raise ValueError(f"{len(prompts)} prompts but {len(replies)} replies: give one reply per prompt")
    return InstructionResult([{"prompt": p["prompt"], "reply": r,
                               "followed": [check(r, i) for i in p["instructions"]]}
                              for p, r in zip(prompts, replies)])


def run_instructions(prompts: list[dict] | None = None, *, model: str | None = "local",
                     max_tokens: int = 120) -> InstructionResult:
    """Ask `model` every prompt (greedy) and check its replies (default: the course's `PROMPTS`)."""
    from ..chat import chat

    prompts = PROMPTS if prompts is None else prompts
    return score_replies(prompts, [chat(p["prompt"], model=model, temperature=0, max_tokens=max_tokens).text
                                   for p in prompts])
