import re

import pytest

from llmcourse import settings
from llmcourse.errors import KeyProblem

GOOD_OPENAI = "sk-proj-" + "a1B2c3D4" * 5 + "9f2c"
GOOD_ANTHROPIC = "sk-ant-api03-" + "Zy9x" * 10 + "1234"


def test_mask_shows_prefix_and_last_four_only():
    masked = settings.mask(GOOD_OPENAI)
    assert masked == "sk-proj-…9f2c"
    assert GOOD_OPENAI[10:30] not in masked
    assert settings.mask(None) == "(not set)"


def test_good_key_has_no_problems():
    assert settings.check_key("OPENAI_API_KEY", GOOD_OPENAI, "openai") == []


@pytest.mark.parametrize("value, words", [
    (f'"{GOOD_OPENAI}"', "quotes"),
    (GOOD_OPENAI[:12] + "\u2014" + GOOD_OPENAI[12:], "long dash"),
    ("\u201c" + GOOD_OPENAI + "\u201d", "curly quote"),
    ("your-key-here", "placeholder"),
])
def test_typical_paste_mistakes_are_named(value, words):
    problems = settings.check_key("OPENAI_API_KEY", value, "openai")
    assert any(words in p.problem for p in problems), problems
    assert all(p.variable == "OPENAI_API_KEY" for p in problems)


def test_spaces_around_key_are_forgiven_with_a_warning(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "  " + GOOD_OPENAI + " ")
    with pytest.warns(UserWarning, match="spaces"):
        assert settings.api_key("openai") == GOOD_OPENAI


