"""The OzML playground in headless Chromium: the Basic IVR example on a real call to the simulator's handset."""

from __future__ import annotations

import io
import wave
from pathlib import Path

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.web.conftest import console_errors, fetch, save_screenshot

BASIC_IVR = (Path(__file__).resolve().parents[1] / "ozml" / "data" / "basic_ivr.xml").read_text()


def _set_script(browser, text: str) -> None:
    box = browser.find_element(By.ID, "ozml")
    browser.execute_script("arguments[0].value = arguments[1]", box, text)


def _transcript(browser) -> list[str]:
    return [li.text for li in browser.find_elements(By.CSS_SELECTOR, "#transcript li")]


def test_basic_ivr_speaks_its_prompts_and_answers_a_key(daemon_factory, browser, tmp_path):
    d = daemon_factory()
    browser.get(d.base + "/playground")
    wait = WebDriverWait(browser, 20)
    wait.until(lambda b: b.find_element(By.ID, "live").text == "live")
    _set_script(browser, BASIC_IVR)
    browser.find_element(By.ID, "run").click()
    wait.until(lambda b: "spoke: Welcome to the Ozeki Phone System IVR." in _transcript(b))
    wait.until(lambda b: "spoke: To send an SMS, press 1." in _transcript(b))
    assert browser.find_element(By.ID, "call-state").text == "active"
    browser.find_element(By.ID, "key-2").click()
    wait.until(lambda b: "spoke: You pressed button 2. You did nothing." in _transcript(b))
    lines = _transcript(browser)
    assert lines.index("pressed 2") < lines.index("spoke: You pressed button 2. You did nothing.")
    save_screenshot(browser, tmp_path, "playground.png")

    # What the handset heard is speech, served as a WAV for the page's player.
    status, headers, body = fetch(d.base + "/playground/audio.wav")
    assert status == 200 and headers["Content-Type"] == "audio/wav"
    with wave.open(io.BytesIO(body)) as w:
        assert w.getframerate() == 8000 and w.getnframes() / 8000 > 2.0
    browser.find_element(By.ID, "hangup").click()
    wait.until(lambda b: b.find_element(By.ID, "call-state").text == "ended")
    assert console_errors(browser) == []


def test_lint_errors_show_at_their_line_and_column_and_nothing_is_called(daemon_factory, browser):
    d = daemon_factory()
    browser.get(d.base + "/playground")
    wait = WebDriverWait(browser, 10)
    wait.until(lambda b: b.find_element(By.ID, "live").text == "live")
    _set_script(browser, "<Response>\n  <Speak>hi</Speak>\n  <Bogus/>\n</Response>")
    browser.find_element(By.ID, "run").click()
    problem = wait.until(lambda b: b.find_element(By.CSS_SELECTOR, "#problems .problem"))
    assert (problem.get_attribute("data-line"), problem.get_attribute("data-column")) == ("3", "3")
    assert "line 3, column 3" in problem.text and "Bogus" in problem.text
    assert browser.find_element(By.ID, "call-state").text == "none"
    assert console_errors(browser) == []
