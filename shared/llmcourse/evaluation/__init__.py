"""Evaluating models and systems (week 4, and week 5's RAG evaluation).

- `metrics`: recall@k, reciprocal rank (MRR), nDCG@k, keyword coverage.
- `judge`: LLM as a judge on `chat(schema=)`: score 1-5 and a reason.
- `formats`, `runner`, `loglik`, `stats`: benchmark items, one runner (log-likelihood cloze/letter
  scoring for the local model, generation + parsing for API models), accuracy with a 95% interval.
- `data`: MMLU and HumanEval from the files installed packages carry; `examples`: a course-written
  format example per other benchmark and Hub loaders behind an explicit choice.
- `code`: HumanEval through `llmcourse.sandbox`, pass@k; `ifeval`: instructions checked in code.
- `ratings`, `arena`: Elo and Bradley–Terry with bootstrap intervals; battles and votes in SQLite.
- `contamination`: n-gram overlap between benchmark items and a text.
- `choosing`: a workload's cost per model, the Chinchilla rule, speed and latency measurements.

Heavy libraries (torch, pandas, matplotlib) load only inside the functions that need them.
"""

from __future__ import annotations

from .arena import ArenaStore, Player, default_players, fight
from .choosing import chinchilla_table, measure_speed, parse_count, summarize_speed, workload_costs
from .code import (JS_ADD_PROMPT, JS_ADD_TESTS, CodeResult, check_completion, evaluate_code, extract_code,
                   generate_solutions, pass_at_k, run_javascript)
from .contamination import contaminated, ngrams, overlap
from .data import load_humaneval, load_mmlu, package_file, stratified_sample
from .examples import FORMAT_EXAMPLES, format_example, load_from_hub
from .formats import Item, cloze_prompt, generate_prompt, letter_prompt, parse_letter, parse_number
from .ifeval import InstructionResult, run_instructions, score_replies
from .ifeval import check as check_instruction
from .judge import JUDGE_PROMPT, JUDGE_PROMPT_NO_REFERENCE, Judgement, judge, judge_agreement, judge_prompt
from .loglik import Score, continuation_logprobs
from .metrics import keyword_coverage, ndcg_at_k, recall_at_k, reciprocal_rank
from .ratings import (bootstrap_ratings, bradley_terry, elo, expected_score, leaderboard, plot_leaderboard,
                      simulate_votes)
from .runner import BenchmarkResult, run_benchmark
from .stats import Accuracy, bootstrap, percentile_interval, wilson_interval

__all__ = ["Accuracy", "ArenaStore", "BenchmarkResult", "CodeResult", "FORMAT_EXAMPLES", "InstructionResult",
           "Item", "JUDGE_PROMPT", "JUDGE_PROMPT_NO_REFERENCE", "Judgement", "Player", "Score", "bootstrap",
           "bootstrap_ratings", "bradley_terry", "chinchilla_table", "measure_speed", "parse_count",
           "summarize_speed", "workload_costs", "check_completion", "check_instruction", "cloze_prompt",
           "contaminated", "continuation_logprobs", "default_players", "elo", "evaluate_code", "expected_score",
           "extract_code", "fight", "format_example", "generate_prompt", "generate_solutions", "judge",
           "judge_agreement", "judge_prompt", "keyword_coverage", "leaderboard", "letter_prompt",
           "load_from_hub", "load_humaneval", "load_mmlu", "ndcg_at_k", "ngrams", "overlap", "package_file",
           "parse_letter", "parse_number", "pass_at_k", "percentile_interval", "plot_leaderboard",
           "recall_at_k", "reciprocal_rank", "run_benchmark", "run_javascript", "JS_ADD_PROMPT", "JS_ADD_TESTS", "run_instructions", "score_replies",
           "simulate_votes", "stratified_sample", "wilson_interval"]
