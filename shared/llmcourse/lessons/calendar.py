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
import threading
from datetime import datetime
from pathlib import Path

DATE = r"^20[0-9]{2}-[01][0-9]-[0-3][0-9]$"
TIME = r"^[0-2][0-9]:[0-5][0-9]$"


def check_slot(date: str, time: str) -> str | None:
    """Why `date` (YYYY-MM-DD) and `time` (HH:MM, 24 h) are not a real slot, or None if they are.

    The whole string must match (no trailing line break) and `datetime` must accept it, so
    2026-02-30, 2026-13-01, 24:00 and 12:60 are refused, and 2028-02-29 is fine.
    """
    if not isinstance(date, str) or not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", date):
        return f"date must be YYYY-MM-DD, got {date!r}"
    if not isinstance(time, str) or not re.fullmatch(r"[0-9]{2}:[0-9]{2}", time):
        return f"time must be HH:MM (24 h), got {time!r}"
    try:
        datetime.strptime(date, "%Y-%m-%d")
    except ValueError:
        return f"{date} is not a day in the calendar"
    try:
        datetime.strptime(time, "%H:%M")
    except ValueError:
        return f"{time} is not a time of day (00:00 to 23:59)"
    return None


class Calendar:
    """Meetings in a SQLite file (or ":memory:"). A slot (date, time) holds one meeting.

    One connection, used under a lock, so tools may run in several threads (an agent's tool
    timeout, a Gradio app) without corrupting it.
    """

    def __init__(self, path: str | Path = ":memory:"):
        self.path = str(path)
        self._lock = threading.Lock()
        self.db = sqlite3.connect(self.path, check_same_thread=False)
        self.db.execute("""CREATE TABLE IF NOT EXISTS meetings (id INTEGER PRIMARY KEY, title TEXT NOT NULL,
                           date TEXT NOT NULL, time TEXT NOT NULL, person TEXT NOT NULL,
                           UNIQUE(date, time))""")
        self.db.commit()

    def book(self, title: str, date: str, time: str, person: str) -> dict:
        """Insert a meeting; a taken slot or an impossible date/time is refused (booked: False)."""
        why = check_slot(date, time)
        if why:
            return {"booked": False, "reason": why}
        try:
            with self._lock:
                with self.db:  # a transaction: committed, or rolled back on error
                    self.db.execute("INSERT INTO meetings (title, date, time, person) VALUES (?, ?, ?, ?)",
                                    (str(title).strip() or "Meeting", date, time, str(person).strip()))
        except sqlite3.IntegrityError:
            return {"booked": False, "reason": f"{date} {time} is already taken"}
        return {"booked": True, "title": title, "date": date, "time": time, "person": person}

    def on(self, date: str) -> list[dict]:
        return self._rows("WHERE date = ?", (date,))

    def all(self) -> list[dict]:
        return self._rows("", ())

    def _rows(self, where: str, args: tuple) -> list[dict]:
        with self._lock:
            rows = self.db.execute(f"SELECT title, date, time, person FROM meetings {where} ORDER BY date, time",
                                   args).fetchall()
        return [dict(zip(("title", "date", "time", "person"), r)) for r in rows]

    def close(self) -> None:
        with self._lock:
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
