"""Ratings from head-to-head votes: Elo and Bradley–Terry, with bootstrap confidence intervals.

A vote is (model_a, model_b, outcome) with outcome 1 (a won), 0 (b won) or 0.5 (tie), as in
LMSYS Chatbot Arena (now LMArena). Both ratings live on the Elo scale: a 400-point gap means the
stronger model wins 10 times out of 11.

- **Elo** updates two ratings after every game (K=4, like the Arena's online Elo): simple and
  live, but the result depends on the order of the games.
- **Bradley–Terry** fits one strength per model to all games at once (maximum likelihood,
  Hunter's MM algorithm): P(i beats j) = p_i / (p_i + p_j). Order-free; what LMArena reports.

>>> votes = [("a", "b", 1), ("a", "b", 1), ("a", "b", 0), ("b", "c", 1), ("a", "c", 1)]
>>> r = bradley_terry(votes)
>>> r["a"] > r["b"] > r["c"]
True
"""

from __future__ import annotations

import math
import random
from typing import Iterable

Vote = tuple[str, str, float]
SCALE, BASE = 400.0, 1000.0


def _check(votes: Iterable) -> list[Vote]:
    out = []
    for n, v in enumerate(votes, 1):
        a, b, s = v
        if s not in (0, 0.5, 1) or a == b:
            raise ValueError(f"vote {n} {v!r}: need (model_a, model_b, outcome) with two different "
                             f"models and outcome 1 (a won), 0 (b won) or 0.5 (tie)")
        out.append((a, b, float(s)))
    if not out:
        raise ValueError("no votes yet: record some battles first")
    return out


def expected_score(r_a: float, r_b: float) -> float:
    """The chance that a beats b under Elo's model."""
    return 1.0 / (1.0 + 10 ** ((r_b - r_a) / SCALE))


def elo(votes: Iterable, *, k: float = 4.0, initial: float = BASE) -> dict[str, float]:
    """Online Elo: every model starts at `initial`; each game moves both by k·(actual − expected)."""
    ratings: dict[str, float] = {}
    for a, b, s in _check(votes):
        ra, rb = ratings.setdefault(a, initial), ratings.setdefault(b, initial)
        delta = k * (s - expected_score(ra, rb))
        ratings[a], ratings[b] = ra + delta, rb - delta
    return ratings


def bradley_terry(votes: Iterable, *, iterations: int = 200, tol: float = 1e-9,
                  prior: float = 0.5) -> dict[str, float]:
    """Bradley–Terry ratings (Elo scale, mean `BASE`) fitted by the MM algorithm.

    A tie counts as half a win for each side. `prior` adds that many virtual ties of every model
    against a mean-strength opponent, so a model that never lost still gets a finite rating.
    """
    votes = _check(votes)
    models = sorted({m for a, b, _ in votes for m in (a, b)})
    wins = {m: prior for m in models}
    pairs: dict[tuple[str, str], float] = {}
    for a, b, s in votes:
        wins[a] += s
        wins[b] += 1 - s
        key = (a, b) if a < b else (b, a)
        pairs[key] = pairs.get(key, 0) + 1
    p = {m: 1.0 for m in models}
    for _ in range(iterations):
        new = {}
        for m in models:
            denom = 2 * prior / (p[m] + 1.0)          # the virtual games against strength 1
            for (x, y), n in pairs.items():
                if m in (x, y):
                    other = y if m == x else x
                    denom += n / (p[m] + p[other])
            new[m] = wins[m] / denom
        g = math.exp(sum(math.log(v) for v in new.values()) / len(new))   # fix the scale: geometric mean 1
        new = {m: v / g for m, v in new.items()}
        done = max(abs(new[m] - p[m]) for m in models) < tol
        p = new
        if done:
            break
    return {m: BASE + SCALE * math.log10(v) for m, v in p.items()}


def bootstrap_ratings(votes: Iterable, method: str = "bt", *, rounds: int = 200, seed: int = 0,
                      level: float = 0.95) -> dict[str, tuple[float, float, float]]:
    """model -> (rating, low, high): the rating on all votes and a percentile interval from
    `rounds` resamples of the votes (for Elo, resampling also shuffles the order)."""
    from .stats import bootstrap, percentile_interval

    votes = _check(votes)
    fit = {"bt": bradley_terry, "elo": elo}.get(method)
    if fit is None:
        raise ValueError(f"method={method!r}: use 'bt' (Bradley–Terry) or 'elo'")
    point = fit(votes)
    samples = bootstrap(votes, fit, rounds=rounds, seed=seed)
    out = {}
    for m, r in point.items():
        vals = [s[m] for s in samples if m in s]
        lo, hi = percentile_interval(vals, level) if vals else (r, r)
        out[m] = (r, lo, hi)
    return out


def leaderboard(votes: Iterable, *, rounds: int = 200, seed: int = 0):
    """A pandas table, best first: Bradley–Terry and Elo ratings with 95% intervals, games, win rate."""
    import pandas as pd

    votes = _check(votes)
    bt = bootstrap_ratings(votes, "bt", rounds=rounds, seed=seed)
    el = bootstrap_ratings(votes, "elo", rounds=rounds, seed=seed)
    rows = []
    for m in bt:
        games = [(a, b, s) for a, b, s in votes if m in (a, b)]
        won = sum(s if a == m else 1 - s for a, b, s in games)
        rows.append({"model": m, "bt": bt[m][0], "bt_low": bt[m][1], "bt_high": bt[m][2],
                     "elo": el[m][0], "elo_low": el[m][1], "elo_high": el[m][2],
                     "games": len(games), "win_rate": won / len(games)})
    return pd.DataFrame(rows).sort_values("bt", ascending=False).set_index("model").round(3)


def plot_leaderboard(table, *, ax=None, title: str = "Arena leaderboard (Bradley–Terry, 95% CI)"):
    """Horizontal error bars of the Bradley–Terry ratings in `leaderboard(...)`'s table."""
    import matplotlib.pyplot as plt

    t = table.sort_values("bt")
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 0.45 * len(t) + 1.2))
    ax.errorbar(t["bt"], range(len(t)), xerr=[t["bt"] - t["bt_low"], t["bt_high"] - t["bt"]],
                fmt="o", capsize=4)
    ax.set_yticks(range(len(t)), t.index)
    ax.set_xlabel("rating (Elo scale)")
    ax.set_title(title)
    ax.grid(axis="x", alpha=0.3)
    return ax


def simulate_votes(strengths: dict[str, float], n: int, *, tie_rate: float = 0.1, seed: int = 0) -> list[Vote]:
    """`n` random battles between models with known Elo-scale `strengths` (for lessons and tests)."""
    rng = random.Random(seed)
    names = sorted(strengths)
    votes = []
    for _ in range(n):
        a, b = rng.sample(names, 2)
        if rng.random() < tie_rate:
            votes.append((a, b, 0.5))
        else:
            votes.append((a, b, 1.0 if rng.random() < expected_score(strengths[a], strengths[b]) else 0.0))
    return votes
