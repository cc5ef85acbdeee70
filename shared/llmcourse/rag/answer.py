"""Answer a question from retrieved chunks, with any model, citing the sources.

The prompt numbers each retrieved chunk as a context block with its source, and asks the model
to answer from them only, cite blocks like [1], and say so when the answer is not there.

>>> kb = KnowledgeBase(tmp); kb.ingest("week5_rag/knowledge-base")       # doctest: +SKIP
>>> ans = kb.answer("What is the payload of the Tern T1?", model="local")  # doctest: +SKIP
>>> print(ans.with_sources())                                             # doctest: +SKIP
The Tern T1 carries up to 60 kg [1].
Sources: [1] products/tern-t1.md
>>> streamed = kb.answer("What is the payload of the Tern T1?", stream=True)  # doctest: +SKIP
>>> streamed.sources            # known before the first token                  # doctest: +SKIP
['products/tern-t1.md', ...]
>>> for chunk in streamed: print(chunk, end="")                            # doctest: +SKIP

`build_prompt` is plain string work, so it shows the exact prompt:

>>> from llmcourse.rag.retrieve import Hit
>>> print(build_prompt("How heavy is it?", [Hit("a#0:x", "Weight: 48 kg", "products/tern-t1.md", 0.8)]))
Context:
[1] (source: products/tern-t1.md)
Weight: 48 kg
<BLANKLINE>
Question: How heavy is it?
"""

from __future__ import annotations

import re
from typing import Iterator

from .retrieve import Hit

SYSTEM = ("You answer questions about the company using only the numbered context blocks. "
          "Cite the blocks you used like [1]. If the context does not contain the answer, "
          "say that you don't know.")


def build_prompt(question: str, hits: list[Hit]) -> str:
    """The user message: numbered context blocks with their sources, then the question."""
    blocks = "\n\n".join(f"[{i}] (source: {h.source})\n{h.text}" for i, h in enumerate(hits, 1))
    return f"Context:\n{blocks or '(nothing relevant was found)'}\n\nQuestion: {question}"


class Answer:
    """An answer: `text`, `hits` (the retrieved chunks), `sources`, `cited` (sources cited as [n]).

    With `stream=True` iterate it for text chunks; `hits` and `sources` are there from the start.
    `str(answer)` is the text; `with_sources()` adds a "Sources:" line.
    """

    def __init__(self, question: str, hits: list[Hit], reply, prompt: str):
        self.question, self.hits, self.reply, self.prompt = question, hits, reply, prompt

    def __iter__(self) -> Iterator[str]:
        yield from self.reply

    @property
    def text(self) -> str:
        return self.reply.text

    @property
    def sources(self) -> list[str]:
        """The distinct sources of the retrieved chunks, best first."""
        return list(dict.fromkeys(h.source for h in self.hits))

    @property
    def cited(self) -> list[str]:
        """The sources the answer cites with [n]; the retrieved ones if it cites none."""
        nums = [int(n) for n in re.findall(r"\[(\d+)\]", self.text)]
        cited = [self.hits[n - 1].source for n in nums if 1 <= n <= len(self.hits)]
        return list(dict.fromkeys(cited)) or self.sources

    def with_sources(self) -> str:
        """The answer followed by the sources it rests on."""
        first = {}  # source -> the number of its first block
        for i, h in enumerate(self.hits, 1):
            first.setdefault(h.source, i)
        refs = ", ".join(f"[{first[s]}] {s}" for s in self.cited)
        return f"{self.text.strip()}\nSources: {refs or '(none found)'}"

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"<Answer from {len(self.hits)} chunks ({', '.join(self.sources)}): {self.reply!r}>"

    def _repr_markdown_(self) -> str:
        return self.with_sources().replace("\nSources:", "\n\n**Sources:**")


def answer(kb, question: str, *, model: str | None = "local", k: int = 4, stream: bool = False,
           threshold: float | None = None, mmr: bool = False, rewrite: str | None = None,
           system: str = SYSTEM, temperature: float | None = None, max_tokens: int | None = 256) -> Answer:
    """Retrieve `k` chunks from `kb`, then answer `question` with `model` through `llmcourse.chat`."""
    from ..chat import chat

    hits = kb.search(question, k=k, threshold=threshold, mmr=mmr, rewrite=rewrite)
    prompt = build_prompt(question, hits)
    reply = chat(prompt, model=model, system=system, temperature=temperature, max_tokens=max_tokens,
                 stream=stream)
    return Answer(question, hits, reply, prompt)
