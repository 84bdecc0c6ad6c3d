"""Web tests: a real daemon on the simulator, and headless Chromium (Debian's chromium + chromium-driver)."""

from __future__ import annotations

import json
import shutil
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from pigate.api.auth import hash_password

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
PASSWORD = "correct horse"


def users_config(name: str = "admin", password: str = PASSWORD) -> str:
    # Few iterations: the tests log in often; the hash form is the one `pigate passwd` writes.
    return f'[[http.users]]\nname = "{name}"\npassword_hash = "{hash_password(password, iterations=1000)}"\n'


def fetch(url: str, *, data: bytes | None = None, headers: dict | None = None, method: str | None = None,
          timeout: float = 10.0) -> tuple[int, dict, bytes]:
    req = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def get_json(url: str, **kw):
    status, _, body = fetch(url, **kw)
    assert status == 200, (status, body)
    return json.loads(body)


def post_json(url: str, body: object, headers: dict | None = None) -> tuple[int, dict, object]:
    status, hdrs, raw = fetch(url, data=json.dumps(body).encode(), method="POST",
                              headers={"Content-Type": "application/json", **(headers or {})})
    return status, hdrs, json.loads(raw) if raw else None


def until(fn, timeout: float = 10.0, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def quote(number: str) -> str:
    return urllib.parse.quote(number)


@pytest.fixture
def browser(tmp_path):
    """Headless Chromium through selenium, with a fresh profile; its console is readable with get_log."""
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        pytest.fail("chromium and chromium-driver are not installed (scripts/bootstrap installs them)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    profile = tmp_path / "chromium-profile"
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                f"--user-data-dir={profile}", "--window-size=1280,1400", "--autoplay-policy=no-user-gesture-required"):
        options.add_argument(arg)
    options.binary_location = CHROMIUM
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(20)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def console_errors(driver) -> list[dict]:
    return [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]


def save_screenshot(driver, tmp_path: Path, name: str) -> Path:
    """Into the test's tmp path; with PIGATE_UPDATE_SCREENSHOTS=1 also into docs/ (what the README shows)."""
    import os

    path = tmp_path / name
    driver.save_screenshot(str(path))
    if os.environ.get("PIGATE_UPDATE_SCREENSHOTS") == "1":
        shutil.copy(path, Path(__file__).resolve().parents[2] / "docs" / name)
    return path
