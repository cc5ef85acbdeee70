"""An arena in the style of LMSYS Chatbot Arena (now LMArena): two anonymous answers, one vote.

Players are systems, not only models: a model with its settings. Offline, the players are the local
model with different settings (so the lesson runs with no key); with keys, frontier models join.
Votes go to SQLite, one row per battle, and `ratings.leaderboard(store.votes())` ranks the players.

>>> store = ArenaStore(":memory:")
>>> b = store.new_battle("Hi", "p1", "p2", "Hello!", "Hey.")
>>> store.vote(b, "a"); store.votes()
[('p1', 'p2', 1.0)]
"""

from __future__ import annotations

import random
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

OUTCOMES = {"a": 1.0, "b": 0.0, "tie": 0.5, "bothbad": 0.5}


@dataclass(frozen=True)
class Player:
    """A contestant: a course model and the settings it answers with."""

    name: str
    model: str
    temperature: float | None = 0.0
    max_tokens: int = 120
    system: str | None = None

    def answer(self, prompt: str):
        from ..chat import chat

        return chat(prompt, model=self.model, system=self.system, temperature=self.temperature,
                    max_tokens=self.max_tokens)


def default_players() -> list[Player]:
    """Three settings of the local model, plus every frontier model family with a key (alias "fast")."""
    from ..registry import get_model
    from ..settings import FRONTIER, has_key

    players = [Player("local-greedy", "local", 0.0, 120),
               Player("local-creative", "local", 1.0, 120),
               Player("local-terse", "local", 0.0, 120, "Answer in one short sentence.")]
    for provider in FRONTIER:
        if has_key(provider):
            try:
                info = get_model(provider)
            except Exception:
                continue
            players.append(Player(info.name, info.name, 0.0, 300))
    return players


class ArenaStore:
    """Battles and votes in SQLite (`:memory:` or a file path; the folder is created)."""

    def __init__(self, path: str | Path = ":memory:"):
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.path = str(path)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False)
        self._db.execute("""CREATE TABLE IF NOT EXISTS battles (
            id INTEGER PRIMARY KEY, prompt TEXT NOT NULL, player_a TEXT NOT NULL, player_b TEXT NOT NULL,
            answer_a TEXT, answer_b TEXT, winner TEXT, created REAL, voted REAL)""")
        self._db.commit()

    def new_battle(self, prompt: str, player_a: str, player_b: str, answer_a: str, answer_b: str) -> int:
        with self._lock:
            cur = self._db.execute("INSERT INTO battles (prompt, player_a, player_b, answer_a, answer_b, created) "
                                   "VALUES (?, ?, ?, ?, ?, ?)", (prompt, player_a, player_b, answer_a, answer_b,
                                                                 time.time()))
            self._db.commit()
            return int(cur.lastrowid)

    def vote(self, battle_id: int, winner: str) -> None:
        """Record `winner` ("a", "b", "tie" or "bothbad") for a battle that has no vote yet."""
        if winner not in OUTCOMES:
            raise ValueError(f"winner={winner!r}: use one of {', '.join(OUTCOMES)}")
        with self._lock:
            row = self._db.execute("SELECT winner FROM battles WHERE id = ?", (battle_id,)).fetchone()
            if row is None:
                raise ValueError(f"no battle {battle_id}: start a battle before voting")
            if row[0] is not None:
                raise ValueError(f"battle {battle_id} already has a vote ({row[0]}): start a new battle")
            self._db.execute("UPDATE battles SET winner = ?, voted = ? WHERE id = ?", (winner, time.time(), battle_id))
            self._db.commit()

    def battle(self, battle_id: int) -> dict:
        with self._lock:
            cur = self._db.execute("SELECT * FROM battles WHERE id = ?", (battle_id,))
            names = [d[0] for d in cur.description]
            row = cur.fetchone()
        if row is None:
            raise ValueError(f"no battle {battle_id}")
        return dict(zip(names, row))

    def votes(self) -> list[tuple[str, str, float]]:
        """Every voted battle as (player_a, player_b, outcome) for `ratings`."""
        with self._lock:
            rows = self._db.execute("SELECT player_a, player_b, winner FROM battles "
                                    "WHERE winner IS NOT NULL ORDER BY id").fetchall()
        return [(a, b, OUTCOMES[w]) for a, b, w in rows]

    def close(self) -> None:
        self._db.close()


def pick_pair(players: list[Player], rng: random.Random | None = None) -> tuple[Player, Player]:
    """Two different players at random, in random order (so position says nothing)."""
    if len(players) < 2:
        raise ValueError("an arena needs at least two players")
    a, b = (rng or random).sample(players, 2)
    return a, b


def fight(store: ArenaStore, prompt: str, players: list[Player], rng: random.Random | None = None) -> dict:
    """Draw two players, get both answers, store the battle; returns the battle row plus the replies."""
    a, b = pick_pair(players, rng)
    ra, rb = a.answer(prompt), b.answer(prompt)
    battle_id = store.new_battle(prompt, a.name, b.name, ra.text, rb.text)
    return {**store.battle(battle_id), "reply_a": ra, "reply_b": rb}
