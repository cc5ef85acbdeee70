"""Run model-written Python in a separate, locked-down process, never in the notebook's kernel.

>>> r = run_python("def add(a, b):\\n    return a + b", tests="assert add(2, 3) == 5")
>>> r.passed, r.reason  # doctest: +SKIP
(True, 'ok')

What the child gets (each layer is used where this machine allows it; `result.isolation` and
`isolation()` say which ones were really in force, so nothing is claimed that did not happen):

- `python -I` (no user site, no PYTHON* variables) with an environment that holds no keys;
- a fresh temporary working directory, deleted afterwards;
- limits on CPU time, address space (memory), processes, file size and output size, plus a wall clock;
- on Linux with user namespaces (`unshare`): no network (a new, empty network namespace), its own
  process tree (everything it started dies with it), its own /proc (it cannot read our environment),
  every file system read-only except its folder, and the course's `.env` hidden.

The exit reason is one of ok / error / timeout / memory / killed.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from functools import lru_cache

REASONS = ("ok", "error", "timeout", "memory", "killed")
_NOBODY = 65534
_UNSHARE = ["--user", "--map-root-user", "--net", "--mount", "--pid", "--fork", "--kill-child",
            "--mount-proc"]


@dataclass
class SandboxResult:
    """What happened to one run: `passed`, `reason`, the (capped) `stdout`/`stderr`, and a one-line `message`."""

    passed: bool
    reason: str
    stdout: str
    stderr: str
    message: str
    duration: float
    returncode: int | None
    isolation: dict = field(default_factory=dict)

    @property
    def network_isolated(self) -> bool:
        """True when the code ran with no network at all (a new, empty network namespace)."""
        return bool(self.isolation.get("network"))

    @property
    def error(self) -> str:
        """The last line of the traceback (e.g. 'AssertionError: ...'), '' when it passed."""
        lines = [ln for ln in self.stderr.strip().splitlines() if ln.strip()]
        return "" if self.passed or not lines else lines[-1].strip()

    def __str__(self) -> str:
        return f"{'PASSED' if self.passed else 'FAILED'} ({self.reason}, {self.duration:.2f} s): {self.message}"


# ----------------------------------------------------------------------------- what this machine allows
@lru_cache(maxsize=1)
def _unshare() -> str | None:
    """The unshare command when it can make user+network+mount+pid namespaces here, else None."""
    exe = shutil.which("unshare")
    if not exe or not sys.platform.startswith("linux"):
        return None
    try:
        kw = {"user": _NOBODY, "group": _NOBODY, "extra_groups": []} if _can_drop() else {}
        ok = subprocess.run([exe, *_UNSHARE, "true"], capture_output=True, timeout=10, **kw).returncode == 0
    except (OSError, subprocess.SubprocessError):
        ok = False
    return exe if ok else None


@lru_cache(maxsize=1)
def _can_drop() -> bool:
    """As root: can the interpreter run as `nobody`? (Root ignores the process-count limit.)"""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return False
    try:
        return subprocess.run([sys.executable, "-I", "-c", "pass"], capture_output=True, timeout=30,
                              user=_NOBODY, group=_NOBODY, extra_groups=[]).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def _pids_cgroup_root() -> str | None:
    """A writable cgroup folder with a pids controller (v1, or v2 with pids delegated), else None."""
    if os.path.isfile("/sys/fs/cgroup/pids/pids.max") or os.path.isfile("/sys/fs/cgroup/pids/cgroup.procs"):
        return "/sys/fs/cgroup/pids" if os.access("/sys/fs/cgroup/pids", os.W_OK) else None
    try:
        with open("/proc/self/cgroup") as f:
            own = next((ln.split(":", 2)[2].strip() for ln in f if ln.startswith("0::")), None)
        base = "/sys/fs/cgroup" + (own if own and own != "/" else "")
        with open(os.path.join(base, "cgroup.subtree_control")) as f:
            delegated = "pids" in f.read().split()
    except (OSError, StopIteration):
        return None
    return base if delegated and os.access(base, os.W_OK) else None


def isolation() -> dict:
    """Which protections `run_python` can apply on this machine, with a note on each one that is missing."""
    ns = _unshare() is not None
    resource_ok = _has_resource()
    root = hasattr(os, "geteuid") and os.geteuid() == 0
    procs = resource_ok and (not root or _can_drop() or _pids_cgroup_root() is not None)
    notes = []
    if not ns:
        notes.append("no user namespaces here (unshare missing or refused): the code can reach the "
                     "network and write wherever your user can; run untrusted code on Linux")
    if not procs:
        notes.append("the number of processes is not limited here (root without a pids cgroup, or no "
                     "`resource` module): a fork bomb is stopped only by the wall-clock timeout")
    return {"network": ns, "filesystem": ns, "process_tree": ns, "processes": procs,
            "memory": resource_ok and sys.platform.startswith("linux"), "notes": notes}


def _has_resource() -> bool:
    try:
        import resource  # noqa: F401  (absent on Windows)
    except ImportError:
        return False
    return True


# ----------------------------------------------------------------------------- the parent side
def run_python(code: str, *, tests: str | list[str] | None = None, timeout: float = 10.0,
               memory_mb: int = 512, max_output: int = 100_000, max_processes: int = 32,
               max_file_mb: int = 16, hide_files: tuple[str, ...] = ()) -> SandboxResult:
    """Run `code`, then `tests` (assert statements, or HumanEval's `check(...)` call), in a sandbox.

    `passed` is True only when both ran to the end; a timeout, a memory error, too much output, an
    escape attempt that the sandbox stops, or the code exiting before its tests all count as failures.
    Never raises for anything the code does; never hangs longer than about `timeout` + 2 seconds.
    """
    if isinstance(tests, (list, tuple)):
        tests = "\n".join(tests)
    if not isinstance(code, str) or (tests is not None and not isinstance(tests, str)):
        raise TypeError("run_python(code, tests=...) takes the code and the tests as strings "
                        "(tests may also be a list of strings)")
    info = isolation()
    workdir = tempfile.mkdtemp(prefix="llmcourse-sandbox-")
    try:
        return _run(code, tests, workdir, info, timeout=timeout, memory_mb=memory_mb,
                    max_output=max_output, max_processes=max_processes, max_file_mb=max_file_mb,
                    hide_files=hide_files)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _secret_files(extra: tuple[str, ...]) -> list[str]:
    """The course's .env (and LLMCOURSE_ENV_FILE): hidden from the child where a mount namespace allows."""
    paths = list(extra)
    try:
        from . import settings
        paths += [str(p) for p in settings.env_file_candidates()]
    except Exception:  # noqa: BLE001  (settings trouble must not stop the sandbox)
        pass
    return sorted({os.path.realpath(p) for p in paths if os.path.isfile(p)})


def _child_env(workdir: str) -> dict:
    return {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": workdir, "TMPDIR": workdir,
            "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "OMP_NUM_THREADS": "1", "PYTHONIOENCODING": "utf-8"}


def _run(code, tests, workdir, info, *, timeout, memory_mb, max_output, max_processes, max_file_mb,
         hide_files) -> SandboxResult:
    nonce = secrets.token_hex(16)
    unshare, drop = _unshare(), _can_drop()
    limits = {"cpu": int(timeout) + 1, "memory_mb": memory_mb, "file_mb": max_file_mb,
              "processes": max_processes}
    job = {"code": code, "tests": tests, "nonce": nonce, "workdir": workdir, "limits": limits,
           "namespaces": unshare is not None, "hide": _secret_files(hide_files) if unshare else []}
    cmd = [sys.executable, "-I", os.path.abspath(__file__)]
    if unshare:
        cmd = [unshare, *_UNSHARE, *cmd]
    cgroup = _make_cgroup(max_processes) if _is_root() and not drop else None
    if cgroup:  # join the group before anything else runs (no preexec_fn: run_python may run in threads)
        cmd = ["/bin/sh", "-c", 'echo $$ > "$0/cgroup.procs" && exec "$@"', cgroup, *cmd]
    kw = {"user": _NOBODY, "group": _NOBODY, "extra_groups": []} if drop else {}
    if drop:
        os.chown(workdir, _NOBODY, _NOBODY)
    if os.name == "posix":
        status_r, status_w = os.pipe()
        job["status_fd"], kw["pass_fds"] = status_w, (status_w,)
    else:  # Windows: a status file outside the working folder
        status_file = workdir + ".status"
        job["status_path"] = status_file
    start = time.monotonic()
    try:
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                cwd=workdir, env=_child_env(workdir), start_new_session=True, **kw)
    except OSError as exc:
        _remove_cgroup(cgroup)
        return SandboxResult(False, "killed", "", str(exc), f"could not start the sandbox: {exc}",
                             0.0, None, info)
    finally:
        if os.name == "posix":
            os.close(status_w)
    out = _Drain(proc, max_output)
    try:
        proc.stdin.write(json.dumps(job).encode())
        proc.stdin.close()
    except OSError:
        pass
    timed_out = False
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        _kill(proc)
    out.join()
    if os.name == "posix":
        status = _read_status(status_r, nonce)
    else:
        status = _read_status_file(status_file, nonce)
    _remove_cgroup(cgroup)
    duration = time.monotonic() - start
    reason, message = _classify(proc.returncode, status, timed_out, out, limits, timeout)
    return SandboxResult(reason == "ok", reason, out.text("stdout"), out.text("stderr"), message,
                         duration, proc.returncode, info)


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def _set_limits(limits: dict) -> None:
    """Hard and soft limits alike: the code cannot raise them again."""
    try:
        import resource
    except ImportError:  # Windows: only the wall clock and the output cap apply
        return

    def cap(which, value):
        try:
            resource.setrlimit(which, (value, value))
        except (ValueError, OSError):
            pass

    cap(resource.RLIMIT_CPU, limits["cpu"])
    cap(resource.RLIMIT_FSIZE, limits["file_mb"] * 1024 * 1024)
    cap(resource.RLIMIT_CORE, 0)
    cap(resource.RLIMIT_NPROC, limits["processes"])
    if sys.platform.startswith("linux"):  # macOS ignores RLIMIT_AS; setting it can even fail there
        cap(resource.RLIMIT_AS, limits["memory_mb"] * 1024 * 1024)


def _make_cgroup(max_processes: int) -> str | None:
    base = _pids_cgroup_root()
    if not base:
        return None
    path = os.path.join(base, f"llmcourse-sandbox-{os.getpid()}-{secrets.token_hex(4)}")
    try:
        os.mkdir(path)
        with open(os.path.join(path, "pids.max"), "w") as f:
            f.write(str(max_processes))
        return path
    except OSError:
        _remove_cgroup(path)
        return None


def _remove_cgroup(path: str | None) -> None:
    if not path:
        return
    for _ in range(50):  # the killed processes leave the group a moment after they die
        try:
            os.rmdir(path)
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.02)


