"""Meeting minutes from a transcript as structured output: a summary, the decisions, the action items.

With the local model, `chat(..., schema=...)` decodes under the schema's grammar, so the reply is
always valid minutes, and with `speakers=` every owner is one of the people in the meeting; what goes
into the fields is only as good as the model (SmolLM2-135M: rough; a frontier model: good).
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, Field, create_model


class ActionItem(BaseModel):
    owner: str = Field(description="who will do it (a name from the meeting)", max_length=30)
    task: str = Field(description="what they will do", max_length=50)
    due: str = Field(description="when, as said in the meeting, or 'not set'", max_length=20)


class Minutes(BaseModel):
    # short caps on purpose: the local model writes until a cap, and every character costs time
    summary: str = Field(description="one sentence on what the meeting was about", max_length=120)
    decisions: list[Annotated[str, Field(max_length=60)]] = Field(description="what was decided", max_length=2)
    action_items: list[ActionItem] = Field(description="who does what by when", max_length=4)

    def markdown(self) -> str:
        """The minutes as Markdown: summary, decisions, a table of action items."""
        lines = ["**Summary.** " + self.summary, "", "**Decisions**"]
        lines += [f"- {d}" for d in self.decisions] or ["- (none)"]
        lines += ["", "| Owner | Task | Due |", "|---|---|---|"]
        lines += [f"| {a.owner} | {a.task} | {a.due} |" for a in self.action_items]
        return "\n".join(lines)


def minutes_schema(speakers=None) -> type[Minutes]:
    """`Minutes`, or a subclass whose action-item owners must be one of `speakers` (an enum)."""
    if not speakers:
        return Minutes
    owner = Literal[tuple(speakers)]  # type: ignore[valid-type]
    item = create_model("ActionItem", __base__=ActionItem,
                        owner=(owner, Field(description="who will do it")))
    return create_model("Minutes", __base__=Minutes,
                        action_items=(list[item], Field(description="who does what by when", max_length=4)))


SYSTEM = ("You write meeting minutes. Read the transcript and fill in the fields. Use only what was said: "
          "names, dates and tasks exactly as they appear in the transcript.")


def meeting_minutes(transcript, *, speakers=None, model: str | None = None, max_tokens: int | None = None,
                    temperature: float = 0.0):
    """`chat()` with the minutes schema over `transcript` (text, `Speaker: text` lines, or a Transcript).
    Returns the Reply: `.parsed` is a `Minutes`; `.model`, `.cost`, `.latency` say who wrote it at what price."""
    from ..chat import chat

    text = getattr(transcript, "text", transcript)
    if not str(text).strip():
        raise ValueError("The transcript is empty: transcribe some speech first (was the audio silent?).")
    return chat(f"Transcript:\n{text}\n\nWrite the minutes.", model=model, system=SYSTEM,
                schema=minutes_schema(speakers), temperature=temperature, max_tokens=max_tokens)


def action_item_recall(found: list, expected: list[tuple[str, str]]) -> float:
    """Share of `expected` (owner, key word) pairs that some found action item matches: same owner,
    and the key word in its task. A rough, transparent score for comparing models."""
    def hit(owner, word):
        return any(a.owner.lower() == owner.lower() and re.search(rf"\b{re.escape(word)}", a.task, re.I) for a in found)

    return sum(hit(o, w) for o, w in expected) / len(expected) if expected else 0.0
