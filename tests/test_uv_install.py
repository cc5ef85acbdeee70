"""`make setup` installs with uv from the sources pip is configured with (scripts/uv_install.py)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("uv_install", ROOT / "scripts" / "uv_install.py")
uv_install = importlib.util.module_from_spec(spec)
spec.loader.exec_module(uv_install)


def test_the_environment_wins_then_install_then_global_and_other_sections_are_left_out(tmp_path):
    wheels, other, constraints = tmp_path / "wheels", tmp_path / "other", tmp_path / "c.txt"
    wheels.mkdir()
    other.mkdir()
    constraints.write_text("torch<=3\n")
    listing = "\n".join([
        f":env:.find-links='{wheels}'",
        f"global.find-links='{other}'",
        "install.index-url='https://install.example/simple'",
        "global.index-url='https://global.example/simple'",
        f"global.extra-index-url='file://{tmp_path}/missing https://mirror.example/simple'",
        "wheel.find-links='/somewhere/for/pip/wheel'",
        f"global.constraint='{constraints}'",
        "global.trusted-host='mirror.example'",
        "global.cert='/etc/ssl/certs/company.pem'",
    ])
    flags, env = uv_install.flags(uv_install.configured(listing))
    assert flags == ["--index-url", "https://install.example/simple",
                     "--extra-index-url", "https://mirror.example/simple",
                     "--find-links", str(wheels),
                     "--constraint", str(constraints),
                     "--allow-insecure-host", "mirror.example",
                     "--index-strategy", "unsafe-best-match"]
    assert env == {"SSL_CERT_FILE": "/etc/ssl/certs/company.pem"}


def test_no_index_is_kept_and_no_configuration_means_pypi():
    flags, _ = uv_install.flags(uv_install.configured(f"global.no-index='true'\nglobal.find-links='{ROOT}'\n"))
    assert flags == ["--no-index", "--find-links", str(ROOT)]
    assert uv_install.flags({}) == ([], {})


def test_the_wheelhouse_reads_no_configuration_and_passwords_are_masked(tmp_path):
    cmd, env = uv_install.command(["-r", "requirements.txt"], wheelhouse=str(tmp_path),
                                  options={"index-url": ["https://me:s3cret@private.example/simple"]})
    assert cmd[-5:] == ["--no-index", "--find-links", str(tmp_path), "-r", "requirements.txt"] and env == {}
    cmd, _ = uv_install.command(["uv"], options={"index-url": ["https://me:s3cret@private.example/simple"]})
    shown = uv_install.masked(cmd)
    assert "s3cret" not in shown and "https://me:***@private.example/simple" in shown
    assert cmd[cmd.index("--python") + 1] == sys.executable


def test_the_script_reads_pips_own_configuration(tmp_path):
    """A config file given to pip reaches uv's command line, as the script prints it before uv runs."""
    conf = tmp_path / "pip.conf"
    conf.write_text(f"[install]\nfind-links = {tmp_path}\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env.update(PIP_CONFIG_FILE=str(conf), HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path),
               XDG_CONFIG_DIRS=str(tmp_path))
    code = (f"import runpy; m = runpy.run_path({str(ROOT / 'scripts' / 'uv_install.py')!r}); "
            f"print(m['masked'](m['command'](['--dry-run'])[0]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert f"--find-links {tmp_path}" in out.stdout


def test_the_courses_commands_let_python_write_bytecode():
    """make's recipes run without PYTHONDONTWRITEBYTECODE, so each module is compiled once, on first import,
    instead of in every notebook kernel (uv installs no bytecode)."""
    out = subprocess.run(["make", "-s", "--no-print-directory", "--eval", 'probe: ; @echo "[$$PYTHONDONTWRITEBYTECODE]"',
                          "probe"], cwd=ROOT, capture_output=True, text=True,
                         env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"), check=True).stdout
    assert out.strip() == "[]"