def _kill(proc: subprocess.Popen) -> None:
    """Kill the child's whole session (with namespaces, its pid-1 dies and takes every process along)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (AttributeError, ProcessLookupError, PermissionError):  # no killpg on Windows
        pass
    try:
        proc.kill()
    except ProcessLookupError:
        pass
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass


class _Drain:
    """Read stdout and stderr in threads, keep the first `limit` bytes of each, kill the child past it."""

    def __init__(self, proc: subprocess.Popen, limit: int):
        self.proc, self.limit, self.overflow = proc, limit, False
        self.data = {"stdout": bytearray(), "stderr": bytearray()}
        self.threads = [threading.Thread(target=self._read, args=(name, getattr(proc, name)), daemon=True)
                        for name in self.data]
        for t in self.threads:
            t.start()

    def _read(self, name, stream):
        buf = self.data[name]
        while True:
            try:
                chunk = stream.read1(65536)
            except (OSError, ValueError):
                return
            if not chunk:
                return
            room = self.limit - len(buf)
            if room > 0:
                buf += chunk[:room]
            if len(chunk) > room and not self.overflow:
                self.overflow = True
                _kill(self.proc)

    def join(self):
        for t in self.threads:
            t.join(timeout=2)  # a grandchild that escaped (no namespaces) may still hold the pipe
        for name in self.data:
            try:
                getattr(self.proc, name).close()
            except OSError:
                pass

    def text(self, name):
        text = bytes(self.data[name]).decode("utf-8", errors="replace")
        if self.overflow and len(self.data[name]) >= self.limit:
            text += f"\n[output cut at {self.limit:,} bytes]"
        return text


def _read_status(fd: int, nonce: str) -> dict | None:
    """The runner's last status line, trusted only if it carries this run's nonce."""
    os.set_blocking(fd, False)
    chunks = []
    try:
        while True:
            try:
                chunk = os.read(fd, 65536)
            except BlockingIOError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(fd)
    for line in reversed(b"".join(chunks).decode("utf-8", "replace").splitlines()):
        try:
            status = json.loads(line)
        except ValueError:
            continue
        if isinstance(status, dict) and status.get("nonce") == nonce:
            return status
    return None


def _read_status_file(path: str, nonce: str) -> dict | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = f.read().splitlines()
        os.unlink(path)
    except OSError:
        return None
    for line in reversed(lines):
        try:
            status = json.loads(line)
        except ValueError:
            continue
        if isinstance(status, dict) and status.get("nonce") == nonce:
            return status
    return None


def _classify(rc, status, timed_out, out, limits, timeout) -> tuple[str, str]:
    if out.overflow:
        return "killed", f"printed more than {out.limit:,} bytes of output; stopped"
    if timed_out:
        return "timeout", f"still running after {timeout:g} s; stopped"
    sig = -rc if rc is not None and rc < 0 else (rc - 128 if rc and rc > 128 else None)
    if sig == getattr(signal, "SIGXCPU", None):
        return "timeout", f"used more than {limits['cpu']} s of CPU time; stopped"
    if sig == getattr(signal, "SIGXFSZ", None):
        return "killed", f"wrote a file larger than {limits['file_mb']} MB; stopped"
    if status is not None:
        outcome = status.get("outcome")
        if outcome == "ok" and rc == 0:
            return "ok", "ran to the end" + (" and the tests passed" if status.get("tests") else "")
        if outcome == "memory":
            return "memory", f"ran out of memory (limit {limits['memory_mb']} MB)"
        if outcome == "error":
            where = "the tests" if status.get("stage") == "tests" else "the code"
            return "error", f"{where} raised {status.get('error', 'an error')}"
        if outcome == "exit":
            return "error", f"{status.get('stage', 'the code')} called exit({status.get('code')}) " \
                            "before the tests finished"
    if sig is not None and rc < 0:
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
        return "killed", f"killed by {name}"
    if rc == 0:
        return "error", "exited before the tests finished (os._exit or similar)"
    return "error", f"exited with code {rc} before finishing"


# ----------------------------------------------------------------------------- the child side
def _lock_filesystem(workdir: str, hide: list[str]) -> None:
    """Inside our own mount namespace: every mount read-only except `workdir`; secret files hidden."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    libc.mount.argtypes = [ctypes.c_char_p] * 3 + [ctypes.c_ulong, ctypes.c_void_p]
    ms_rdonly, ms_remount, ms_bind, ms_rec = 1, 32, 4096, 16384
    keep = 2 | 4 | 8 | 1024 | 2048 | 4096  # nosuid nodev noexec noatime nodiratime relatime (locked flags)

    def mount(src, target, flags):
        return libc.mount(src and src.encode(), target.encode(), None, flags, None)

    if mount(workdir, workdir, ms_bind | ms_rec) != 0:
        raise OSError(ctypes.get_errno(), "bind-mounting the sandbox folder failed")
    for path in hide:
        mount("/dev/null", path, ms_bind)
    with open("/proc/self/mountinfo") as f:
        points = [_unescape(line.split()[4]) for line in f]
    for point in points:
        if point == workdir or point in hide:
            continue
        try:
            flags = os.statvfs(point).f_flag & keep
        except OSError:
            continue
        mount(None, point, ms_remount | ms_bind | ms_rdonly | flags)
    probe = os.path.join("/", ".llmcourse-sandbox-probe")
    try:
        open(probe, "w").close()
        os.unlink(probe)
        raise OSError("the root file system is still writable")
    except OSError as exc:
        if "still writable" in str(exc):
            raise


