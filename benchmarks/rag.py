"""RAG figures on the week 5 knowledge base with the local all-MiniLM-L6-v2 embeddings:
chunks embedded per second, whole-knowledge-base ingestion time, query latency (p50/p95), and
retrieval quality (recall@k, MRR, nDCG@5) at several chunk sizes.

    python benchmarks/rag.py [--sizes 300 600 1000] [--overlap 0.15] [--queries 50]

Prints one table row per chunk size. Each size ingests into a fresh temporary Chroma folder.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "shared"))

from llmcourse.rag import KnowledgeBase, chunk_documents, evaluate_retrieval, get_embedder, load_documents  # noqa: E402
from llmcourse.rag.eval import load_questions  # noqa: E402

KB_DIR = ROOT / "week5_rag" / "knowledge-base"


def percentile(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[300, 600, 1000])
    ap.add_argument("--overlap", type=float, default=1 / 6, help="overlap as a share of the chunk size")
    ap.add_argument("--queries", type=int, default=50, help="questions timed for query latency")
    ap.add_argument("--threads", type=int, default=0,
                    help="torch threads (0: torch's default; 1 is much faster on an oversubscribed machine)")
    args = ap.parse_args()
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)

    embedder = get_embedder()
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
