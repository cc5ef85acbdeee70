"""Print the package sources pip is configured with as uv flags, so `make setup`'s uv installs from the
same places pip would (uv reads no pip.conf and no PIP_* variable).

    $ python3 scripts/pip_sources.py
    --extra-index-url file:///opt/pypi/simple --find-links /opt/wheels --index-strategy unsafe-best-match

Reads `pip config list` (files and PIP_* variables; a variable wins over a file, as in pip) for
index-url, extra-index-url and find-links. A `file:` source or folder that does not exist is left out:
pip only warns about those, uv would stop. Prints nothing when pip is missing or configures no source.
Standard library only: it runs before any venv exists.
"""

from __future__ import annotations

import ast
import shlex
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlparse

FLAGS = {"index-url": "--index-url", "extra-index-url": "--extra-index-url", "find-links": "--find-links"}


def configured(listing: str) -> dict[str, list[str]]:
    """`pip config list` output -> {option: values}; the environment (`:env:.`) wins over any file."""
    found: dict[str, tuple[bool, list[str]]] = {}
    for line in listing.splitlines():
        key, sep, raw = line.partition("=")
        option = key.rsplit(".", 1)[-1]
        if not sep or option not in FLAGS:
            continue
        try:
            value = ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            value = raw
        from_env = key.startswith(":env:")
        if option not in found or from_env or not found[option][0]:
            found[option] = (from_env, str(value).split())
    return {option: values for option, (_, values) in found.items()}


def exists(source: str) -> bool:
    """A URL is taken as given; a local folder or `file:` URL only when it is there."""
    parsed = urlparse(source)
    if parsed.scheme in ("http", "https"):
        return True
    path = unquote(parsed.path) if parsed.scheme == "file" else source
    return Path(path).exists()


def flags(options: dict[str, list[str]]) -> list[str]:
    out: list[str] = []
    for option, flag in FLAGS.items():
        values = [v for v in options.get(option, []) if exists(v)]
        if option == "index-url":
            values = values[:1]
        for value in values:
            out += [flag, value]
    if any(flag == "--extra-index-url" for flag in out):
        out += ["--index-strategy", "unsafe-best-match"]  # pip's way: the best version from any index
    return out


def main() -> int:
    try:
        done = subprocess.run([sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True,
                              timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return 0
    if done.returncode == 0:
        print(shlex.join(flags(configured(done.stdout))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
