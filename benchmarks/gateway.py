"""Throughput and latency of the keyless gateway for 1, 2, 4 and 8 concurrent clients, side by side.

    python benchmarks/gateway.py [--backend onnx|torch] [--requests 16] [--max-tokens 32] [--clients 1,2,4,8]
                                 [--server thread|process]

Each "client" is a thread sending chats with the official `openai` SDK to the gateway (one process,
one engine). With the ONNX backend, requests in flight are decoded together (continuous batching,
llmcourse.providers.local.batching), so more clients get more tokens per second from the same
weight reads; the torch backend serves one generation at a time. Printed per client count:
requests/s, generated tokens/s, p50 and p95 latency, and throughput and p95 relative to 1 client
(issue 15's target at 4 clients: >= 2.5x the throughput, p95 <= 1.5x). Figures from a shared 2-core
CPU: compare within one run.
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
           "What is 2 + 2?", "Name a planet.", "What colour is the sky?", "Describe a cat in one sentence.",
           "Give me a tip for learning Python."]


def run(call, n: int, clients: int) -> dict:
    latencies: list[float] = []
    tokens: list[int] = []

    def one(i: int):
        t = time.perf_counter()
        tokens.append(call(PROMPTS[i % len(PROMPTS)]))
        latencies.append(time.perf_counter() - t)

    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(one, range(n)))
    wall = time.perf_counter() - start
    p95 = statistics.quantiles(latencies, n=20)[18] if len(latencies) > 1 else latencies[0]
    return {"clients": clients, "requests": n, "req/s": n / wall, "tok/s": sum(tokens) / wall,
            "p50 s": statistics.median(latencies), "p95 s": p95}


class ServeProcess:
    """`python -m llmcourse serve` on a free port, in its own process; ready once it answers /v1/models."""

    def __init__(self):
        import socket
        import subprocess
        import urllib.request

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        self.proc = subprocess.Popen([sys.executable, "-m", "llmcourse", "serve", "--port", str(port)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 300
        while time.time() < deadline:
            try:
                urllib.request.urlopen(self.url + "/v1/models", timeout=2)
                return
            except OSError:
                if self.proc.poll() is not None:
                    raise SystemExit("`python -m llmcourse serve` exited before answering")
                time.sleep(0.5)
        raise SystemExit("`python -m llmcourse serve` did not answer within 300 s")

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--backend", choices=["onnx", "torch"], default=None,
                    help="local backend (default: the course's default)")
    ap.add_argument("--requests", type=int, default=16, help="requests per client count")
    ap.add_argument("--clients", default="1,2,4,8")
    ap.add_argument("--max-tokens", type=int, default=32)
    ap.add_argument("--server", choices=["thread", "process"], default="thread",
                    help="the gateway in this process (its threads share the GIL with the clients') or in its "
                         "own process (`python -m llmcourse serve`), as it runs for a class")
    args = ap.parse_args(argv)
    if args.backend:
        os.environ["LLMCOURSE_LOCAL_BACKEND"] = args.backend

    import openai

    from llmcourse.engine import get_engine
    from llmcourse.gateway import start

    engine = get_engine() if args.server == "thread" else None
    gw = start(preload=True) if args.server == "thread" else ServeProcess()
    client = openai.OpenAI(base_url=gw.url + "/v1", api_key="local", max_retries=0, timeout=600)

    def via_gateway(prompt) -> int:
        r = client.chat.completions.create(model="gpt-4o-mini", max_tokens=args.max_tokens,
                                           messages=[{"role": "user", "content": prompt}])
        return r.usage.completion_tokens

    via_gateway(PROMPTS[0])   # warm-up: first HTTP connection, first generation
    rows = []
    for c in [int(x) for x in args.clients.split(",")]:
        rows.append(run(via_gateway, max(args.requests, c), c))
        print(f"  {c} clients done", flush=True)
    gw.stop()
    backend = f"{type(engine).__name__} ({engine.backend})" if engine else "the default, in its own process"
    print(f"\ngateway (openai SDK), backend {backend}, max_tokens="
          f"{args.max_tokens}, {os.cpu_count()} CPUs, OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', '-')}")
    one = rows[0]
    print(f"{'clients':>7} {'req/s':>7} {'tok/s':>7} {'p50 s':>7} {'p95 s':>7} {'x thru':>7} {'x p95':>7}")
    for r in rows:
        print(f"{r['clients']:>7} {r['req/s']:>7.2f} {r['tok/s']:>7.1f} {r['p50 s']:>7.2f} {r['p95 s']:>7.2f} "
              f"{r['tok/s'] / one['tok/s']:>7.2f} {r['p95 s'] / one['p95 s']:>7.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
