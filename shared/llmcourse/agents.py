"""A small agent: autonomous, goal-oriented, specific; it plans, acts with tools, remembers.

One run of `Agent.run(goal)`:
1. **recall**: past notes that share words with the goal, from a SQLite memory that outlives the run;
2. **plan**: a structured plan (a JSON schema: a list of steps, each one tool and a sub-task);
3. **act**: for each step, the tool's arguments as JSON that matches the tool's schema, then the call;
4. **answer**: one reply written from the goal, the recalled notes and the tool results;
5. **remember**: the answer and every tool result go into memory for the next run.

Every stage is recorded in the returned `Trace`. The number of tool calls is bounded by
`max_steps`: an agent that loops is a bill, not a feature.

>>> from llmcourse.agents import Agent, Memory
>>> from llmcourse.tools import tool
>>> @tool
... def add(a: float, b: float) -> float:
...     '''Add two numbers.'''
...     return a + b
>>> trace = Agent([add], model="local", max_steps=2).run("What is 2 + 3?")   # doctest: +SKIP
>>> len(trace.actions) <= 2                                                    # doctest: +SKIP
True

The plan and the arguments come from `chat(schema=...)`: constrained decoding on the local model
(always valid JSON), the provider's structured output on a frontier model. The mechanism is the same; the judgement of a
135M model is weak, so keep its tools few and their arguments narrow (enums, patterns).
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path

from .tooldef import Tool, as_tool

STOPWORDS = set("""a an and are as at be by can do does did for from had has have how i in is it its
me my of on or our please so that the their them then there these this to was we what when where which
who why will with you your about into just""".split())
FINISH = "answer"


def words(text: str) -> set[str]:
    """Lowercase content words of `text` (no stopwords, at least 2 characters)."""
    return {w for w in re.findall(r"[a-z0-9][a-z0-9\-:]+", text.lower()) if w not in STOPWORDS}


# -- memory ------------------------------------------------------------------------------------
class Memory:
    """Notes in a SQLite file: they survive the Python process, so a later run can recall them.

    >>> m = Memory(":memory:")
    >>> m.add("Ana's meeting is on Tuesday", goal="book with Ana")
    >>> m.recall("When is the meeting with Ana?")
    ["Ana's meeting is on Tuesday"]
    """

    def __init__(self, path: str | Path = ":memory:"):
        self.path = str(path)
        self.db = sqlite3.connect(self.path, check_same_thread=False)
        self.db.execute("""CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, run INTEGER NOT NULL,
                           created TEXT NOT NULL, goal TEXT NOT NULL, text TEXT NOT NULL)""")
        self.db.commit()

    def new_run(self) -> int:
        """The number of the next run (1 for a fresh memory)."""
        return (self.db.execute("SELECT MAX(run) FROM notes").fetchone()[0] or 0) + 1

    def add(self, text: str, *, goal: str = "", run: int | None = None) -> None:
        run = self.new_run() if run is None else run
        self.db.execute("INSERT INTO notes (run, created, goal, text) VALUES (?, ?, ?, ?)",
                        (run, time.strftime("%Y-%m-%d %H:%M:%S"), goal, text))
        self.db.commit()

    def recall(self, query: str, k: int = 3) -> list[str]:
        """The `k` notes sharing the most content words with `query` (ties: newest first)."""
        q = words(query)
        scored = []
        for nid, goal, text in self.db.execute("SELECT id, goal, text FROM notes"):
            score = len(q & words(f"{goal} {text}"))
            if score:
                scored.append((score, nid, text))
        return [text for _, _, text in sorted(scored, reverse=True)[:k]]

    def notes(self) -> list[dict]:
        cur = self.db.execute("SELECT run, created, goal, text FROM notes ORDER BY id")
        return [dict(zip(("run", "created", "goal", "text"), row)) for row in cur]

    def __len__(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM notes").fetchone()[0]

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> "Memory":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# -- the trace ---------------------------------------------------------------------------------
@dataclass
class Event:
    """One thing the agent did: `kind` is recall, plan, act, answer or remember."""

    kind: str
    detail: dict
    seconds: float = 0.0


@dataclass
class Trace:
    """What a run did, in order: `events`, the final `answer`, and the tool calls (`actions`)."""

    goal: str
    events: list[Event] = field(default_factory=list)
    answer: str = ""
    run: int = 0

    @property
    def actions(self) -> list[dict]:
        return [e.detail for e in self.events if e.kind == "act"]

    @property
    def plan(self) -> list[dict]:
        return next((e.detail["steps"] for e in self.events if e.kind == "plan"), [])

    @property
    def recalled(self) -> list[str]:
        return next((e.detail["notes"] for e in self.events if e.kind == "recall"), [])

    def _repr_markdown_(self) -> str:
        rows = [f"**Goal** (run {self.run}): {self.goal}", "", "| # | stage | detail | s |", "|---|---|---|---|"]
        for i, e in enumerate(self.events, 1):
            detail = json.dumps(e.detail, default=str)[:160].replace("|", "\\|")
            rows.append(f"| {i} | {e.kind} | `{detail}` | {e.seconds:.1f} |")
        return "\n".join(rows + ["", f"**Answer:** {self.answer}"])


# -- the agent ---------------------------------------------------------------------------------
def ask_json(messages: list[dict], schema: dict, *, model: str | None = None):
    """JSON matching `schema` from `model` (`chat(schema=)`: constrained decoding on the local model)."""
    from .chat import chat

    return chat(messages, model=model, schema=schema).parsed


class Agent:
    """A bounded plan-act-answer agent over `tools`, with a SQLite `memory_path` (":memory:" to forget).

    `role` says what the agent is for: a specific agent (one job, a few narrow tools) is easier
    for any model, and the only kind a small local model can run.
    """

    def __init__(self, tools: list, *, memory_path: str | Path = ":memory:", model: str | None = None,
                 max_steps: int = 3, role: str = "You are a helpful assistant that uses tools."):
        if max_steps < 1:
            raise ValueError("max_steps must be at least 1")
        self.tools: dict[str, Tool] = {t.name: t for t in map(as_tool, tools)}
        if FINISH in self.tools:
            raise ValueError(f"A tool may not be called {FINISH!r}: the plan uses it to say 'done'.")
        self.memory = memory_path if isinstance(memory_path, Memory) else Memory(memory_path)
        self.model, self.max_steps, self.role = model, max_steps, role

    # the stages, each a method so a subclass (or an exercise) can change one -------------------
    def plan_schema(self) -> dict:
        return {"type": "object", "required": ["steps"], "properties": {"steps": {
            "type": "array", "minItems": 1, "maxItems": self.max_steps, "items": {
                "type": "object", "required": ["tool", "task"], "properties": {
                    "tool": {"enum": [*self.tools, FINISH]},
                    "task": {"type": "string", "maxLength": 48}}}}}}

    def tool_list(self) -> str:
        return "\n".join(f"- {t.signature()}: {t.description}" for t in self.tools.values())

    def make_plan(self, goal: str, notes: list[str]) -> list[dict]:
        memory = "".join(f"\n- {n}" for n in notes) or " nothing yet"
        system = (f"{self.role}\nTools:\n{self.tool_list()}\n- {FINISH}: stop and answer.\n"
                  f"You remember:{memory}\nPlan the steps to reach the goal: one tool per step.")
        plan = ask_json([{"role": "system", "content": system}, {"role": "user", "content": goal}],
                        self.plan_schema(), model=self.model)
        return [dict(s) for s in plan["steps"]]

    def make_arguments(self, tool: Tool, task: str, goal: str, observations: list[str]) -> dict:
        seen = "".join(f"\n- {o}" for o in observations) or " nothing yet"
        system = (f"{self.role}\nYou call {tool.signature()}: {tool.description}\n"
                  f"Results so far:{seen}\nReply with the arguments as JSON.")
        user = f"Goal: {goal}\nThis step: {task}"
        schema = tool.parameters if tool.parameters.get("properties") else None
        if schema is None:
            return {}
        return dict(ask_json([{"role": "system", "content": system}, {"role": "user", "content": user}],
                             schema, model=self.model))

    def make_answer(self, goal: str, notes: list[str], observations: list[str]) -> str:
        from .chat import chat

        facts = "".join(f"\n- {x}" for x in notes + observations) or "\n- (none)"
        user = f"Facts:{facts}\n\nUsing only these facts, reply to: {goal}"  # small models heed the user turn
        return chat(user, model=self.model, system=self.role, max_tokens=80).text.strip()

    # the loop ----------------------------------------------------------------------------------
    def run(self, goal: str) -> Trace:
        """Recall, plan, act (at most `max_steps` tool calls), answer, remember. Returns the Trace."""
        run = self.memory.new_run()
        trace = Trace(goal=goal, run=run)

        def timed(kind, fn):
            t0 = time.perf_counter()
            detail = fn()
            trace.events.append(Event(kind, detail, time.perf_counter() - t0))
            return detail

        notes = timed("recall", lambda: {"notes": self.memory.recall(goal)})["notes"]
        steps = timed("plan", lambda: {"steps": self.make_plan(goal, notes)})["steps"]
        observations: list[str] = []
        for step in steps[:self.max_steps]:
            if step["tool"] == FINISH:
                break
            tool = self.tools[step["tool"]]

            def act():
                detail = {"tool": tool.name, "task": step["task"], "arguments": {}, "result": None, "error": None}
                try:
                    detail["arguments"] = self.make_arguments(tool, step["task"], goal, observations)
                    detail["result"] = tool.run(detail["arguments"])
                except Exception as exc:  # reported in the trace and to the answer, never raised
                    detail["error"] = f"{type(exc).__name__}: {exc}"
                return detail

            d = timed("act", act)
            outcome = f"error {d['error']}" if d["error"] else json.dumps(d["result"], default=str)
            observations.append(f"{d['tool']}({json.dumps(d['arguments'])}) -> {outcome}")
        trace.answer = timed("answer", lambda: {"text": self.make_answer(goal, notes, observations)})["text"]

        def remember():
            for o in observations:
                self.memory.add(o, goal=goal, run=run)
            self.memory.add(f"Goal: {goal} Answer: {trace.answer}", goal=goal, run=run)
            return {"saved": len(observations) + 1, "total": len(self.memory)}

        timed("remember", remember)
        return trace
