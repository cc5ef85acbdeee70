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
