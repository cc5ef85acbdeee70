"""The week 4 arena app for real: the local model answers as two players, votes go to SQLite, the leaderboard
changes. Driven by gradio_client and by headless Chromium (screenshot under test-artifacts/)."""

from __future__ import annotations

from pathlib import Path

import pytest

from browser import load_app

from llmcourse.evaluation import ArenaStore, Player
from llmcourse.ui import serve

ROOT = Path(__file__).resolve().parents[1]
PLAYERS = [Player("greedy", "local", 0.0, 8), Player("terse", "local", 0.0, 8, "Answer in one word.")]


def load_app_module():
    return load_app("week4_eval")


@pytest.fixture(scope="module")
def app_module():
    return load_app_module()


def test_votes_reach_sqlite_and_the_leaderboard_through_the_api(app_module, tmp_path, engine):
    from gradio_client import Client

    db = tmp_path / "votes.sqlite"
    with serve(app_module.build_app(db, PLAYERS, seed=0)) as s:
        client = Client(s.url, verbose=False)
        a, b, status = client.predict("What is the capital of France?", api_name="/battle")
        assert a and b and "Vote" in status and "greedy" not in status and "terse" not in status  # anonymous
        reveal, board, status = client.predict(api_name="/vote_a")
        assert "Vote stored: A is better" in status
        winner = reveal.split("**A** was `")[1].split("`")[0]
        rows = {r[0]: r for r in board["data"]}
        assert set(rows) == {"greedy", "terse"} and rows[winner][1] > 1000 and rows[winner][3] == 1
        again = client.predict(api_name="/vote_b")[2]
        assert "already has a vote" in again                      # one vote per battle, as one line
        client.predict("Name a colour.", api_name="/battle")
        board = client.predict(api_name="/vote_tie")[1]
        assert sum(r[3] for r in board["data"]) == 4              # two battles, two players each
    assert len(ArenaStore(db).votes()) == 2                        # on disk


def test_empty_prompt_and_vote_before_battle_are_one_line_messages(app_module):
    from gradio_client import Client

    with serve(app_module.build_app(":memory:", PLAYERS, seed=0)) as s:
        client = Client(s.url, verbose=False)
        assert client.predict("  ", api_name="/battle")[2] == "Type a prompt first."
        assert client.predict(api_name="/vote_a")[2] == "Start a battle first."


def test_in_the_browser_a_vote_reveals_the_players_and_fills_the_leaderboard(app_module, tmp_path, engine):
    from browser import browser_page, screenshot

    with serve(app_module.build_app(tmp_path / "v.sqlite", PLAYERS, seed=1)) as s, browser_page() as page:
        page.goto(s.url)
        page.wait_for_selector("#prompt textarea")
        assert "Model arena" in page.inner_text("#frame-title")
        page.fill("#prompt textarea", "What is the capital of France?")
        page.click("#battle")
        page.wait_for_function("document.querySelector('#answer-a textarea').value.length > 0", timeout=180_000)
        assert page.input_value("#answer-b textarea")
        assert "greedy" not in page.inner_text("#reveal")
        page.click("#vote-a")
        page.wait_for_function("document.querySelector('#reveal').innerText.includes('A was')", timeout=60_000)
        page.wait_for_function("document.querySelector('#leaderboard').innerText.includes('terse')", timeout=30_000)
        board = page.inner_text("#leaderboard")
        assert "greedy" in board and "terse" in board
        assert "Vote stored" in page.inner_text("#frame-status")
        screenshot(page, "week4_arena")
