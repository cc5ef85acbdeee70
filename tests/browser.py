"""Headless Debian Chromium driven by Playwright (no browser download: /usr/bin/chromium), and what the
browser tests share: a screenshot saved under test-artifacts/ (git-ignored) and the font sizes on a page."""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic", "--disable-dev-shm-usage"]
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


def load_app(folder: str):
    """Import `<folder>/app.py` (a week's Gradio app) as a module, without putting its folder on sys.path."""
    import importlib.util

    root = Path(__file__).resolve().parents[1]
    spec = importlib.util.spec_from_file_location(f"{folder}_app", root / folder / "app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@contextlib.contextmanager
def browser_page(*, width: int = 1280, height: int = 900):
    """A fresh Playwright page in headless Chromium; skips (with the install command) if absent."""
    if not shutil.which("chromium"):
        pytest.skip("Debian chromium is not installed: apt-get install -y chromium (.ci/run does this)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            yield page
        finally:
            browser.close()


def choose(page, radio: str, option: str, *, tries: int = 20) -> None:
    """Pick `option` of the Gradio radio with elem_id `radio`, as a student clicks it, and wait until the page shows
    it picked. A click that lands before Gradio has wired the page up is lost (a CI run, 2026-12-04, generated
    rows for the schema the radio still named), so an unpicked option is clicked again, up to `tries` times."""
    from playwright.sync_api import expect

    box = page.locator(f"#{radio} input[type=radio][value='{option}']")
    for _ in range(tries):
        page.locator(f"#{radio} label", has_text=option).first.click()
        try:
            expect(box).to_be_checked(timeout=500)
            return
        except AssertionError:
            continue
    raise AssertionError(f"{option!r} of #{radio} was never shown picked after {tries} clicks")


def screenshot(page, name: str) -> Path:
    """Save a full-page screenshot as test-artifacts/<name>.png and print its path (pytest -s shows it;
    it is also in the captured output of a failing test)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")
    return path


# the computed font sizes (px) of every element under `selector` that shows text of its own
FONT_SIZES_JS = """sel => [...document.querySelectorAll(sel + ' *')]
    .filter(e => [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim()))
    .map(e => parseFloat(getComputedStyle(e).fontSize))"""

# the body text size of a Gradio page: its --body-text-size, resolved to px
BODY_SIZE_JS = """() => { const probe = document.createElement('span');
    probe.style.fontSize = 'var(--body-text-size)';
    document.querySelector('.gradio-container').appendChild(probe);
    const px = parseFloat(getComputedStyle(probe).fontSize); probe.remove(); return px; }"""


def text_sizes(page, selector: str) -> set[float]:
    """The distinct font sizes (px) of the text under `selector`."""
    return set(page.evaluate(FONT_SIZES_JS, selector))


def body_text_size(page) -> float:
    """The page's body text size in px (Gradio's --body-text-size)."""
    return page.evaluate(BODY_SIZE_JS)


def listening_addresses(port: int) -> set[str]:
    """The IP addresses this process listens on at `port` (read from the OS, not from any URL we built)."""
    import psutil

    return {c.laddr.ip for c in psutil.Process().net_connections(kind="inet")
            if c.status == psutil.CONN_LISTEN and c.laddr.port == port}
