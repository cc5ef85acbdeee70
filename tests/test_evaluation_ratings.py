"""Elo and Bradley–Terry on synthetic tournaments with known strengths; the SQLite arena store."""

from __future__ import annotations

import math

import pytest

from llmcourse.evaluation import (ArenaStore, bootstrap_ratings, bradley_terry, elo, expected_score, leaderboard,
                                  simulate_votes)

TRUE = {"alpha": 1250, "bravo": 1150, "charlie": 1050, "delta": 950, "echo": 850}


def test_expected_score_is_elos_formula():
    assert expected_score(1400, 1000) == pytest.approx(10 / 11)
    assert expected_score(1000, 1000) == 0.5


def test_bradley_terry_recovers_the_true_ranking_and_gaps():
    votes = simulate_votes(TRUE, 3000, seed=3)
    bt = bradley_terry(votes)
    assert sorted(bt, key=bt.get, reverse=True) == sorted(TRUE, key=TRUE.get, reverse=True)
    # BT is centred on 1000, the true strengths on 1050: compare gaps (ties shrink them a little)
    for m in TRUE:
        assert (bt[m] - bt["charlie"]) == pytest.approx(TRUE[m] - TRUE["charlie"], abs=45), m
    assert sum(bt.values()) / len(bt) == pytest.approx(1000, abs=1e-6)


def test_bradley_terry_is_the_maximum_likelihood_fit():
    """At the fit, each model's expected wins equal its actual wins (the MLE's score equations)."""
    votes = simulate_votes(TRUE, 800, tie_rate=0.0, seed=5)
    bt = bradley_terry(votes, prior=0.0, iterations=2000)
    for m in TRUE:
        games = [(a, b, s) for a, b, s in votes if m in (a, b)]
        actual = sum(s if a == m else 1 - s for a, b, s in games)
        expected = sum(expected_score(bt[m], bt[b if a == m else a]) for a, b, s in games)
        assert expected == pytest.approx(actual, abs=0.05), m


def test_elo_ranks_and_depends_on_order():
    votes = simulate_votes(TRUE, 3000, seed=4)
    r = elo(votes)
    assert sorted(r, key=r.get, reverse=True) == sorted(TRUE, key=TRUE.get, reverse=True)
    assert elo(list(reversed(votes))) != r                  # the order of games moves online Elo
    assert bradley_terry(list(reversed(votes))) == pytest.approx(bradley_terry(votes))  # BT does not care


def test_bootstrap_intervals_contain_the_point_and_shrink_with_more_votes():
    few = bootstrap_ratings(simulate_votes(TRUE, 200, seed=1), rounds=100)
    many = bootstrap_ratings(simulate_votes(TRUE, 3200, seed=1), rounds=100)
    for m in TRUE:
        assert few[m][1] <= few[m][0] <= few[m][2]
        assert (many[m][2] - many[m][1]) < (few[m][2] - few[m][1]) / 2, m   # ~1/sqrt(16) = 1/4 as wide


def test_leaderboard_table_is_sorted_with_counts():
    votes = simulate_votes(TRUE, 500, seed=2)
    t = leaderboard(votes, rounds=50)
    assert list(t.index) == sorted(TRUE, key=TRUE.get, reverse=True)
    assert t["games"].sum() == 2 * len(votes) and math.isclose(t.loc["alpha", "win_rate"], t.loc["alpha", "win_rate"])
    assert (t["bt_low"] <= t["bt"]).all() and (t["bt"] <= t["bt_high"]).all()


def test_bad_votes_name_the_problem():
    with pytest.raises(ValueError, match="vote 2"):
        bradley_terry([("a", "b", 1), ("a", "a", 1)])
    with pytest.raises(ValueError, match="no votes"):
        elo([])


def test_arena_store_keeps_votes_in_sqlite(tmp_path):
    db = tmp_path / "arena" / "votes.sqlite"
    store = ArenaStore(db)
    b1 = store.new_battle("Hi", "p1", "p2", "Hello!", "Hey.")
    b2 = store.new_battle("Yo", "p2", "p3", "Yo!", "Sup.")
    store.new_battle("unvoted", "p1", "p3", "x", "y")
    store.vote(b1, "a")
    store.vote(b2, "tie")
    with pytest.raises(ValueError, match="already has a vote"):
        store.vote(b1, "b")
    with pytest.raises(ValueError, match="use one of"):
        store.vote(b2, "left")
    store.close()
    again = ArenaStore(db)                      # persisted on disk
    assert again.votes() == [("p1", "p2", 1.0), ("p2", "p3", 0.5)]
    assert again.battle(b1)["answer_a"] == "Hello!"
