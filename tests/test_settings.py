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
    monkeypatch.setattr(settings, "repo_root", lambda: tmp_path)
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
