"""`make lab` starts JupyterLab on 127.0.0.1: check the server it runs answers, then stop it."""

import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_jupyterlab_serves_the_start_notebook(tmp_path):
    port = free_port()
    jupyter = Path(sys.executable).parent / "jupyter"
    proc = subprocess.Popen([str(jupyter), "lab", "--ip", "127.0.0.1", "--port", str(port), "--no-browser",
                             "--IdentityProvider.token=t0ken", "--allow-root", f"--ServerApp.root_dir={ROOT}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**__import__("os").environ, "JUPYTER_RUNTIME_DIR": str(tmp_path)})
    try:
        url = f"http://127.0.0.1:{port}/api/contents/notebooks/00_start_here.ipynb?token=t0ken&content=0"
        deadline = time.time() + 60
        while True:
            try:
                with urllib.request.urlopen(url, timeout=2) as r:
                    assert r.status == 200
                    assert b'"type": "notebook"' in r.read().replace(b'"type":"notebook"', b'"type": "notebook"')
                    break
            except (OSError, urllib.error.URLError):
                if time.time() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.5)
        req = urllib.request.Request(f"http://127.0.0.1:{port}/lab/tree/notebooks/00_start_here.ipynb",
                                     headers={"Authorization": "token t0ken"})
        with urllib.request.urlopen(req, timeout=5) as r:
            assert r.status == 200 and b"JupyterLab" in r.read()
    finally:
        proc.terminate()
        proc.wait(timeout=20)
