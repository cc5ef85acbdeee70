"""Meeting minutes from a transcript as structured output: a summary, the decisions, the action items.

With the local model, `chat(..., schema=Minutes)` decodes under the schema's grammar, so the reply is
always valid `Minutes`; what goes into the fields is only as good as the model (SmolLM2-135M: rough).
"""

from __future__ import annotations

from pydantic import BaseModel, Field


class ActionItem(BaseModel):
    owner: str = Field(description="who will do it (a name from the meeting)", max_length=30)
    task: str = Field(description="what they will do", max_length=120)
    due: str = Field(description="when, as said in the meeting, or 'not set'", max_length=30)


class Minutes(BaseModel):
    summary: str = Field(description="two sentences on what the meeting was about", max_length=300)
    decisions: list[str] = Field(description="what was decided", max_length=5)
    action_items: list[ActionItem] = Field(description="who does what by when", max_length=6)

    def markdown(self) -> str:
        """The minutes as Markdown: summary, decisions, a table of action items."""
        lines = ["**Summary.** " + self.summary, "", "**Decisions**"]
        lines += [f"- {d}" for d in self.decisions] or ["- (none)"]
        lines += ["", "| Owner | Task | Due |", "|---|---|---|"]
        lines += [f"| {a.owner} | {a.task} | {a.due} |" for a in self.action_items]
        return "\n".join(lines)


SYSTEM = ("You write meeting minutes. Read the transcript and fill in the fields. Use only what was said: "
          "names, dates and tasks exactly as they appear in the transcript.")


def meeting_minutes(transcript, *, model: str | None = None, max_tokens: int | None = None, temperature: float = 0.0):
    """`chat()` with `schema=Minutes` over `transcript` (text or a Transcript). Returns the Reply:
    `.parsed` is a `Minutes`, and `.model`, `.cost`, `.latency` say who wrote it at what price."""
    from ..chat import chat

    text = getattr(transcript, "text", transcript)
    if not str(text).strip():
        raise ValueError("The transcript is empty: transcribe some speech first (was the audio silent?).")
    return chat(f"Transcript:\n{text}\n\nWrite the minutes.", model=model, system=SYSTEM, schema=Minutes,
                temperature=temperature, max_tokens=max_tokens)
