"""RAG figures on the week 5 knowledge base with the local all-MiniLM-L6-v2 embeddings:
chunks embedded per second, whole-knowledge-base ingestion time, query latency (p50/p95), and
retrieval quality (recall@k, MRR, nDCG@5) at several chunk sizes.

    python benchmarks/rag.py [--sizes 300 600 1000] [--overlap 0.15] [--queries 50]

Prints one table row per chunk size. Each size ingests into a fresh temporary Chroma folder.

    python benchmarks/rag.py --answers [--rag 30] [--chat 20] [--settings none guard rp1.1g rp1.1 ...]

The local model's answers instead (issue 17, the repetition guard): for each decoding setting, the share of
replies with a repeated line or sentence (exact, and near-duplicate) and keyword accuracy on the RAG
questions. Greedy decoding, batched 10 prompts at a time (left padding; bf16 rounding can make a batched
reply differ from `chat()`'s in a late token; tests/test_repetition_guard.py checks the guard through `chat()`).
`--rescore DIR` scores the replies a `--dump DIR` run saved, without generating again.

Measured 2026-12-02 (2 shared cores, ~15 min per setting; 30 RAG questions + 20 chat prompts, 160 tokens):

    setting         repeat near-rep rag rep chat rep  kw all kw mean tokens
    none             20.0%    32.0%   16.7%    25.0%   4/30    0.206     97   greedy, before
    none+cut          0.0%    22.0%    0.0%     0.0%   4/30    0.206     80   stop at a repeated line only
    rp1.1g            0.0%     2.0%    0.0%     0.0%   2/30    0.228     90
    rp1.1             6.0%    14.0%    3.3%    10.0%   2/30    0.178    111   transformers' own: prompt penalised too
    rp1.2g+cut        0.0%     0.0%    0.0%     0.0%   3/30    0.228     84   chosen: the local provider's default

The guard (providers/local/repeats.py: penalty 1.2 on the reply's own tokens + stop at a repeated line) takes
replies with a repeated line from 20% to 0% and near-duplicates from 32% to 0%; the share of keywords found
rises (0.206 -> 0.228) while answers with every keyword go 4 -> 3 of 30 (one question; 6 answers gained
keywords, 2 lost some). transformers' own `repetition_penalty` also penalises the prompt, so a RAG answer
is pushed away from quoting its context: keyword share 0.178. Keyword accuracy of the 135M model stays low
either way.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "shared"))

from llmcourse.rag import (KnowledgeBase, LocalEmbedder, chunk_documents, evaluate_retrieval,  # noqa: E402
                           load_documents)
from llmcourse.providers.local.repeats import cut_repeat, first_repeat, penalty_processor  # noqa: E402
from llmcourse.rag.eval import keyword_coverage, load_questions  # noqa: E402

KB_DIR = ROOT / "week5_rag" / "knowledge-base"


def percentile(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


# ---------------------------------------------------------------------------------------------------
# Answers: repetition and keyword accuracy of the local model under several decoding settings
# ---------------------------------------------------------------------------------------------------

CHAT_PROMPTS = [
    "List five tips for studying for an exam.", "Write a short poem about the sea.",
    "Explain what a neural network is.", "What are the benefits of regular exercise?",
    "Give me a recipe for pancakes.", "Describe a typical day of a software engineer.",
    "What should I pack for a weekend camping trip?", "Write a short story about a robot who learns to paint.",
    "How do I make a good cup of coffee?", "List the planets of the solar system with one fact each.",
    "What is the difference between weather and climate?", "Give three reasons to learn a second language.",
    "Write a product description for a reusable water bottle.", "How does a bicycle stay upright?",
    "Explain photosynthesis to a ten-year-old.", "Write a polite email asking for a day off.",
    "What are the steps to change a flat tyre?", "Summarise the plot of Romeo and Juliet.",
    "List ten healthy snacks.", "Why is the sky blue?", "Give advice to someone starting their first job.",
    "Describe the water cycle.", "What makes a good team leader?", "Write a haiku about autumn, then explain it.",
    "How can a warehouse reduce accidents?", "What is machine learning used for in everyday life?",
    "Plan a three-day trip to Rome.", "Explain how a credit card works.",
    "Write a limerick about a cat.", "What are the rules of chess for the pawn?",
]

def make_guards(tok, prompt_len: int, setting: str) -> dict:
    """generate() keyword arguments for a named decoding setting ("none", "rp1.2", "rp1.2g", "ng4",
    "ng8g", "stop", "+"-joined combinations such as "rp1.1g+stop", and "guard": the local provider's
    defaults, i.e. what `chat(model="local")` does)."""
    import torch
    from transformers import (LogitsProcessor, LogitsProcessorList, RepetitionPenaltyLogitsProcessor,
                              StoppingCriteria, StoppingCriteriaList)

    class NoRepeatGeneratedNGram(LogitsProcessor):
        """Forbid a token that would repeat an n-gram of the reply (the prompt may be quoted freely)."""

        def __init__(self, n: int):
            self.n = n

        def __call__(self, input_ids, scores):
            for row in range(input_ids.shape[0]):
                gen = input_ids[row, prompt_len:].tolist()
                if len(gen) < self.n:
                    continue
                tail = tuple(gen[-(self.n - 1):])
                banned = {gen[i + self.n - 1] for i in range(len(gen) - self.n + 1)
                          if tuple(gen[i:i + self.n - 1]) == tail}
                if banned:
                    scores[row, list(banned)] = -float("inf")
            return scores

    class StopOnRepeat(StoppingCriteria):
        def __call__(self, input_ids, scores, **_):
            texts = tok.batch_decode(input_ids[:, prompt_len:], skip_special_tokens=True)
            return torch.tensor([first_repeat(t, complete_only=True) is not None for t in texts])

    kw, procs, stops = {}, [], []
    for part in setting.split("+"):
        if part == "none":
            continue
        if part == "guard":
            procs.append(penalty_processor(prompt_len))
            stops.append(StopOnRepeat())
            continue
        if m := re.fullmatch(r"rp(\d\.\d+)(g?)", part):
            if m.group(2):
                procs.append(RepetitionPenaltyLogitsProcessor(float(m.group(1)), prompt_ignore_length=prompt_len))
            else:
                kw["repetition_penalty"] = float(m.group(1))
        elif m := re.fullmatch(r"ng(\d+)(g?)", part):
            if m.group(2):
                procs.append(NoRepeatGeneratedNGram(int(m.group(1))))
            else:
                kw["no_repeat_ngram_size"] = int(m.group(1))
        elif part == "stop":
            stops.append(StopOnRepeat())
        else:
            raise SystemExit(f"unknown setting part {part!r}: use none, rpX.Y[g], ngN[g], stop")
    if procs:
        kw["logits_processor"] = LogitsProcessorList(procs)
    if stops:
        kw["stopping_criteria"] = StoppingCriteriaList(stops)
    return kw


def rag_prompts(n: int, seed: int = 17) -> list[dict]:
    """`n` answerable questions (a fixed, category-stratified sample) with the messages kb.answer sends."""
    from llmcourse.rag.answer import SYSTEM, build_prompt
    from llmcourse.settings import cache_dir

    questions = [q for q in load_questions() if q.get("keywords") and q.get("sources")]
    random.Random(seed).shuffle(questions)
    by_cat: dict[str, list] = {}
    for q in questions:
        by_cat.setdefault(q["category"], []).append(q)
    picked = []
    while len(picked) < min(n, len(questions)):
        for rows in by_cat.values():
            if rows and len(picked) < n:
                picked.append(rows.pop())
    kb = KnowledgeBase(cache_dir("week5_kb"))
    kb.ingest(KB_DIR, progress=False)  # the app's knowledge base: embeds only on the first run
    out = []
    for q in picked:
        hits = kb.search(q["question"], k=4)
        user = build_prompt(q["question"], hits)
        out.append({"kind": "rag", "q": q, "messages": [{"role": "system", "content": SYSTEM},
                                                        {"role": "user", "content": user}]})
    return out


def generate_batch(eng, items: list[dict], setting: str, max_tokens: int) -> list[str]:
    """Greedy replies to `items` under `setting`, in one left-padded batch (checked: the same text as one
    `get_engine().generate` call per prompt on a sample)."""
    import torch

    tok = eng.tokenizer
    texts = [tok.apply_chat_template(it["messages"], tokenize=False, add_generation_prompt=True) for it in items]
    tok.padding_side = "left"
    enc = tok(texts, return_tensors="pt", padding=True, add_special_tokens=False)
    n = enc["input_ids"].shape[1]
    with torch.inference_mode():
        out = eng.model.generate(**enc, max_new_tokens=max_tokens, do_sample=False, temperature=None, top_p=None,
                                 top_k=None, pad_token_id=tok.eos_token_id, **make_guards(tok, n, setting))
    replies = tok.batch_decode(out[:, n:], skip_special_tokens=True)
    return [cut_repeat(r) if {"stop", "guard"} & set(setting.split("+")) else r for r in replies]


HEADER = (f"{'setting':<14} {'repeat':>7} {'near-rep':>8} {'rag rep':>7} {'chat rep':>8} {'kw all':>7} "
          f"{'kw mean':>7} {'tokens':>6} {'s':>5}")


def report_row(eng, items: list[dict], replies: list[str], setting: str, seconds: float, dump: str | None) -> None:
    rows = []
    for it, text in zip(items, replies):
        kw = keyword_coverage(text, it["q"]["keywords"]) if it["kind"] == "rag" else None
        rows.append({"kind": it["kind"], "id": it.get("q", {}).get("id"), "text": text, "kw": kw,
                     "rep": first_repeat(text) is not None, "near": first_repeat(text, similarity=0.8) is not None})
    rag = [r for r in rows if r["kind"] == "rag"]
    chat_rows = [r for r in rows if r["kind"] == "chat"]
    share = lambda rs, key: sum(r[key] for r in rs) / max(1, len(rs))  # noqa: E731
    toks = statistics.mean(len(eng.tokenizer(r["text"])["input_ids"]) for r in rows)
    print(f"{setting:<14} {share(rows, 'rep'):>7.1%} {share(rows, 'near'):>8.1%} {share(rag, 'rep'):>7.1%} "
          f"{share(chat_rows, 'rep'):>8.1%} {sum(r['kw'] == 1 for r in rag):>3}/{len(rag):<3} "
          f"{statistics.mean(r['kw'] for r in rag) if rag else 0:>7.3f} {toks:>6.0f} {seconds:>5.0f}", flush=True)
    if dump:
        Path(dump).mkdir(parents=True, exist_ok=True)
        (Path(dump) / f"{setting}.json").write_text(json.dumps(rows, indent=1))


def rescore(folder: str) -> None:
    """Score the replies saved by an earlier --dump run again (no generation), e.g. after changing the
    repeat detector."""
    from llmcourse import get_engine

    eng, files = get_engine(), sorted(Path(folder).glob("*.json"), key=lambda f: (f.stem.count("+"), f.stem))
    questions = {q["id"]: q for q in load_questions()}
    print(f"replies saved in {folder}\n\n{HEADER}\n" + "-" * len(HEADER))
    for f in files:
        if f.stem.endswith("+cut"):
            continue
        rows = json.loads(f.read_text())
        items = [{"kind": r["kind"], "q": questions.get(r["id"], {})} for r in rows]
        report_row(eng, items, [r["text"] for r in rows], f.stem, 0.0, None)
        report_row(eng, items, [cut_repeat(r["text"]) for r in rows], f.stem + "+cut", 0.0, None)


def answers_study(args) -> None:
    from tqdm import tqdm

    from llmcourse import get_engine

    if args.rescore:
        return rescore(args.rescore)
    eng = get_engine()
    items = rag_prompts(args.rag) + [{"kind": "chat", "messages": [{"role": "user", "content": p}]}
                                     for p in CHAT_PROMPTS[:args.chat]]
    order = sorted(range(len(items)), key=lambda i: len(str(items[i]["messages"])))  # less padding
    print(f"{sum(it['kind'] == 'rag' for it in items)} RAG questions (k=4) + {args.chat} chat prompts, greedy, "
          f"max_tokens {args.max_tokens}, batch {args.batch}, load average {os.getloadavg()[0]:.1f}\n")
    print(HEADER + "\n" + "-" * len(HEADER), flush=True)
    batches = [order[i:i + args.batch] for i in range(0, len(order), args.batch)]
    for setting in args.settings:
        t, replies = time.perf_counter(), [""] * len(items)
        for idx in tqdm(batches, desc=setting, leave=False, disable=not sys.stderr.isatty()):
            for i, text in zip(idx, generate_batch(eng, [items[i] for i in idx], setting, args.max_tokens)):
                replies[i] = text
        seconds = time.perf_counter() - t
        report_row(eng, items, replies, setting, seconds, args.dump)
        if not {"stop", "guard"} & set(setting.split("+")):  # greedy: stopping at the first repeat = cutting
            report_row(eng, items, [cut_repeat(r) for r in replies], setting + "+cut", seconds, args.dump)
    print("\nrepeat: replies with a line or sentence (4+ words, list numbering ignored) that repeats an earlier "
          "one; near-rep: or one 80% the same by words; kw all: RAG answers containing every reference keyword; "
          "kw mean: share of keywords found. Settings: rpX = transformers' repetition_penalty (prompt tokens "
          "count too), rpXg = the same on the reply's own tokens only, ngN = no_repeat_ngram_size (prompt "
          "included), ngNg = no repeated N-gram within the reply, stop = stop at the first repeated line and "
          "cut it (+cut: the same replies cut at their first repeated line: what stopping there gives), guard = "
          "the local provider's defaults (penalty 1.2 on the reply's own tokens + stop).")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[300, 600, 1000])
    ap.add_argument("--overlap", type=float, default=1 / 6, help="overlap as a share of the chunk size")
    ap.add_argument("--queries", type=int, default=50, help="questions timed for query latency")
    ap.add_argument("--threads", type=int, default=0,
                    help="torch threads (0: torch's default; 1 is much faster on an oversubscribed machine)")
    ap.add_argument("--answers", action="store_true", help="measure the local model's answers instead")
    ap.add_argument("--rag", type=int, default=30, help="RAG questions for --answers")
    ap.add_argument("--chat", type=int, default=20, help="chat prompts for --answers")
    ap.add_argument("--settings", nargs="+", default=["none", "guard"])
    ap.add_argument("--max-tokens", type=int, default=200)
    ap.add_argument("--batch", type=int, default=10)
    ap.add_argument("--dump", help="folder to write every reply to (one JSON file per setting)")
    ap.add_argument("--rescore", metavar="DIR", help="with --answers: score the replies a --dump run saved")
    args = ap.parse_args()
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    if args.answers:
        return answers_study(args)

    embedder = LocalEmbedder(cache=False)  # the model's own speed, not the embedding cache's
    embedder.embed_documents(["warm up"])  # load the model outside the timings
    docs = load_documents(KB_DIR)
    questions = load_questions()
    print(f"{len(docs)} documents ({sum(len(d.text) for d in docs):,} chars), {len(questions)} questions, "
          f"embedder {embedder.name}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}\n")
    header = (f"{'chunk':>6} {'overlap':>7} {'chunks':>6} {'emb/s':>7} {'ingest s':>8} {'p50 ms':>7} "
              f"{'p95 ms':>7} {'R@1':>6} {'R@3':>6} {'R@5':>6} {'MRR':>6} {'nDCG@5':>7}")
    print(header)
    print("-" * len(header))
    for size in args.sizes:
        overlap = int(size * args.overlap)
        texts = [c.text for c in chunk_documents(docs, chunk_size=size, chunk_overlap=overlap)]
        t = time.perf_counter()
        embedder.embed_documents(texts)
        per_s = len(texts) / (time.perf_counter() - t)
        with tempfile.TemporaryDirectory() as tmp:
            kb = KnowledgeBase(tmp, collection=f"bench_{size}", embedder=embedder)
            summary = kb.ingest(KB_DIR, chunk_size=size, chunk_overlap=overlap, progress=False)
            latencies = []
            for q in questions[:args.queries]:
                t = time.perf_counter()
                kb.search(q["question"], k=5)
                latencies.append((time.perf_counter() - t) * 1000)
            report = evaluate_retrieval(kb, questions, ks=(1, 3, 5))
        print(f"{size:>6} {overlap:>7} {len(texts):>6} {per_s:>7.0f} {summary.seconds:>8.1f} "
              f"{statistics.median(latencies):>7.1f} {percentile(latencies, 95):>7.1f} {report.recall[1]:>6.3f} "
              f"{report.recall[3]:>6.3f} {report.recall[5]:>6.3f} {report.mrr:>6.3f} {report.ndcg[5]:>7.3f}")
    print("\nemb/s: chunks embedded per second; ingest s: load + chunk + embed + write the whole knowledge base; "
          "p50/p95: one search (embed the query + Chroma top 5); R@k: a relevant document has a chunk in the "
          "top k, averaged over answerable questions.")


if __name__ == "__main__":
    main()
