import subprocess
import sys


def test_doctor_reports_environment_and_masks_keys(monkeypatch):
    key = "sk-proj-" + "Q" * 36 + "9f2c"
    env = {"PATH": "/usr/bin:/bin", "HOME": "/root", "HF_HUB_OFFLINE": "1", "OPENAI_API_KEY": key,
           "OPEN_API_KEY": key, "LLMCOURSE_IGNORE_DOTENV": "1"}
    import os
    env["HOME"] = os.environ.get("HOME", "/root")
    out = subprocess.run([sys.executable, "-m", "llmcourse", "doctor"], capture_output=True, text=True,
                         env=env, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    text = out.stdout
    for word in ["Python", "torch", "transformers", "Local model", "Ollama", "Accelerator"]:
        assert word in text
    assert "sk-proj-…9f2c" in text and key not in text
    assert "OPEN_API_KEY" in text and "did you mean OPENAI_API_KEY" in text


def test_doctor_is_fatal_only_without_core(monkeypatch):
    from llmcourse import doctor

    lines = []
    assert doctor.run(out=lines.append) == 0
    monkeypatch.setattr(doctor, "_version", lambda pkg: None)
    lines.clear()
    assert doctor.run(out=lines.append) == 1
    assert any("FATAL" in l for l in lines)


def test_ping_reports_works_rejected_quota_missing_model_and_unreachable(monkeypatch):
    """Real SDK clients over loopback HTTP: one stub server answers each provider differently."""
    from llmcourse import doctor, providers, settings

    from loopback_stub import Stub

    stub = Stub()
    try:
        for var, value in {"OPENAI_API_KEY": "sk-proj-" + "F" * 40, "ANTHROPIC_API_KEY": "sk-ant-api03-" + "F" * 40,
                           "GEMINI_API_KEY": "AIza" + "F" * 35, "GROQ_API_KEY": "gsk_" + "F" * 40,
                           "DEEPSEEK_API_KEY": "sk-" + "F" * 40, "OPENAI_BASE_URL": stub.url + "/v1",
                           "ANTHROPIC_BASE_URL": stub.url, "GOOGLE_GEMINI_BASE_URL": stub.url,
                           "GROQ_BASE_URL": stub.url + "/v1", "DEEPSEEK_BASE_URL": "http://127.0.0.1:9/v1"}.items():
            monkeypatch.setenv(var, value)
        settings.reload()
        providers.reset()
        ok = {"id": "c", "object": "chat.completion", "created": 1, "model": "m", "choices": [{"index": 0,
              "finish_reason": "stop", "message": {"role": "assistant", "content": "OK"}}],
              "usage": {"prompt_tokens": 14, "completion_tokens": 1, "total_tokens": 15}}
        stub.queue((200, ok),
                   (401, {"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}}),
                   (429, {"error": {"code": 429, "message": "You exceeded your current quota",
                                    "status": "RESOURCE_EXHAUSTED"}}),
                   (404, {"error": {"message": "The model does not exist", "type": "invalid_request_error",
                                    "code": "model_not_found", "param": None}}))
        lines = []
        failed = doctor.ping(out=lines.append, providers=["openai", "anthropic", "gemini", "groq", "deepseek"])
    finally:
        stub.close()
    text = "\n".join(lines)
    row = {p: next(l for l in lines if l.strip().startswith(p)) for p in ("openai", "anthropic", "gemini", "groq",
                                                                           "deepseek")}
    assert "works: 'OK'" in row["openai"] and "cost $" in row["openai"] and "at most $" in row["openai"]
    assert "rejected" in row["anthropic"] and "out of quota" in row["gemini"]
    assert "model not available" in row["groq"] and "unreachable" in row["deepseek"]
    assert failed == 4 and len(stub.requests) == 4          # one request per reachable key, no retries
    assert "F" * 20 not in text


def test_ping_without_keys_says_so():
    from llmcourse import doctor

    lines = []
    assert doctor.ping(out=lines.append) == 0 and "no key set" in lines[0]
