"""Command line: `python -m llmcourse doctor [--ping] | prepare | models | serve`."""

from __future__ import annotations

import argparse
import os
import sys

from .errors import LLMCourseError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m llmcourse", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    doc = sub.add_parser("doctor", help="check Python, packages, keys, local model, Ollama, GPU")
    doc.add_argument("--ping", action="store_true",
                     help="also make one tiny real call (a few tokens) per provider with a key")
    prep = sub.add_parser("prepare", help="build the offline caches (tiktoken, local model)")
    prep.add_argument("--clean", action="store_true", help="delete and rebuild the caches")
    sub.add_parser("models", help="print the model registry")
    srv = sub.add_parser("serve", help="run the keyless OpenAI/Anthropic/Gemini gateway on the local model")
    srv.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1, this machine only)")
    srv.add_argument("--port", type=int, default=8000, help="port (default: 8000; 0 picks a free one)")
    srv.add_argument("--api-key", default=None,
                     help="require this key on every request (needed to bind anything but 127.0.0.1); "
                          "or set LLMCOURSE_GATEWAY_KEY")
    args = parser.parse_args(argv)

    if args.command == "doctor":
        from .doctor import ping, run
        code = run()
        if args.ping:
            print()
            code = max(code, 1 if ping() else 0)
        return code
    if args.command == "prepare":
        from .engine import prepare
        from .tokens import seed_tiktoken_cache
        print(f"tiktoken encodings: {seed_tiktoken_cache()}")
        print(f"local model: {prepare(force=args.clean)}")
        return 0
    if args.command == "models":
        from .registry import checked_on, models_table
        import pandas as pd
        with pd.option_context("display.max_rows", None, "display.width", 200):
            print(models_table())
        print(f"(prices in USD per million tokens, checked {checked_on()})")
        return 0
    if args.command == "serve":
        from .gateway import serve
        try:
            serve(host=args.host, port=args.port,
                  api_key=args.api_key or os.environ.get("LLMCOURSE_GATEWAY_KEY") or None)
        except KeyboardInterrupt:
            pass
        except LLMCourseError as exc:
            print(f"llmcourse serve: {exc}", file=sys.stderr)
            return 2
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
