"""Choosing a model: a workload's cost across the registry, the Chinchilla rule, speed and latency.

>>> parse_count("284B (13B active)"), parse_count("2T"), parse_count("135M"), parse_count("")
(284000000000.0, 2000000000000.0, 135000000.0, None)
"""

from __future__ import annotations

import re
import statistics
import time

CHINCHILLA_TOKENS_PER_PARAM = 20   # Hoffmann et al. 2022, "Training Compute-Optimal Large Language Models"
_UNITS = {"K": 1e3, "M": 1e6, "B": 1e9, "T": 1e12}


def parse_count(text: str) -> float | None:
    """The first "135M" / "8B" / "15T"-style count in a registry field, as a number (None if absent)."""
    m = re.search(r"([\d.]+)\s*([KMBT])", text or "")
    return float(m.group(1)) * _UNITS[m.group(2)] if m else None


def workload_costs(requests_per_day: int, tokens_in: int, tokens_out: int, *, days: int = 30,
                   models: list[str] | None = None):
    """USD for `days` of a workload on every priced chat model of the registry (or `models`), cheapest first."""
    import pandas as pd

    from ..registry import get_model
    from ..registry import models as all_models

    infos = [get_model(m) for m in models] if models else [m for m in all_models().values() if m.kind == "chat"]
    rows = [{"model": m.name, "provider": m.provider, "weights": m.weights,
             "per_request": m.cost(tokens_in, tokens_out),
             "per_period": m.cost(tokens_in, tokens_out) * requests_per_day * days} for m in infos]
    return pd.DataFrame(rows).sort_values("per_period").set_index("model")


def chinchilla_table():
    """Open models with known size and training tokens: tokens per parameter against the rule's 20."""
    import pandas as pd

    from ..registry import models

    rows = []
    for m in models().values():
        params, tokens = parse_count(m.parameters), parse_count(m.training_tokens)
        if m.weights == "open" and params and tokens:
            rows.append({"model": m.name, "parameters": params, "training_tokens": tokens,
                         "tokens_per_param": tokens / params,
                         "times_chinchilla": tokens / params / CHINCHILLA_TOKENS_PER_PARAM})
    return pd.DataFrame(rows).sort_values("tokens_per_param").set_index("model")


def measure_speed(model: str | None = "local", *, prompt: str = "Explain what a CPU does in three sentences.",
                  runs: int = 3, max_tokens: int = 48) -> list[dict]:
    """Stream `runs` greedy replies; per run: time to first token (s), whole-reply time, tokens/s."""
    from ..chat import chat

    rows = []
    for _ in range(runs):
        start = time.perf_counter()
        reply = chat(prompt, model=model, temperature=0, max_tokens=max_tokens, stream=True)
        for _chunk in reply:
            pass
        total = time.perf_counter() - start
        ttft = reply.time_to_first_token or total
        out = reply.usage.output_tokens
        rows.append({"model": reply.model, "ttft_s": ttft, "total_s": total, "output_tokens": out,
                     "tokens_per_s": out / (total - ttft) if total > ttft and out > 1 else float("nan")})
    return rows


def summarize_speed(rows: list[dict]) -> dict:
    """Median and spread (min-max) of time to first token and tokens/s over repeated runs."""
    ttft = [r["ttft_s"] for r in rows]
    tps = [r["tokens_per_s"] for r in rows if r["tokens_per_s"] == r["tokens_per_s"]]
    return {"runs": len(rows), "ttft_median": statistics.median(ttft), "ttft_min": min(ttft), "ttft_max": max(ttft),
            "tps_median": statistics.median(tps) if tps else float("nan"),
            "tps_min": min(tps, default=float("nan")), "tps_max": max(tps, default=float("nan"))}
