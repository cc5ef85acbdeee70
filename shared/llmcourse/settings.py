"""Settings and API keys: read from the environment and the course's one `.env` (see `env_file()`).

Keys are only ever shown masked:

>>> mask("sk-proj-" + "x" * 32 + "9f2c")
'sk-proj-…9f2c'

`key_problems()` catches the mistakes students really make (quotes or spaces around the key,
a pasted long dash or curly quote, a misspelt variable name, one provider's key under another's
name) and says which key and what to do.
"""

from __future__ import annotations

import difflib
import os
import re
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from . import errors as _errors
from .errors import KeyProblem

# provider -> the environment variables that may hold its key (first found wins)
KEY_NAMES: dict[str, tuple[str, ...]] = {
    "openai": ("OPENAI_API_KEY",),
    "anthropic": ("ANTHROPIC_API_KEY",),
    "gemini": ("GOOGLE_API_KEY", "GEMINI_API_KEY"),
    "deepseek": ("DEEPSEEK_API_KEY",),
    "groq": ("GROQ_API_KEY",),
    "perplexity": ("PERPLEXITY_API_KEY",),
    "openrouter": ("OPENROUTER_API_KEY",),
    "cohere": ("COHERE_API_KEY",),
}
FRONTIER = ("openai", "anthropic", "gemini")

# provider -> (prefix its keys start with, a readable name); used to spot a key under the wrong name
KEY_PREFIXES: dict[str, tuple[str, str]] = {
    "anthropic": ("sk-ant-", "Anthropic"),
    "openrouter": ("sk-or-", "OpenRouter"),
    "openai": ("sk-", "OpenAI"),
    "gemini": ("AIza", "Google Gemini"),
    "groq": ("gsk_", "Groq"),
    "perplexity": ("pplx-", "Perplexity"),
}
_PLACEHOLDERS = ("your", "xxxx", "...", "<", "paste", "changeme", "insert")
_BAD_CHARS = {
    "\u2014": "a long dash (—)", "\u2013": "an en dash (–)", "\u2011": "a non-breaking hyphen",
    "\u2018": "a curly quote (‘)", "\u2019": "a curly quote (’)", "\u201c": "a curly quote (“)",
    "\u201d": "a curly quote (”)", "\u00a0": "a non-breaking space", "\u200b": "a zero-width space",
}


def repo_root() -> Path:
    """The course repository: the folder above `shared/llmcourse`, else the nearest with a `.git`."""
    here = Path(__file__).resolve().parents[2]
    if (here / "pyproject.toml").exists():
        return here
    for p in [Path.cwd(), *Path.cwd().parents]:
        if (p / ".git").exists():
            return p
    return Path.cwd()


def course_root() -> Path | None:
    """The course checkout this package was installed from (editable install), else None."""
    here = Path(__file__).resolve().parents[2]
    return here if (here / "pyproject.toml").exists() and (here / "shared" / "llmcourse").is_dir() else None


def env_file() -> Path | None:
    """The one `.env` llmcourse reads: LLMCOURSE_ENV_FILE if set, else `<course root>/.env`.

    Never a `.env` found by climbing from the current folder: that could be another project's keys.
    """
    explicit = os.environ.get("LLMCOURSE_ENV_FILE")
    if explicit:
        return Path(explicit).expanduser()
    root = course_root()
    return root / ".env" if root else None


def env_file_candidates() -> list[Path]:
    """Every `.env` that may hold this course's keys (the sandbox hides them from model-written code)."""
    root = course_root()
    found = [p for p in (env_file(), root / ".env" if root else None) if p is not None]
    return [p for p in dict.fromkeys(found) if p.is_file()]


@lru_cache(maxsize=1)
def dotenv_values() -> dict[str, str]:
    """The variables in `env_file()` (empty when absent or when LLMCOURSE_IGNORE_DOTENV is set).

    A byte-order mark or a UTF-16 file (Windows Notepad's "Unicode") is read correctly here; the
    doctor still asks you to re-save it as plain UTF-8.
    """
    if os.environ.get("LLMCOURSE_IGNORE_DOTENV"):
        return {}
    path = env_file()
    if path is None or not path.is_file():
        return {}
    import io

    from dotenv import dotenv_values as _read

    text, _ = read_env_text(path)
    return {k: v for k, v in _read(stream=io.StringIO(text)).items() if v is not None}


