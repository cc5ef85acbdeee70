"""`make setup` installs with uv from the sources pip is configured with (scripts/pip_sources.py)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("pip_sources", ROOT / "scripts" / "pip_sources.py")
pip_sources = importlib.util.module_from_spec(spec)
spec.loader.exec_module(pip_sources)


def test_the_environment_wins_and_missing_folders_are_left_out(tmp_path):
    wheels, other = tmp_path / "wheels", tmp_path / "other"
    wheels.mkdir()
    other.mkdir()
    listing = "\n".join([
        f":env:.find-links='{wheels}'",
        "global.cert='/etc/ssl/certs/ca-certificates.crt'",
        f"global.find-links='{other}'",
        f"global.extra-index-url='file://{tmp_path}/missing https://mirror.example/simple'",
        "global.index-url='https://pypi.example/simple'",
    ])
    flags = pip_sources.flags(pip_sources.configured(listing))
    assert flags == ["--index-url", "https://pypi.example/simple",
                     "--extra-index-url", "https://mirror.example/simple",
                     "--find-links", str(wheels),
                     "--index-strategy", "unsafe-best-match"]


def test_no_configuration_means_no_flags_and_uv_uses_its_default_index():
    assert pip_sources.flags(pip_sources.configured("global.cert='/etc/ssl/certs/x.crt'\n")) == []
    assert "--index-strategy" not in pip_sources.flags({"find-links": [str(ROOT)]})


def test_the_script_reads_pip_config_from_a_file_and_the_environment(tmp_path):
    conf = tmp_path / "pip.conf"
    conf.write_text(f"[global]\nfind-links = {tmp_path}\nextra-index-url = file://{tmp_path}\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env["PIP_CONFIG_FILE"] = str(conf)
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "pip_sources.py")], capture_output=True,
                         text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["--extra-index-url", f"file://{tmp_path}", "--find-links", str(tmp_path),
                                  "--index-strategy", "unsafe-best-match"]
