"""A tiny SQLite calendar, and tools over it: the "take an action" kind of tool.

>>> from llmcourse.lessons.calendar import Calendar
>>> cal = Calendar(":memory:")
>>> cal.book("Budget review", "2026-12-03", "10:00", "Ana")["booked"]
True
>>> [m["title"] for m in cal.on("2026-12-03")]
['Budget review']

`calendar_tools(cal)` returns `book_meeting` and `list_meetings` as llmcourse Tools. Their
arguments are narrow on purpose (a date pattern, an HH:MM pattern): the schema does half the
work for a small model, and a booking with a malformed date cannot happen.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

DATE = r"^20[0-9]{2}-[01][0-9]-[0-3][0-9]$"
TIME = r"^[0-2][0-9]:[0-5][0-9]$"


class Calendar:
    """Meetings in a SQLite file (or ":memory:"). A slot (date, time) holds one meeting."""

    def __init__(self, path: str | Path = ":memory:"):
        self.path = str(path)
        self.db = sqlite3.connect(self.path, check_same_thread=False)
        self.db.execute("""CREATE TABLE IF NOT EXISTS meetings (id INTEGER PRIMARY KEY, title TEXT NOT NULL,
                           date TEXT NOT NULL, time TEXT NOT NULL, person TEXT NOT NULL,
                           UNIQUE(date, time))""")
        self.db.commit()

    def book(self, title: str, date: str, time: str, person: str) -> dict:
        """Insert a meeting; a taken slot or a malformed date/time is refused (booked: False)."""
        if not re.match(DATE, date) or not re.match(TIME, time):
            return {"booked": False, "reason": f"date must be YYYY-MM-DD and time HH:MM, got {date!r} {time!r}"}
        try:
            self.db.execute("INSERT INTO meetings (title, date, time, person) VALUES (?, ?, ?, ?)",
                            (title.strip() or "Meeting", date, time, person.strip()))
            self.db.commit()
        except sqlite3.IntegrityError:
            return {"booked": False, "reason": f"{date} {time} is already taken"}
        return {"booked": True, "title": title, "date": date, "time": time, "person": person}

    def on(self, date: str) -> list[dict]:
        return self._rows("WHERE date = ?", (date,))

    def all(self) -> list[dict]:
        return self._rows("", ())

    def _rows(self, where: str, args: tuple) -> list[dict]:
        cur = self.db.execute(f"SELECT title, date, time, person FROM meetings {where} ORDER BY date, time", args)
        return [dict(zip(("title", "date", "time", "person"), r)) for r in cur]

    def close(self) -> None:
        self.db.close()


def calendar_tools(cal: Calendar) -> list:
    """`book_meeting` and `list_meetings` over `cal`, as llmcourse Tools."""
    from ..tooldef import tool

    @tool
    def book_meeting(person: str, date: str,
                     time: str, title: str = "Meeting") -> dict:
        """Book a meeting in the calendar.

        Args:
            person: who the meeting is with
            date: the day, YYYY-MM-DD
            time: the start time, HH:MM (24 h)
            title: what the meeting is about
        """
        return cal.book(title, date, time, person)

    @tool
    def list_meetings(date: str) -> list:
        """List the meetings already booked on a day.

        Args:
            date: the day, YYYY-MM-DD
        """
        return cal.on(date)

    # typing.get_type_hints drops Annotated metadata, so set the patterns on the schema itself
    for t in (book_meeting, list_meetings):
        t.parameters["properties"]["date"]["pattern"] = DATE
    book_meeting.parameters["properties"]["time"]["pattern"] = TIME
    for t in (book_meeting, list_meetings):  # a short title, so a small model's reply always closes
        if "title" in t.parameters["properties"]:
            t.parameters["properties"]["title"]["maxLength"] = 40
    return [book_meeting, list_meetings]
