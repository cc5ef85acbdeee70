"""The local model's repetition guard: greedy decoding of a 135M model falls into loops ("The company will
not pay a pension..." nine times), so for free text the local provider (1) penalises tokens the reply has
already used, but not the prompt's (a RAG answer must be free to quote its context), and (2) stops at the
first line or sentence that repeats an earlier one, without ever showing the repeat, streamed or not.
Both are deterministic, so greedy replies stay reproducible. `chat(..., repetition_guard=False)` turns it off.

Measured with `python benchmarks/rag.py --answers` (30 RAG questions + 20 chat prompts, greedy, 160 tokens,
2026-12-02): see REPETITION_PENALTY below and the figures in that script's docstring.

>>> cut_repeat("1. Pay is monthly on the 25th.\\n2. Pay is monthly on the 25th.\\n3. Pay")
'1. Pay is monthly on the 25th.'
>>> guard = RepeatGuard()
>>> [guard.feed(c) for c in ["The T1 carries 60 kg. ", "The T1 carries ", "60 kg. More"]] + [guard.finish()]
['The T1 carries 60 kg. ', '', '', '']
>>> guard.stopped
True
"""

from __future__ import annotations

import re

MIN_WORDS = 4   # shorter lines ("Thank you.", "Step 1:") may repeat freely
REPETITION_PENALTY = 1.2  # on the reply's own tokens; see the module docstring for the measurement
_ITEM = re.compile(r"^\s*(?:[-*•#>]+|\d+[.)]|\*\*)\s*")
_SEGMENT = re.compile(r"[^.!?\n]+(?:[.!?]+|\n|$)")
_DONE = re.compile(r"(?:[.!?][\"')\]*]*|\n)\s*$")


def segments(text: str, *, complete_only: bool = False) -> list[tuple[int, list[str]]]:
    """The lines and sentences of `text`, as (start offset, lowercase words), list markers ignored.
    complete_only: leave out the last one unless it has ended (a full stop or a newline)."""
    out, pos = [], 0
    for line in text.splitlines(keepends=True):
        marker = _ITEM.match(line)
        body = marker.end() if marker and marker.end() < len(line.rstrip("\n")) else 0
        for m in _SEGMENT.finditer(line, body):
            words = re.findall(r"\w+", m.group(0).lower())
            done = m.end() < len(line) or bool(_DONE.search(m.group(0)))
            if words and (done or not complete_only):
                out.append((pos + (m.start() if m.start() > body else 0), words))  # a list item starts at its number
        pos += len(line)
    return out


def first_repeat(text: str, *, complete_only: bool = False, similarity: float = 1.0) -> int | None:
    """Where the first line or sentence (4+ words) that repeats an earlier one starts; None if none does.
    similarity < 1 also counts near-duplicates (difflib ratio over the words)."""
    seen: list[list[str]] = []
    for start, words in segments(text, complete_only=complete_only):
        if len(words) < MIN_WORDS:
            continue
        if words in seen or (similarity < 1 and _near(words, seen, similarity)):
            return start
        seen.append(words)
    return None


def _near(words: list[str], seen: list[list[str]], similarity: float) -> bool:
    import difflib

    return any(difflib.SequenceMatcher(None, words, w).ratio() >= similarity for w in seen)


def cut_repeat(text: str) -> str:
    """`text` up to its first repeated line or sentence (and that line's list number), or all of it."""
    at = first_repeat(text)
    return text if at is None else re.sub(r"\s*(?:\d+[.)]|[-*•])?\s*$", "", text[:at]).rstrip()


class RepeatGuard:
    """Filter a stream of text chunks: `feed(chunk)` returns the text safe to show now, `finish()` the rest.

    An unfinished line that starts like an earlier one is held back until it either turns out different
    (then shown) or ends as a repeat (then dropped, and `stopped` becomes True: stop generating)."""

    def __init__(self):
        self.text, self.shown, self.stopped = "", 0, False

    def feed(self, chunk: str) -> str:
        if self.stopped:
            return ""
        self.text += chunk
        at = first_repeat(self.text, complete_only=True)
        if at is not None:
            self.stopped = True
            return self._release(len(cut_repeat(self.text)))
        return self._release(self._safe_end())

    def finish(self) -> str:
        """The held-back rest at the end of the stream (dropped if it is a repeat)."""
        if self.stopped:
            return ""
        return self._release(len(cut_repeat(self.text)))

    def _safe_end(self) -> int:
        """The end of the text that cannot be part of a repeat: the start of an unfinished last line whose
        words so far begin an earlier line's words, else the end of the text."""
        line_start = self.text.rfind("\n") + 1
        if not re.search(r"\w", _ITEM.sub("", self.text[line_start:])) or \
                re.fullmatch(r"\s*\d+", self.text[line_start:]):
            return line_start  # a new line with only a list marker so far: wait for its words
        segs = segments(self.text)
        if not segs or not segs[-1][1] or segments(self.text, complete_only=True)[-1:] == segs[-1:]:
            return len(self.text)
        start, partial = segs[-1]
        head, last = partial[:-1], partial[-1]
        for _, words in segs[:-1]:
            if len(words) >= MIN_WORDS and len(words) >= len(partial) and words[:len(head)] == head \
                    and words[len(head)].startswith(last):
                return start
        return len(self.text)

    def _release(self, end: int) -> str:
        out = self.text[self.shown:end] if end > self.shown else ""
        self.shown = max(self.shown, end)
        return out


def penalty_processor(prompt_tokens: int, penalty: float = REPETITION_PENALTY):
    """A logits processor that divides the scores of tokens the reply has already used by `penalty`; the
    first `prompt_tokens` tokens (the prompt) are not counted."""
    from transformers import RepetitionPenaltyLogitsProcessor

    return RepetitionPenaltyLogitsProcessor(penalty, prompt_ignore_length=prompt_tokens)


def without_repeats(chunks):
    """Pass a stream of text chunks on up to the first repeated line or sentence, then close the stream
    (which stops the generation behind it)."""
    guard = RepeatGuard()
    try:
        for chunk in chunks:
            out = guard.feed(chunk)
            if out:
                yield out
            if guard.stopped:
                return
        rest = guard.finish()
        if rest:
            yield rest
    finally:
        close = getattr(chunks, "close", None)
        if close:
            close()
