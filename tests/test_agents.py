"""The agent machinery (llmcourse.agents) and the calendar tool, with the real local model."""

import pytest

from llmcourse.agents import FINISH, Agent, Memory, words
from llmcourse.lessons.calendar import Calendar, calendar_tools


def test_memory_persists_in_a_file_and_recalls_by_shared_words(tmp_path):
    path = tmp_path / "mem.db"
    with Memory(path) as m:
        assert m.new_run() == 1
        m.add("Booked 'Budget' with Ana on 2026-12-03 at 10:00", goal="book Ana", run=1)
        m.add("The weather in Oslo is cold", goal="weather", run=1)
    with Memory(path) as m:  # a new connection: the notes outlived the first one
        assert len(m) == 2 and m.new_run() == 2
        assert m.recall("When is my meeting with Ana?") == ["Booked 'Budget' with Ana on 2026-12-03 at 10:00"]
        assert m.recall("nothing in common") == []
    assert "the" not in words("The meeting") and "meeting" in words("The meeting")


def test_calendar_books_refuses_taken_slots_and_bad_dates():
    cal = Calendar(":memory:")
    assert cal.book("Budget", "2026-12-03", "10:00", "Ana")["booked"]
    assert not cal.book("Other", "2026-12-03", "10:00", "Ben")["booked"]
    assert "YYYY-MM-DD" in cal.book("X", "tomorrow", "10:00", "Ben")["reason"]
    book, listing = calendar_tools(cal)
    assert book.parameters["properties"]["date"]["pattern"].startswith("^20")
    with pytest.raises(ValueError, match="date"):
        book.run({"person": "Ben", "date": "3 Dec", "time": "10:00"})
    assert listing.run({"date": "2026-12-03"})[0]["person"] == "Ana"


def test_agent_rejects_bad_settings():
    with pytest.raises(ValueError, match="max_steps"):
        Agent([], max_steps=0)


def test_agent_plans_acts_within_bounds_and_remembers_across_runs(tmp_path):
    cal = Calendar(tmp_path / "cal.db")
    tools = calendar_tools(cal)
    role = "You are a scheduling assistant. You book meetings in the user's calendar."
    agent = Agent(tools, memory_path=tmp_path / "mem.db", model="local", max_steps=2, role=role)
    trace = agent.run("Book a meeting with Ana on 2026-12-03 at 10:00.")
    kinds = [e.kind for e in trace.events]
    assert kinds[:2] == ["recall", "plan"] and kinds[-2:] == ["answer", "remember"]
    assert trace.recalled == [] and trace.run == 1 and trace.answer
    # the act stage runs exactly the planned tools, in order, up to the first "finish"
    planned = []
    for step in trace.plan:
        if step["tool"] == FINISH:
            break
        planned.append(step["tool"])
    assert [a["tool"] for a in trace.actions] == planned
    for a in trace.actions:  # every call's arguments matched the tool's schema, or the error is in the trace
        assert a["error"] is None or "invalid arguments" in a["error"]
    # what the tools did is really in the calendar: a reported booking is a row
    for a in trace.actions:
        if a["tool"] == "book_meeting" and (a["result"] or {}).get("booked"):
            assert any(e["person"] == a["arguments"]["person"] for e in cal.on(a["arguments"]["date"]))
    # remember stored one note per action plus the goal and answer
    assert len(agent.memory) == len(trace.actions) + 1
    # a second agent over the same memory file recalls what the first one did
    again = Agent(tools, memory_path=tmp_path / "mem.db", model="local", max_steps=1, role=role)
    notes = again.memory.recall("my meeting with Ana")
    assert notes and any("Ana" in n for n in notes) and again.memory.new_run() == 2
    assert "Ana" in trace._repr_markdown_()
