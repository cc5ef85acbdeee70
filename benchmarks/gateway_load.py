"""Drive the local gateway with N concurrent clients and print what a server operator looks at.

    python benchmarks/gateway_load.py                      # starts a gateway in this process
    python benchmarks/gateway_load.py --clients 16 --seconds 30
    python benchmarks/gateway_load.py --url http://127.0.0.1:8000   # a running `make serve`

Each client loops for `--seconds`: mostly short chat completions (a quarter of them streamed), a
few hostile bodies (which must get a 4xx), and a `/v1/models` probe (which must stay fast while
generation is busy). Prints throughput, p50/p95 latency per kind, how many requests were turned
away with 429/503 (admission control working), 5xx count and dropped connections (targets: 0, 0).

Bounded on purpose: at most 64 clients and 300 seconds, loopback addresses only.
"""

from __future__ import annotations

import argparse
import random
import threading
import time
from collections import Counter, defaultdict
from urllib.parse import urlparse

MAX_CLIENTS, MAX_SECONDS = 64, 300
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
PROMPTS = ["Say hello.", "Name a colour.", "What is 2 + 2?", "Give one word for happy.", "Name a fruit."]
HOSTILE = [b"{", b"[]", b'{"model": 5, "messages": "x"}', b'{"messages": [{"role": "user"}]}',
           b'{"model": "local", "messages": [{"role": "user", "content": "hi"}], "max_tokens": -1}',
           b'{"model": "local", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 100000000}']


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", help="a running gateway (loopback only); default: start one here")
    ap.add_argument("--clients", type=int, default=8, help=f"concurrent clients (max {MAX_CLIENTS})")
    ap.add_argument("--seconds", type=float, default=20, help=f"how long to drive it (max {MAX_SECONDS})")
    ap.add_argument("--max-tokens", type=int, default=16, help="max_tokens of each completion")
    ap.add_argument("--api-key", default="local", help="sent as the bearer key")
    args = ap.parse_args()
    if not 1 <= args.clients <= MAX_CLIENTS or not 0 < args.seconds <= MAX_SECONDS:
        ap.error(f"--clients must be 1..{MAX_CLIENTS} and --seconds 1..{MAX_SECONDS}")
    if args.url and urlparse(args.url).hostname not in LOOPBACK:
        ap.error("this benchmark only drives a gateway on a loopback address")
    return args


class Tally:
    def __init__(self):
        self.lock = threading.Lock()
        self.latency = defaultdict(list)   # kind -> seconds of successful requests
        self.status = Counter()            # (kind, status) -> count
        self.dropped = Counter()           # kind -> transport errors (connection reset, timeout)

    def add(self, kind, status, seconds):
        with self.lock:
            self.status[(kind, status)] += 1
            if status < 400 or (kind == "hostile" and status < 500):
                self.latency[kind].append(seconds)

    def drop(self, kind, exc):
        with self.lock:
            self.dropped[f"{kind} ({type(exc).__name__})"] += 1


def one_request(client, kind, max_tokens):
    if kind == "models":
        return client.get("/v1/models").status_code
    if kind == "hostile":
        return client.post("/v1/chat/completions", content=random.choice(HOSTILE),
                           headers={"content-type": "application/json"}).status_code
    body = {"model": "local", "messages": [{"role": "user", "content": random.choice(PROMPTS)}],
            "max_tokens": max_tokens, "temperature": 0}
    if kind == "stream":
        with client.stream("POST", "/v1/chat/completions", json={**body, "stream": True}) as resp:
            for _ in resp.iter_lines():
                pass
            return resp.status_code
    return client.post("/v1/chat/completions", json=body).status_code


def client_loop(url, api_key, deadline, max_tokens, tally, seed):
    import httpx

    rng = random.Random(seed)
    with httpx.Client(base_url=url, timeout=120, headers={"authorization": f"Bearer {api_key}"}) as client:
        while time.monotonic() < deadline:
            kind = rng.choices(["chat", "stream", "hostile", "models"], weights=[6, 2, 1, 1])[0]
            start = time.perf_counter()
            try:
                status = one_request(client, kind, max_tokens)
            except Exception as exc:  # noqa: BLE001  (a dropped connection is a result here)
                tally.drop(kind, exc)
                continue
            tally.add(kind, status, time.perf_counter() - start)
            if status in (429, 503):
                time.sleep(0.05 + rng.random() * 0.1)  # a polite client backs off a little


def percentile(values, q):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def report(tally, seconds, clients):
    print(f"\n{clients} clients for {seconds:.0f} s")
    print(f"{'kind':<9}{'ok':>6}{'4xx':>6}{'429/503':>9}{'5xx':>6}{'p50 s':>8}{'p95 s':>8}")
    for kind in ("chat", "stream", "hostile", "models"):
        counts = {s: n for (k, s), n in tally.status.items() if k == kind}
        ok = sum(n for s, n in counts.items() if s < 400)
        busy = sum(n for s, n in counts.items() if s in (429, 503))
        c4 = sum(n for s, n in counts.items() if 400 <= s < 500 and s != 429)
        c5 = sum(n for s, n in counts.items() if s >= 500 and s != 503)
        lat = tally.latency[kind]
        print(f"{kind:<9}{ok:>6}{c4:>6}{busy:>9}{c5:>6}{percentile(lat, .5):>8.2f}{percentile(lat, .95):>8.2f}")
    done = sum(n for (k, s), n in tally.status.items() if k in ("chat", "stream") and s < 400)
    fivexx = sum(n for (k, s), n in tally.status.items() if s >= 500 and s != 503)
    busy = sum(n for (k, s), n in tally.status.items() if s in (429, 503))
    dropped = sum(tally.dropped.values())
    print(f"\nthroughput: {done / seconds:.2f} completions/s ({done} in {seconds:.0f} s)")
    print(f"turned away with 429/503: {busy}   5xx: {fivexx} (target 0)   dropped connections: {dropped} (target 0)")
    for what, n in sorted(tally.dropped.items()):
        print(f"  dropped: {what} x{n}")
    if tally.latency["models"]:
        print(f"/v1/models under load: p95 {percentile(tally.latency['models'], .95) * 1000:.0f} ms")
    return fivexx, dropped


def main():
    args = parse_args()
    gateway = None
    if args.url:
        url = args.url.rstrip("/")
    else:
        from llmcourse.gateway import start

        gateway = start(port=0, preload=True)
        url = gateway.url
    print(f"driving {url} (measured on a shared machine: take the figures as orders of magnitude)")
    tally, deadline = Tally(), time.monotonic() + args.seconds
    threads = [threading.Thread(target=client_loop, args=(url, args.api_key, deadline, args.max_tokens, tally, i),
                                daemon=True) for i in range(args.clients)]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=args.seconds + 180)
    elapsed = time.monotonic() - start
    fivexx, dropped = report(tally, elapsed, args.clients)
    if gateway:
        gateway.stop()
    raise SystemExit(1 if fivexx or dropped else 0)


if __name__ == "__main__":
    main()
