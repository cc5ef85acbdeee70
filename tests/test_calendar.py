"""The agent lesson's calendar (issue 9.7): impossible dates and times are refused, two threads are safe."""

import threading

import pytest

from llmcourse.lessons.calendar import Calendar, calendar_tools, check_slot


@pytest.mark.parametrize("date, time", [
    ("2026-02-30", "10:00"), ("2026-13-01", "10:00"), ("2026-12-32", "10:00"), ("2027-02-29", "10:00"),
    ("2026-00-10", "10:00"), ("2026-1-3", "10:00"), ("2026-12-03\n", "10:00"), (" 2026-12-03", "10:00"),
    ("2026-12-03", "24:00"), ("2026-12-03", "12:60"), ("2026-12-03", "9:00"), ("2026-12-03", "10:00\n"),
    ("2026-12-03", "29:59"), ("2026-12-03", "10:00:00"), (20261203, "10:00"),
])
def test_impossible_slots_are_refused_and_nothing_is_written(date, time):
    cal = Calendar(":memory:")
    result = cal.book("Review", date, time, "Ana")
    assert result["booked"] is False and result["reason"]
    assert cal.all() == []


@pytest.mark.parametrize("date, time", [("2028-02-29", "00:00"), ("2026-12-31", "23:59"), ("2026-01-01", "09:05")])
def test_real_slots_are_booked(date, time):
    cal = Calendar(":memory:")
    assert cal.book("Review", date, time, "Ana")["booked"] and check_slot(date, time) is None
    assert cal.on(date)[0]["time"] == time


def test_the_tool_refuses_an_impossible_date_too():
    cal = Calendar(":memory:")
    book = next(t for t in calendar_tools(cal) if t.name == "book_meeting")
    assert book.fn(person="Ana", date="2026-02-31", time="10:00")["booked"] is False
    assert cal.all() == []


def test_two_threads_cannot_double_book_and_lose_nothing(tmp_path):
    cal = Calendar(tmp_path / "cal.db")
    results, errors = [], []

    def worker(n):
        try:
            results.append(cal.book(f"race {n}", "2026-12-03", "10:00", "Ana"))  # everyone wants one slot
            for minute in range(30):
                cal.book(f"own {n}", f"2026-12-{4 + n:02d}", f"11:{minute:02d}", "Bo")
                cal.on("2026-12-03")
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert sum(r["booked"] for r in results) == 1
    assert len(cal.all()) == 1 + 8 * 30
    assert len(Calendar(tmp_path / "cal.db").all()) == 1 + 8 * 30  # committed to the file
