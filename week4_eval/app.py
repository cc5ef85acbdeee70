"""Week 4 app: a model arena in the style of LMSYS Chatbot Arena (now LMArena).

    python week4_eval/app.py             # http://127.0.0.1:<free port>  (PORT=7860 to choose one)

Type a prompt and press Battle: two anonymous players answer it. Vote for the better answer (or a tie,
or both bad); only then are their names, costs and times revealed, and the vote is stored in SQLite
(the course cache folder, `arena/votes.sqlite`). The leaderboard under it is fitted from every stored
vote: Bradley–Terry ratings on the Elo scale with 95% bootstrap intervals.

Players are systems: offline, the local model with three settings (greedy, creative, terse), so the app
runs with no key; with a key in `.env`, that provider's model joins.

Importable for tests and notebooks:

    from app import build_app            # with week4_eval/ on sys.path
    demo = build_app(store_path=":memory:")
"""

from __future__ import annotations

import os
import random

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

VOTES = {"a": "A is better", "b": "B is better", "tie": "Tie", "bothbad": "Both are bad"}


def default_store_path():
    from llmcourse.settings import cache_dir

    return cache_dir("arena") / "votes.sqlite"


def leaderboard_rows(store, rounds: int = 100):
    """The leaderboard as a small table (empty until the first vote)."""
    import pandas as pd

    from llmcourse.evaluation import leaderboard

    votes = store.votes()
    if not votes:
        return pd.DataFrame(columns=["player", "rating", "95% CI", "games", "win rate"])
    t = leaderboard(votes, rounds=rounds).reset_index()
    return pd.DataFrame({"player": t["model"], "rating": t["bt"].round(0).astype(int),
                         "95% CI": [f"{lo:.0f}-{hi:.0f}" for lo, hi in zip(t["bt_low"], t["bt_high"])],
                         "games": t["games"], "win rate": t["win_rate"].map(lambda x: f"{x:.0%}")})


def _side(reply) -> str:
    return f"{reply.usage.output_tokens} tokens · ${reply.cost:.6f} · {reply.latency:.2f} s"


def build_app(store_path=None, players=None, *, seed: int | None = None):
    """The arena as a Gradio Blocks app. API: /battle (prompt) -> (answer A, answer B, battle id, status);
    /vote_a, /vote_b, /vote_tie, /vote_bothbad (battle id) -> (reveal, leaderboard, status)."""
    import gradio as gr

    from llmcourse import ui
    from llmcourse.evaluation import ArenaStore, default_players, fight

    store = ArenaStore(default_store_path() if store_path is None else store_path)
    players = players or default_players()
    by_name = {p.name: p for p in players}
    rng = random.Random(seed)
    details: dict[int, str] = {}

    def battle(prompt: str):
        if not prompt or not prompt.strip():
            return "", "", None, "Type a prompt first."
        try:
            b = fight(store, prompt.strip(), players, rng)
        except Exception as exc:
            return "", "", None, ui.error_line(exc)
        details[b["id"]] = (f"**A** was `{b['player_a']}` ({by_name[b['player_a']].model}): {_side(b['reply_a'])}  \n"
                            f"**B** was `{b['player_b']}` ({by_name[b['player_b']].model}): {_side(b['reply_b'])}")
        return b["answer_a"], b["answer_b"], b["id"], "Two anonymous players answered. Vote to see who they were."

    def make_vote(winner: str):
        def vote(battle_id):
            if battle_id is None:
                return gr.skip(), gr.skip(), "Start a battle first."
            try:
                store.vote(int(battle_id), winner)
            except Exception as exc:
                return gr.skip(), gr.skip(), ui.error_line(exc)
            return details.get(int(battle_id), ""), leaderboard_rows(store), f"Vote stored: {VOTES[winner]}."
        vote.__name__ = f"vote_{winner}"
        return vote

    with ui.frame("Week 4 · Model arena", show_model_picker=False,
                  description="Two anonymous players answer your prompt; vote for the better one. Names, cost "
                              "and time are shown after the vote. Players: " +
                              ", ".join(f"`{p.name}`" for p in players) + ".") as f:
        prompt = gr.Textbox(label="Prompt", placeholder="e.g. Explain photosynthesis to a child.", elem_id="prompt")
        go = gr.Button("Battle", variant="primary", elem_id="battle")
        with gr.Row():
            answer_a = gr.Textbox(label="Answer A", lines=6, interactive=False, elem_id="answer-a")
            answer_b = gr.Textbox(label="Answer B", lines=6, interactive=False, elem_id="answer-b")
        with gr.Row():
            buttons = {w: gr.Button(label, elem_id=f"vote-{w}") for w, label in VOTES.items()}
        status = f.status_box()
        reveal = gr.Markdown(elem_id="reveal")
        gr.Markdown("### Leaderboard (Bradley–Terry, 95% bootstrap interval)")
        board = gr.Dataframe(leaderboard_rows(store), interactive=False, elem_id="leaderboard")
        battle_id = gr.State(None)
        go.click(battle, [prompt], [answer_a, answer_b, battle_id, status], api_name="battle").then(
            lambda: "", None, reveal, api_visibility="private")
        for w, button in buttons.items():
            button.click(make_vote(w), [battle_id], [reveal, board, status], api_name=f"vote_{w}")
    app = f.blocks
    app.arena_store = store
    return app


if __name__ == "__main__":
    from llmcourse import ui

    ui.launch(build_app())
