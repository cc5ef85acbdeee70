"""week2_speech/web_speech.html in headless Chromium: it loads with no console errors, labels recognition
as needing the network, and shows its fallback message where the Web Speech API is absent."""

from pathlib import Path

PAGE = (Path(__file__).resolve().parents[1] / "week2_speech" / "web_speech.html").as_uri()
NO_SPEECH_API = """
delete window.SpeechRecognition; delete window.webkitSpeechRecognition;
Object.defineProperty(window, 'webkitSpeechRecognition', {value: undefined});
Object.defineProperty(window, 'SpeechRecognition', {value: undefined});
"""


def open_page(page, init_script=None):
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    if init_script:
        page.add_init_script(init_script)
    page.goto(PAGE)
    page.wait_for_function("() => document.getElementById('status').textContent.startsWith('Ready')")
    return errors


def test_fallback_message_when_the_api_is_absent():
    from browser import browser_page

    with browser_page() as page:
        errors = open_page(page, NO_SPEECH_API)
        assert page.locator("#recognition-fallback").is_visible()
        assert not page.locator("#recognition-ui").is_visible()
        assert "not available in this browser" in page.locator("#recognition-fallback").inner_text()
        assert "no speech recognition here" in page.locator("#status").inner_text()
        assert errors == []


def test_page_matches_what_the_browser_offers_and_warns_about_the_network():
    from browser import browser_page

    with browser_page() as page:
        errors = open_page(page)
        has_api = page.evaluate("() => !!(window.SpeechRecognition || window.webkitSpeechRecognition)")
        assert page.locator("#recognition-ui").is_visible() == has_api
        assert page.locator("#recognition-fallback").is_visible() == (not has_api)
        note = page.locator("#network-note").inner_text()
        assert "network access" in note and "Google's servers" in note and "not an open-source model" in note
        assert errors == []