def read_env_text(path: Path) -> tuple[str, str]:
    """The text of a `.env` file and the encoding it was saved in ('utf-8', 'utf-8-sig', 'utf-16')."""
    raw = path.read_bytes()
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16"), "utf-16"
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    if raw[:200].count(b"\x00") > len(raw[:200]) // 4:  # UTF-16 without a byte-order mark
        return raw.decode("utf-16-le" if raw[1:2] == b"\x00" else "utf-16-be", errors="replace"), "utf-16"
    return raw.decode("utf-8", errors="replace"), "utf-8"


def env(name: str, default: str | None = None) -> str | None:
    """A setting: the environment first, then `.env`, then `default`. Empty counts as unset."""
    value = os.environ.get(name)
    if value is None or value == "":
        value = dotenv_values().get(name)
    return value if value not in (None, "") else default


def reload() -> None:
    """Forget what was read from `.env` (after you edit it in a running notebook)."""
    dotenv_values.cache_clear()


def cache_dir(*parts: str) -> Path:
    """The user cache folder for models and encodings (LLMCOURSE_CACHE, else ~/.cache/llmcourse)."""
    base = env("LLMCOURSE_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache"), "llmcourse")
    path = Path(base, *parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


def mask(key: str | None) -> str:
    """Show a key safely: its prefix (up to the last dash, at most 8 chars) and last 4 characters."""
    if not key:
        return "(not set)"
    key = key.strip()
    if len(key) < 20:  # too short to show a prefix and 4 characters without giving much away
        return "…" + key[-2:] if len(key) > 8 else "****"
    m = re.match(r"^([A-Za-z]+[-_](?:[A-Za-z]+[-_])?)", key[:8])
    head = m.group(1) if m else key[:3]
    return f"{head}…{key[-4:]}"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a key: `variable`, what is wrong, what to do, and whether it is fatal."""

    variable: str
    problem: str
    fix: str
    fatal: bool = True

    def __str__(self) -> str:
        return f"{self.variable}: {self.problem}. {self.fix}"


def check_key(variable: str, value: str, provider: str | None = None) -> list[Problem]:
    """The problems of one key's value, [] when it looks well-formed."""
    out: list[Problem] = []
    stripped = value.strip()
    if stripped != value:
        out.append(Problem(variable, "has spaces or a line break around it",
                           "Delete them in .env (llmcourse ignores them for now)", fatal=False))
    if len(stripped) >= 2 and stripped[0] in "'\"" and stripped[-1] == stripped[0]:
        out.append(Problem(variable, "is wrapped in quotes inside the value",
                           "Write the key bare, e.g. OPENAI_API_KEY=sk-…, with no quotes"))
    for ch, what in _BAD_CHARS.items():
        if ch in value:
            out.append(Problem(variable, f"contains {what}, which a word processor or chat app pasted in",
                               "Copy the key again straight from the provider's dashboard into .env"))
    if any(ord(c) < 32 or ord(c) == 127 for c in stripped):
        out.append(Problem(variable, "contains a control character (a line break, tab or DEL) inside it",
                           "Copy the key again and paste it on one line in .env; nothing is sent with it"))
    if any(ord(c) > 127 for c in value if c not in _BAD_CHARS):
        out.append(Problem(variable, "contains non-ASCII characters",
                           "API keys are plain ASCII: copy the key again from the provider"))
    low = stripped.lower()
    if any(p in low for p in _PLACEHOLDERS) or len(stripped) < 12:
        out.append(Problem(variable, "looks like a placeholder, not a real key",
                           "Paste your real key from the provider's dashboard"))
    if provider:
        owner = _owner_of(stripped.strip("'\""))
        expected = KEY_PREFIXES.get(provider)
        if owner and owner != provider and not (provider == "deepseek" and owner == "openai"):
            out.append(Problem(variable, f"holds what looks like a {KEY_PREFIXES[owner][1]} key",
                               f"Put it under {KEY_NAMES[owner][0]} instead, and your "
                               f"{provider} key under {variable}"))
        elif expected and not owner and not out:
            out.append(Problem(variable, f"does not start with {expected[0]!r} as {expected[1]} keys do",
                               "Check that you copied the whole key", fatal=False))
    return out


def _owner_of(key: str) -> str | None:
    for provider, (prefix, _) in KEY_PREFIXES.items():  # ordered: sk-ant-/sk-or- before sk-
        if key.startswith(prefix):
            return provider
    return None


def _known_names() -> set[str]:
    return {n for names in KEY_NAMES.values() for n in names}


def misspelt_names() -> list[Problem]:
    """Variables that look like a misspelt key name (OPEN_API_KEY, ANTHROPIC_KEY, ...)."""
    known = _known_names()
    seen = set(os.environ) | set(dotenv_values())
    out = []
    for name in sorted(seen - known):
        upper = name.upper()
        if "KEY" not in upper or not (env(name) or "").strip():
            continue
        close = difflib.get_close_matches(upper, sorted(known), n=1, cutoff=0.75)
        if close:
            out.append(Problem(name, f"is not a name llmcourse reads (did you mean {close[0]}?)",
                               f"Rename it to {close[0]} in .env"))
    return out


def key_problems() -> list[Problem]:
    """Every problem with every key in the environment or `.env`, misspellings included."""
    out = misspelt_names()
    for provider, names in KEY_NAMES.items():
        for name in names:
            value = env(name)
            if value:
                out.extend(check_key(name, value, provider))
    return out


def _find(provider: str) -> tuple[str, str] | None:
    if provider not in KEY_NAMES:
        return None
    for name in KEY_NAMES[provider]:
        value = env(name)
        if value and value.strip():
            return name, value
    return None


def api_key(provider: str) -> str:
    """The key for `provider`, cleaned of surrounding spaces; raises KeyProblem if absent or malformed."""
    found = _find(provider)
    if found is None:
        names = " or ".join(KEY_NAMES.get(provider, (f"{provider.upper()}_API_KEY",)))
        raise KeyProblem(f"No key for {provider}: set {names} in {env_file() or 'a .env named by LLMCOURSE_ENV_FILE'} "
                         f"(see .env.example), or use model='local' which needs none.")
    name, value = found
    problems = check_key(name, value, provider)
    fatal = [p for p in problems if p.fatal]
    if fatal:
        raise KeyProblem(f"{fatal[0]} (the key is {mask(value.strip())})")
    for p in problems:
        warnings.warn(str(p), stacklevel=3)
    return value.strip()


def has_key(provider: str) -> bool:
    """True when `provider` needs no key (local, ollama, vllm) or has a well-formed one."""
    if provider not in KEY_NAMES:
        return True
    found = _find(provider)
    return bool(found) and not any(p.fatal for p in check_key(found[0], found[1], provider))


def available_providers() -> list[str]:
    """Providers with a usable key, frontier ones first."""
    return [p for p in KEY_NAMES if _find(p) and has_key(p)]


# provider -> what its keys look like; scrub() masks these in every error we show, and the repo-hygiene
# test refuses them in committed files. Cohere keys have no prefix: caught when assigned to a key name.
KEY_PATTERNS: dict[str, str] = {
    "openai": r"sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,}",
    "anthropic": r"sk-ant-[A-Za-z0-9_\-]{20,}",
    "gemini": r"AIza[0-9A-Za-z_\-]{30,}",
    "deepseek": r"sk-[a-f0-9]{32}",
    "groq": r"gsk_[A-Za-z0-9]{20,}",
    "perplexity": r"pplx-[A-Za-z0-9]{20,}",
    "openrouter": r"sk-or-(?:v1-)?[A-Za-z0-9]{20,}",
    "cohere": r"(?i:co_?here[A-Z_]*KEY)[\"']?\s*[:=]\s*[\"']?[A-Za-z0-9]{30,}",
    "huggingface": r"hf_[A-Za-z0-9]{20,}",
    "xai": r"xai-[A-Za-z0-9]{20,}",
}
# shorter bodies than the hygiene patterns: an error message may carry a truncated key
_KEY_SHAPES = re.compile(r"(?:sk-ant-|sk-or-|sk-proj-|sk-|AIza|gsk_|pplx-|hf_|xai-)[A-Za-z0-9_\-]{8,}")
_SECRET_NAME = re.compile(r"(?:API_KEY|_TOKEN|_SECRET|ACCESS_KEY)$")


def _configured_secrets() -> list[str]:
    names = {n for names in KEY_NAMES.values() for n in names}
    names |= {n for n in (*os.environ, *dotenv_values()) if _SECRET_NAME.search(n.upper())}
    values = {(env(n) or "").strip() for n in names}
    return sorted((v for v in values if len(v) >= 8), key=len, reverse=True)


def scrub(text: str) -> str:
    """`text` with every configured key's value and every key-shaped string replaced by its mask."""
    text = str(text)
    for value in _configured_secrets():
        if value in text:
            text = text.replace(value, mask(value))
        for part in value.splitlines():  # a key with a line break may be quoted in pieces
            if len(part) >= 12 and part in text:
                text = text.replace(part, mask(part))
    return _KEY_SHAPES.sub(lambda m: mask(m.group(0)), text)


_errors._scrub = scrub  # every LLMCourseError's message goes through scrub() (see errors.py)


# ----------------------------------------------------------------------------- checks the doctor reports
_LOOPBACK = ("localhost", "127.0.0.1", "::1", "[::1]")


def env_file_problems() -> list[Problem]:
    """A missing LLMCOURSE_ENV_FILE, a `.env` saved with a BOM or as UTF-16, malformed lines (by number),
    and a `.env` in the current folder that llmcourse does not read."""
    out: list[Problem] = []
    path = env_file()
    explicit = os.environ.get("LLMCOURSE_ENV_FILE")
    if explicit and not (path and path.is_file()):
        out.append(Problem("LLMCOURSE_ENV_FILE", f"names {explicit}, which does not exist",
                           "Fix the path, or unset LLMCOURSE_ENV_FILE to use the course's own .env"))
    if path and path.is_file():
        text, encoding = read_env_text(path)
        if encoding != "utf-8":
            what = "as UTF-16 (Notepad's 'Unicode')" if encoding == "utf-16" else "with a byte-order mark"
            out.append(Problem(str(path), f"is saved {what}", "Save it again as UTF-8 (in VS Code: the "
                               "encoding in the status bar, then 'Save with Encoding', UTF-8)", fatal=False))
        out.extend(_malformed_lines(path, text))
    stray = Path.cwd() / ".env"
    if stray.is_file() and (path is None or stray.resolve() != path.resolve()):
        out.append(Problem(str(stray), "is not read by llmcourse (only the course's .env is, so another "
                           "project's keys are never picked up)",
                           f"Move its keys into {path or 'the course folder/.env'}, or set LLMCOURSE_ENV_FILE",
                           fatal=False))
    return out


def _malformed_lines(path: Path, text: str) -> list[Problem]:
    import io

    from dotenv.parser import parse_stream

    out = []
    for binding in parse_stream(io.StringIO(text)):
        raw = binding.original.string  # starts with the blank lines before it
        line, src = binding.original.line + raw[:len(raw) - len(raw.lstrip())].count("\n"), raw.strip()
        if binding.error:
            out.append(Problem(f"{path.name} line {line}", "is not NAME=value, so nothing on it is read",
                               "Write it as NAME=value (no spaces around the name), or start it with #"))
        elif binding.key and binding.value is None and src and not src.startswith("#"):
            out.append(Problem(f"{path.name} line {line}", f"names {binding.key} without '=' and a value",
                               f"Write {binding.key}=<value>, or delete the line"))
    return out


def base_url_problems() -> list[Problem]:
    """Every *_BASE_URL override (requests, and keys, go there); a key sent over plain http is a warning."""
    from urllib.parse import urlparse

    out = []
    names = sorted({n for n in (*os.environ, *dotenv_values()) if n.upper().endswith("_BASE_URL") and env(n)})
    for name in names:
        url = env(name) or ""
        provider = next((p for p in KEY_NAMES if name.upper().startswith(p.upper())
                         or (p == "gemini" and name.upper().startswith("GOOGLE"))), None)
        parsed = urlparse(url.strip())
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            out.append(Problem(name, f"is {url!r}, not a URL", "Write it as https://host/path, or unset it"))
            continue
        key_set = bool(provider and _find(provider))
        if parsed.scheme == "http" and parsed.hostname not in _LOOPBACK:
            out.append(Problem(name, f"sends requests{' and your ' + provider + ' key' if key_set else ''} "
                               f"over plain http to {parsed.hostname}",
                               "Use https://, or unset it to talk to the provider directly", fatal=key_set))
        else:
            out.append(Problem(name, f"overrides where {provider or 'its client'} requests go: {url}",
                               "Fine if you meant it (a local gateway or proxy); unset it otherwise",
                               fatal=False))
    return out


def google_key_conflict() -> list[Problem]:
    """GOOGLE_API_KEY and GEMINI_API_KEY both set to different values: say which one is used."""
    google, gemini = (env("GOOGLE_API_KEY") or "").strip(), (env("GEMINI_API_KEY") or "").strip()
    if google and gemini and google != gemini:
        return [Problem("GEMINI_API_KEY", f"({mask(gemini)}) differs from GOOGLE_API_KEY ({mask(google)}); "
                        "google-genai and llmcourse use GOOGLE_API_KEY",
                        "Keep one of the two names in .env and delete the other", fatal=False)]
    return []


def settings_problems() -> list[Problem]:
    """Everything the doctor checks about keys and settings, fatal problems first."""
    found = env_file_problems() + key_problems() + google_key_conflict() + base_url_problems()
    return sorted(found, key=lambda p: not p.fatal)
