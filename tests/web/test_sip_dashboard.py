"""SIP trunks on the dashboard (headless Chromium), /v1/status, `pigate status`, /metrics and the network LED, for
a daemon whose accounts register at Kamailio: one with the right password, one refused. All must agree."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.sip.conftest import free_sip_port
from tests.sip.kamailio import Kamailio
from tests.support import pigate_env
from tests.web.conftest import console_errors, fetch, get_json, save_screenshot


@pytest.fixture
def kamailio(tmp_path):
    k = Kamailio(workdir=tmp_path, user="alice", password="s3cret")
    k.start()
    yield k
    k.stop()


def _config(k: Kamailio) -> str:
    account = f'registrar = "{k.host}:{k.port}"\nusername = "alice"\n'
    return (f'[sip]\nenabled = true\nlisten = "127.0.0.1"\nport = {free_sip_port()}\n'
            f'[[sip.accounts]]\nname = "pbx"\n{account}password = "s3cret"\n'
            f'[[sip.accounts]]\nname = "typo"\n{account}password = "not-the-password"\n'
            f'[[sip.peers]]\nname = "office"\naddress = "127.0.0.3"\n')


def _rows(browser) -> dict[str, list[str]]:
    """The SIP section's rows, trunk -> its cells' texts, read in one go (the section is redrawn as it changes)."""
    return browser.execute_script(
        "const out = {}; for (const tr of document.querySelectorAll('#sip tr[data-trunk]'))"
        " out[tr.dataset.trunk] = [...tr.querySelectorAll('td')].map(td => td.textContent); return out;")


def _status_screen(d) -> str:
    """`pigate status` on the box (over the daemon's control socket)."""
    env = pigate_env()
    env.pop("PIGATE_URL", None)
    sock = d.workdir / "data" / "control.sock"
    res = subprocess.run([sys.executable, "-m", "pigate", "status", "--socket", str(sock)], env=env,
                         capture_output=True, text=True, timeout=30)
    assert res.returncode == 0, res.stderr
    return res.stdout


def test_the_dashboard_status_and_leds_show_a_registered_and_a_refused_account_alike(daemon_factory, kamailio,
                                                                                     browser, tmp_path):
    d = daemon_factory(_config(kamailio))
    browser.get(d.base + "/")
    wait = WebDriverWait(browser, 15)
    # Live: the page may open before the registrar answered; each row turns as the answers come in.
    row = wait.until(lambda b: (r := _rows(b)) and [r.get(n, [""] * 4)[3] for n in ("pbx", "typo", "office")]
                     == ["registered", "refused", "up"] and r)
    assert row["pbx"] == ["pbx", "account", f"alice@{kamailio.host}:{kamailio.port}", "registered", "none"]
    assert re.fullmatch(r"40[137] .+: wrong username or password", row["typo"][4]), row
    assert row["office"][:4] == ["office", "peer", "127.0.0.3", "up"]
    # A refused account needs a person: the network LED blinks slowly, on the page as on the box.
    led = wait.until(lambda b: b.find_element(By.CSS_SELECTOR, '#led-network[data-pattern="slow"]'))
    assert led.is_displayed()

    status = get_json(f"{d.base}/v1/status")
    assert [(t["name"], t["kind"], t["state"], t["connected"]) for t in status["sip"]] == [
        ("pbx", "account", "registered", True), ("typo", "account", "refused", False), ("office", "peer", "up", True)]
    assert [t["last_error"] for t in status["sip"]] == [None, row["typo"][4], None]
    assert status["leds"]["network"] == "slow"

    screen = _status_screen(d)
    lines = screen.splitlines()
    head = lines.index(next(ln for ln in lines if ln.startswith("SIP TRUNK")))
    assert [ln.split()[:2] + [ln.split(None, 3)[3]] for ln in lines[head + 1:head + 4]] == [
        ["pbx", "account", "registered"], ["typo", "account", "refused"], ["office", "peer", "up"]], screen
    assert f"  typo: {row['typo'][4]}" in lines, screen

    _, _, metrics = fetch(f"{d.base}/metrics")
    text = metrics.decode()
    assert 'pigate_sip_registered{account="pbx"} 1.0' in text and 'pigate_sip_registered{account="typo"} 0.0' in text
    assert console_errors(browser) == []
    save_screenshot(browser, tmp_path, "dashboard-sip.png")


def test_an_account_registering_when_the_page_opens_turns_registered_live(daemon_factory, browser, tmp_path):
    k = Kamailio(workdir=tmp_path, user="alice", password="s3cret")  # its port, not yet running
    try:
        d = daemon_factory(f'[sip]\nenabled = true\nlisten = "127.0.0.1"\nport = {free_sip_port()}\n'
                           f'[[sip.accounts]]\nname = "pbx"\nregistrar = "{k.host}:{k.port}"\nusername = "alice"\n'
                           f'password = "s3cret"\n')
        browser.get(d.base + "/")
        wait = WebDriverWait(browser, 15)
        wait.until(lambda b: b.find_element(By.ID, "live").text == "live")
        # The REGISTER goes unanswered: the account is registering and the network LED blinks fast.
        wait.until(lambda b: b.find_element(By.CSS_SELECTOR,
                                            '#sip tr[data-trunk="pbx"] .trunk-state[data-state="registering"]'))
        wait.until(lambda b: b.find_element(By.CSS_SELECTOR, '#led-network[data-pattern="fast"]'))
        browser.execute_script("window.__sameDocument = 'yes'")  # gone if anything reloads the page
        k.start()  # the REGISTER's next retransmission is answered
        wait.until(lambda b: b.find_element(By.CSS_SELECTOR,
                                            '#sip tr[data-trunk="pbx"] .trunk-state[data-state="registered"]'))
        wait.until(lambda b: b.find_element(By.CSS_SELECTOR, '#led-network[data-pattern="on"]'))
        assert browser.execute_script("return window.__sameDocument") == "yes"
        assert get_json(f"{d.base}/v1/status")["sip"][0]["state"] == "registered"
        assert console_errors(browser) == []
    finally:
        k.stop()