def _unescape(text: str) -> str:
    return text.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\")


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass


def _child_main() -> None:  # runs as `python -I sandbox.py`, reads its job from stdin
    job = json.loads(sys.stdin.read())
    nonce = job.pop("nonce")
    if "status_fd" in job:
        status_fd = job.pop("status_fd")
    else:
        status_fd = os.open(job.pop("status_path"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)

    def report(**status):
        os.write(status_fd, (json.dumps({"nonce": nonce, **status}) + "\n").encode())

    if job["namespaces"]:
        try:
            _lock_filesystem(job["workdir"], job["hide"])
        except OSError as exc:
            report(outcome="error", stage="setup", error=f"sandbox setup: {exc}")
            sys.stderr.write(f"sandbox setup failed: {exc}\n")
            os._exit(70)
    _set_limits(job["limits"])
    os.chdir(job["workdir"])
    code, tests = job["code"], job["tests"]
    namespace = {"__name__": "solution", "__builtins__": __builtins__}
    for stage, source in (("code", code), ("tests", tests)):
        if source is None:
            continue
        try:
            exec(compile(source, f"<{stage}>", "exec"), namespace)  # noqa: S102  (this IS the sandbox)
        except SystemExit as exc:
            _flush()
            report(outcome="exit", stage=stage, code=exc.code if isinstance(exc.code, int) else 1)
            os._exit(1)
        except MemoryError:
            _flush()
            report(outcome="memory", stage=stage)
            sys.stderr.write("MemoryError\n")
            os._exit(1)
        except BaseException as exc:  # noqa: BLE001
            import traceback
            _flush()
            traceback.print_exception(type(exc), exc, exc.__traceback__.tb_next)  # from the code's frame on
            first = (str(exc).splitlines() or [""])[0][:300]
            report(outcome="error", stage=stage, error=f"{type(exc).__name__}: {first}".rstrip(": "))
            _flush()
            os._exit(1)
    _flush()
    report(outcome="ok", tests=tests is not None)
    os._exit(0)


if __name__ == "__main__":
    _child_main()
