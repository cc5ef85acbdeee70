"""Throughput and latency of the keyless gateway vs the in-process engine, for short chats.

    python benchmarks/gateway.py [--requests 40] [--clients 4] [--max-tokens 16]

Each "client" is a thread sending chats with the official `openai` SDK to the gateway (one process,
one engine, which serves one generation at a time); the baseline calls `get_engine().generate`
directly from the same number of threads. The difference is the cost of HTTP, JSON and the SDK.
Figures from a shared 2-core CPU: read them as orders of magnitude.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "shared"))

PROMPTS = ["What is the capital of France?", "Name a primary colour.", "Say hello in Spanish.",
           "What is 2 + 2?", "Name a planet.", "What colour is the sky?"]


def run(label: str, call, n: int, clients: int) -> dict:
    latencies: list[float] = []

    def one(i: int):
        t = time.perf_counter()
        call(PROMPTS[i % len(PROMPTS)])
        latencies.append(time.perf_counter() - t)

    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(one, range(n)))
    wall = time.perf_counter() - start
    q = statistics.quantiles(latencies, n=20)
    return {"path": label, "requests": n, "req/s": n / wall, "p50 s": statistics.median(latencies), "p95 s": q[18]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--requests", type=int, default=40)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--max-tokens", type=int, default=16)
    args = ap.parse_args(argv)

    import openai

    from llmcourse.engine import get_engine
    from llmcourse.gateway import start

    engine = get_engine()
    gw = start(preload=True)
    client = openai.OpenAI(base_url=gw.url + "/v1", api_key="local", max_retries=0, timeout=600)

    def in_process(prompt):
        engine.generate([{"role": "user", "content": prompt}], max_tokens=args.max_tokens)

    def via_gateway(prompt):
        client.chat.completions.create(model="gpt-4o-mini", max_tokens=args.max_tokens,
                                       messages=[{"role": "user", "content": prompt}])

    via_gateway(PROMPTS[0])   # warm-up: first HTTP connection, first generation
    in_process(PROMPTS[0])
    rows = [run("in-process engine", in_process, args.requests, args.clients),
            run("gateway (openai SDK)", via_gateway, args.requests, args.clients)]
    gw.stop()
    print(f"{args.requests} short chats, {args.clients} concurrent clients, max_tokens={args.max_tokens}, "
          f"{os.cpu_count()} CPUs")
    print(f"{'path':<22} {'req/s':>7} {'p50 s':>7} {'p95 s':>7}")
    for r in rows:
        print(f"{r['path']:<22} {r['req/s']:>7.2f} {r['p50 s']:>7.2f} {r['p95 s']:>7.2f}")
    overhead = rows[1]["p50 s"] - rows[0]["p50 s"]
    print(f"gateway overhead at p50: {overhead * 1000:+.0f} ms per request")
    return 0


if __name__ == "__main__":
    sys.exit(main())
