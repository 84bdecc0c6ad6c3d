"""The dashboard in headless Chromium against a real daemon on the simulator."""

from __future__ import annotations

from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.web.conftest import console_errors, get_json, quote, save_screenshot, until

HANDSET = "+15551230001"


def test_page_shows_the_modem_and_an_sms_sent_from_the_form_turns_delivered_live(daemon_factory, browser, tmp_path):
    d = daemon_factory()
    # The line comes up in the background; until then ModemCommand has no modem to ask.
    assert until(lambda: get_json(f"{d.base}/v1/status")["lines"][0]["state"] == "registered", timeout=15)
    # The simulated modem's own answer to AT+CSQ, asked through the API: what the page must show.
    csq = d.call("ModemCommand", AtCommand="AT+CSQ").find("Modem/Response")
    rssi = int(csq.split(":")[1].split(",")[0])
    percent = round(rssi * 100 / 31)
    status = until(lambda: (s := get_json(f"{d.base}/v1/status"))["lines"][0]["signal_percent"] is not None and s)
    assert status["lines"][0]["signal_percent"] == percent

    browser.get(d.base + "/")
    wait = WebDriverWait(browser, 10)
    signal = wait.until(lambda b: b.find_element(By.CSS_SELECTOR, "#modems .signal-value"))
    assert signal.text.startswith(f"{percent}%")
    bars = browser.find_elements(By.CSS_SELECTOR, "#modems .bars i.on")
    assert len(bars) == status["lines"][0]["signal_bars"] > 0
    assert "registered" in browser.find_element(By.CSS_SELECTOR, "#modems h3").text
    wait.until(lambda b: b.find_element(By.ID, "live").text == "live")

    browser.execute_script("window.__sameDocument = 'yes'")  # gone if anything reloads the page
    browser.find_element(By.ID, "send-recipient").send_keys(HANDSET)
    browser.find_element(By.ID, "send-text").send_keys("Hello from the dashboard")
    browser.find_element(By.ID, "send-button").click()
    result = wait.until(lambda b: b.find_element(By.ID, "send-result").get_attribute("data-sms"))
    inbox = until(lambda: get_json(f"{d.base}/sim/handsets/{quote(HANDSET)}/inbox"))
    assert [m["text"] for m in inbox] == ["Hello from the dashboard"]
    state = WebDriverWait(browser, 10).until(lambda b: b.find_element(
        By.CSS_SELECTOR, f'tr[data-sms="{result}"] .sms-state[data-state="delivered"]'))
    assert "delivered" in state.text
    assert browser.execute_script("return window.__sameDocument") == "yes"
    assert browser.find_element(By.CSS_SELECTOR, f'tr[data-sms="{result}"] .part').text == "1: sent / delivered"

    assert console_errors(browser) == []
    save_screenshot(browser, tmp_path, "dashboard.png")


def test_page_is_readable_on_a_phone(daemon_factory, browser):
    d = daemon_factory()
    browser.set_window_size(390, 844)
    browser.get(d.base + "/")
    WebDriverWait(browser, 10).until(lambda b: b.find_element(By.CSS_SELECTOR, "#modems .signal-value"))
    # One column, nothing wider than the screen.
    width = browser.execute_script("return document.documentElement.scrollWidth")
    inner = browser.execute_script("return window.innerWidth")
    assert width <= inner
    cards = browser.find_elements(By.CSS_SELECTOR, "main > .card")
    lefts = {round(c.rect["x"]) for c in cards}
    assert len(lefts) == 1
    assert console_errors(browser) == []


def _cells(browser, xpath: str) -> list[str] | None:
    """The texts of the cells `xpath` finds, read at once (None when none, or when a redraw replaced them)."""
    try:
        return [c.text for c in browser.find_elements(By.XPATH, xpath)] or None
    except StaleElementReferenceException:
        return None


def test_webhook_log_shows_the_post_and_its_answer_code(daemon_factory, browser):
    from tests.notify.webapp import Reply, WebApp

    app = WebApp()
    app.route("/sms", Reply(200, b"", delay=1.0))  # slow to answer: the queue shows the SMS's hook first
    app.start()
    try:
        d = daemon_factory(f'[notifications]\nincoming_sms_url = "{app.url("/sms")}"\nallow = ["127.0.0.0/8"]\n')
        browser.get(d.base + "/")
        WebDriverWait(browser, 10).until(lambda b: b.find_element(By.ID, "live").text == "live")
        get_json(f"{d.base}/sim/handsets/{quote(HANDSET)}/sms", data=b"text=Hi+box")
        # The Posts table, not the queue table beside it: the notification is queued (a row there) before its
        # post is answered, and each live update redraws the section.
        cells = WebDriverWait(browser, 10).until(lambda b: _cells(
            b, "//section[@id='webhooks']//h3[.='Posts']/following-sibling::*[1]//tbody/tr[1]/td"))
        assert cells[1] == "IncomingSMS" and cells[2] == app.url("/sms") and cells[3] == "200", cells
        inbox = " ".join(WebDriverWait(browser, 10).until(lambda b: _cells(
            b, "//section[@id='inbox']//tbody/tr[1]/td")))
        assert "Hi box" in inbox and HANDSET in inbox, inbox
        assert [r.path for r in app.requests] == ["/sms"]
    finally:
        app.stop()
    assert console_errors(browser) == []
