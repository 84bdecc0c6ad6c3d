"""With [[http.users]] configured: the page needs a login, forms need their CSRF token, logout ends the session."""

from __future__ import annotations

import json
import urllib.parse

from selenium.webdriver.common.by import By
from selenium.webdriver.support.expected_conditions import staleness_of
from selenium.webdriver.support.ui import WebDriverWait

from tests.web.conftest import PASSWORD, console_errors, fetch, users_config

SEND = """
const body = new URLSearchParams({recipient: "+15551230001", text: arguments[0]});
if (arguments[1]) body.set("csrf", pigate.csrf);
const r = await fetch("/ui/sms", {method: "POST", body, credentials: "same-origin"});
return [r.status, await r.text()];
"""


def _login(browser, base: str, password: str) -> None:
    browser.get(base + "/")
    WebDriverWait(browser, 10).until(lambda b: b.current_url.endswith("/login"))
    browser.find_element(By.ID, "username").send_keys("admin")
    browser.find_element(By.ID, "password").send_keys(password)
    button = browser.find_element(By.ID, "login-button")
    button.click()
    # The form posts and a new page replaces this one: until then this page's elements are still found.
    WebDriverWait(browser, 10).until(staleness_of(button))


def test_page_needs_a_login_and_a_form_without_its_csrf_token_is_refused(daemon_factory, browser):
    d = daemon_factory(users_config())
    # Nothing of the page's data without a session.
    assert fetch(d.base + "/ui/state")[0] == 401
    status, _, _ = fetch(d.base + "/ui/sms", data=b"recipient=%2B15551230001&text=x", method="POST")
    assert status == 401

    _login(browser, d.base, "wrong")
    error = WebDriverWait(browser, 10).until(lambda b: b.find_element(By.ID, "login-error"))
    assert "Wrong user name or password" in error.text and browser.current_url.endswith("/login")

    browser.get(d.base + "/login")
    browser.find_element(By.ID, "username").send_keys("admin")
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    browser.find_element(By.ID, "login-button").click()
    WebDriverWait(browser, 10).until(lambda b: b.find_element(By.CSS_SELECTOR, "#modems .signal-value"))
    # The only console error so far is the refused login's 401.
    assert [e["message"].split(" - ")[0] for e in console_errors(browser)] == [d.base + "/login"]
    session = browser.get_cookie("pigate_session")
    assert session["httpOnly"] is True and session["sameSite"] == "Strict"
    assert browser.execute_script("return document.cookie") == ""  # HttpOnly: scripts cannot read it

    refused = browser.execute_script(f"return (async () => {{ {SEND} }})(...arguments)", "no token", False)
    assert refused[0] == 403 and "CSRF" in json.loads(refused[1])["title"]
    accepted = browser.execute_script(f"return (async () => {{ {SEND} }})(...arguments)", "with token", True)
    assert accepted[0] == 202
    listed = json.loads(fetch(d.base + "/v1/sms", headers={"Cookie": f"pigate_session={session['value']}"})[2])
    assert [m["text"] for m in listed["items"]] == ["with token"]
    # The JSON API with the session cookie: reading is fine, a POST without X-CSRF-Token is not.
    status, _, body = fetch(d.base + "/v1/sms", method="POST", data=b'{"text":"x","recipients":["+15551230001"]}',
                            headers={"Cookie": f"pigate_session={session['value']}", "Content-Type": "application/json"})
    assert status == 403

    browser.find_element(By.CSS_SELECTOR, "#logout button").click()
    WebDriverWait(browser, 10).until(lambda b: b.current_url.endswith("/login"))
    assert fetch(d.base + "/ui/state", headers={"Cookie": f"pigate_session={session['value']}"})[0] == 401


def test_login_form_itself_needs_its_token(daemon_factory):
    d = daemon_factory(users_config())
    form = urllib.parse.urlencode({"username": "admin", "password": PASSWORD}).encode()
    status, headers, _ = fetch(d.base + "/login", data=form, method="POST")
    assert status == 403 and "pigate_session" not in headers.get("Set-Cookie", "")