def test_anthropic_key_under_openai_name_is_spotted(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", GOOD_ANTHROPIC)
    with pytest.raises(KeyProblem, match="Anthropic key.*ANTHROPIC_API_KEY") as err:
        settings.api_key("openai")
    assert GOOD_ANTHROPIC not in str(err.value)  # never shown whole
    assert not settings.has_key("openai")


def test_misspelt_variable_is_spotted(monkeypatch):
    monkeypatch.setenv("OPEN_API_KEY", GOOD_OPENAI)
    problems = settings.key_problems()
    assert any(p.variable == "OPEN_API_KEY" and "OPENAI_API_KEY" in p.problem for p in problems)


def test_missing_key_says_where_to_put_it():
    with pytest.raises(KeyProblem, match=r"OPENAI_API_KEY.*\.env"):
        settings.api_key("openai")


def test_gemini_accepts_either_name(monkeypatch):
    key = "AIza" + "Q" * 35
    monkeypatch.setenv("GEMINI_API_KEY", key)
    assert settings.api_key("gemini") == key
    assert "gemini" in settings.available_providers()


def test_dotenv_is_read_and_environment_wins(tmp_path, monkeypatch):
    (tmp_path / ".env").write_text(f"OPENAI_API_KEY={GOOD_OPENAI}\nLLMCOURSE_MODEL=local\n")
    monkeypatch.delenv("LLMCOURSE_IGNORE_DOTENV")
    monkeypatch.setenv("LLMCOURSE_ENV_FILE", str(tmp_path / ".env"))
    settings.reload()
    try:
        assert settings.api_key("openai") == GOOD_OPENAI
        monkeypatch.setenv("LLMCOURSE_MODEL", "fast")
        assert settings.env("LLMCOURSE_MODEL") == "fast"
    finally:
        monkeypatch.setenv("LLMCOURSE_IGNORE_DOTENV", "1")
        settings.reload()


def test_cache_dir_honours_setting(tmp_path, monkeypatch):
    monkeypatch.setenv("LLMCOURSE_CACHE", str(tmp_path / "c"))
    assert settings.cache_dir("x") == tmp_path / "c" / "x"
    assert (tmp_path / "c" / "x").is_dir()


# ----------------------------------------------------------------------------- hardening (issue 9)
@pytest.fixture
def dotenv(tmp_path, monkeypatch):
    """Write bytes to a .env that llmcourse reads (via LLMCOURSE_ENV_FILE); undone afterwards."""
    path = tmp_path / "course.env"
    monkeypatch.delenv("LLMCOURSE_IGNORE_DOTENV")
    monkeypatch.setenv("LLMCOURSE_ENV_FILE", str(path))

    def write(data: bytes):
        path.write_bytes(data)
        settings.reload()
        return path

    yield write
    monkeypatch.setenv("LLMCOURSE_IGNORE_DOTENV", "1")
    settings.reload()


@pytest.mark.parametrize("bad", ["\n", "\r", "\t", "\x7f", "\x1b"])
def test_control_character_inside_a_key_is_fatal_and_not_shown(monkeypatch, bad):
    key = GOOD_OPENAI[:20] + bad + GOOD_OPENAI[20:]
    monkeypatch.setenv("OPENAI_API_KEY", key)
    with pytest.raises(KeyProblem, match="control character") as err:
        settings.api_key("openai")
    assert GOOD_OPENAI[:20] not in str(err.value) and GOOD_OPENAI[20:] not in str(err.value)
    assert not settings.has_key("openai") and "openai" not in settings.available_providers()


def test_trailing_line_break_is_still_forgiven(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", GOOD_OPENAI + "\n")
    with pytest.warns(UserWarning):
        assert settings.api_key("openai") == GOOD_OPENAI


KEYS = {  # one made-up key per provider in the registry, built at run time (never written out whole)
    "openai": "sk-proj-" + "Ab3" * 15, "anthropic": "sk-ant-api03-" + "Zy9x" * 10, "gemini": "AIza" + "Q1" * 18,
    "deepseek": "sk-" + "ab12" * 8, "groq": "gsk_" + "Gq7" * 12, "perplexity": "pplx-" + "Pp4" * 12,
    "openrouter": "sk-or-v1-" + "0f" * 24, "huggingface": "hf_" + "Hf5" * 12, "xai": "xai-" + "Xa6" * 12,
}


@pytest.mark.parametrize("provider", sorted(KEYS))
def test_scrub_masks_every_providers_key_shape(provider):
    key = KEYS[provider]
    text = f"Illegal header value b'Bearer {key}' while calling the API"
    out = settings.scrub(text)
    assert key not in out and key[-4:] in out and "Illegal header value" in out
    assert re.fullmatch(settings.KEY_PATTERNS[provider], key)


def test_scrub_masks_configured_values_without_a_known_shape(monkeypatch):
    cohere = "Co" + "h3r" * 12
    monkeypatch.setenv("COHERE_API_KEY", cohere)
    monkeypatch.setenv("SOME_SERVICE_TOKEN", "tok" + "9z" * 10)
    out = settings.scrub(f"refused {cohere} and {'tok' + '9z' * 10}")
    assert cohere not in out and "9z9z9z9z9z" not in out


def test_scrub_catches_the_pieces_of_a_key_with_a_line_break(monkeypatch):
    key = "Co" + "h3r" * 8 + "\n" + "Zq" * 10
    monkeypatch.setenv("COHERE_API_KEY", key)
    out = settings.scrub("header value 'Bearer " + key.replace("\n", "\\n") + "'")
    assert "h3rh3rh3r" not in out and "ZqZqZqZq" not in out


def test_env_in_the_current_folder_is_not_read(tmp_path, monkeypatch):
    (tmp_path / ".git").mkdir()
    (tmp_path / ".env").write_text(f"OPENAI_API_KEY={GOOD_OPENAI}\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LLMCOURSE_IGNORE_DOTENV")
    monkeypatch.delenv("LLMCOURSE_ENV_FILE", raising=False)
    settings.reload()
    try:
        assert settings.env_file() != tmp_path / ".env"
        assert settings.env("OPENAI_API_KEY") is None
        stray = [p for p in settings.env_file_problems() if p.variable == str(tmp_path / ".env")]
        assert stray and "not read" in stray[0].problem
    finally:
        monkeypatch.setenv("LLMCOURSE_IGNORE_DOTENV", "1")
        settings.reload()


@pytest.mark.parametrize("encoding, words", [("utf-8-sig", "byte-order mark"), ("utf-16", "UTF-16")])
def test_bom_and_utf16_env_files_are_read_and_reported(dotenv, encoding, words):
    path = dotenv(f"OPENAI_API_KEY={GOOD_OPENAI}\n".encode(encoding))
    assert settings.api_key("openai") == GOOD_OPENAI
    problems = [p for p in settings.env_file_problems() if p.variable == str(path)]
    assert len(problems) == 1 and words in problems[0].problem and not problems[0].fatal


def test_malformed_env_lines_are_reported_by_number(dotenv):
    dotenv(f"# keys\nOPENAI_API_KEY={GOOD_OPENAI}\nthis line is wrong\n\nGROQ_API_KEY\n".encode())
    problems = {p.variable: p for p in settings.env_file_problems()}
    assert set(problems) == {"course.env line 3", "course.env line 5"}
    assert "GROQ_API_KEY" in problems["course.env line 5"].problem
    assert settings.api_key("openai") == GOOD_OPENAI  # the good lines are still read


def test_missing_explicit_env_file_is_fatal(monkeypatch, tmp_path):
    monkeypatch.setenv("LLMCOURSE_ENV_FILE", str(tmp_path / "nope.env"))
    assert any(p.variable == "LLMCOURSE_ENV_FILE" and p.fatal for p in settings.env_file_problems())


@pytest.mark.parametrize("url, fatal, words", [
    ("http://proxy.example.com/v1", True, "plain http"),
    ("https://proxy.example.com/v1", False, "overrides"),
    ("http://127.0.0.1:8000/v1", False, "overrides"),
    ("proxy.example.com", True, "not a URL"),
])
def test_base_url_overrides_are_reported(monkeypatch, url, fatal, words):
    monkeypatch.setenv("OPENAI_API_KEY", GOOD_OPENAI)
    monkeypatch.setenv("OPENAI_BASE_URL", url)
    (problem,) = [p for p in settings.base_url_problems() if p.variable == "OPENAI_BASE_URL"]
    assert words in problem.problem and problem.fatal is fatal


def test_two_different_google_keys_say_which_is_used(monkeypatch):
    monkeypatch.setenv("GOOGLE_API_KEY", "AIza" + "A" * 35)
    monkeypatch.setenv("GEMINI_API_KEY", "AIza" + "B" * 35)
    (problem,) = settings.google_key_conflict()
    assert "use GOOGLE_API_KEY" in problem.problem and "A" * 20 not in problem.problem
    assert settings.api_key("gemini") == "AIza" + "A" * 35  # and llmcourse agrees with google-genai
    monkeypatch.setenv("GEMINI_API_KEY", "AIza" + "A" * 35)
    assert settings.google_key_conflict() == []


def test_settings_problems_put_fatal_first(monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", "https://proxy.example.com")
    monkeypatch.setenv("OPENAI_API_KEY", "'" + GOOD_OPENAI + "'")
    found = settings.settings_problems()
    assert found[0].fatal and not found[-1].fatal


def test_every_llmcourse_error_masks_keys_in_its_message(monkeypatch):
    from llmcourse.errors import AuthenticationError, LLMCourseError, ProviderError

    cohere = "Co" + "h3r" * 12
    monkeypatch.setenv("COHERE_API_KEY", cohere)
    leaked = f"Illegal header value b'Bearer {GOOD_OPENAI}\\n' (also {cohere})"
    for exc in (LLMCourseError(leaked), KeyProblem(leaked),
                ProviderError(leaked, provider="openai", model="gpt-x", status=None),
                AuthenticationError(leaked, provider="openai", model="gpt-x", status=401)):
        shown = f"{exc} {exc!r} {exc.args}"
        assert GOOD_OPENAI not in shown and cohere not in shown and "Illegal header value" in shown
        assert GOOD_OPENAI[-4:] in shown  # masked, not deleted: still recognisable


def test_doctor_reports_the_settings_checks(monkeypatch, capsys):
    from llmcourse import doctor

    monkeypatch.setenv("OPENAI_API_KEY", GOOD_OPENAI)
    monkeypatch.setenv("OPENAI_BASE_URL", "http://proxy.example.com/v1")
    monkeypatch.setenv("GOOGLE_API_KEY", "AIza" + "A" * 35)
    monkeypatch.setenv("GEMINI_API_KEY", "AIza" + "B" * 35)
    lines = []
    doctor.run(out=lines.append)
    report = "\n".join(lines)
    assert "OPENAI_BASE_URL" in report and "plain http" in report and "use GOOGLE_API_KEY" in report
    assert GOOD_OPENAI not in report
