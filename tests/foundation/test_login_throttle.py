"""The login throttle in process, on a fake clock: lockout after the failures, doubling to the cap, a success
resets, other addresses and IPv6 neighbours, and no PBKDF2 work for a refused attempt."""

from __future__ import annotations

import threading
import time

import pytest

from pigate.api import auth
from pigate.api.auth import UserGuard, client_key, hash_password
from pigate.api.throttle import LoginRefused, LoginThrottle
from pigate.config import LoginConfig, User, parse
from pigate.errors import AuthenticationFailed, AuthenticationRequired, ConfigError


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def world(monkeypatch):
    """A guard with one user, a fake clock, and a count of PBKDF2 verifications actually run."""
    clock = Clock()
    runs = []
    real = auth.verify_password

    def counted(password, encoded):
        runs.append(password)
        return real(password, encoded)

    monkeypatch.setattr(auth, "verify_password", counted)
    throttle = LoginThrottle(settings=LoginConfig(failures=5, window=60, lockout=30, lockout_max=120), clock=clock)
    guard = UserGuard(users=[User("admin", hash_password("right", iterations=1000))], throttle=throttle)
    return guard, clock, runs


def guess(guard, address, password="wrong", user="admin"):
    try:
        return guard.check(user, password, address=address)
    except AuthenticationFailed as exc:
        return exc


def test_five_failures_lock_the_address_out_without_verifying(world):
    guard, clock, runs = world
    for _ in range(5):
        assert type(guess(guard, "127.0.0.2")) is AuthenticationFailed
    assert len(runs) == 5
    refused = guess(guard, "127.0.0.2", "right")  # even the right password: the address is locked out
    assert isinstance(refused, LoginRefused) and refused.code == 305 and refused.reason == "locked out"
    assert len(runs) == 5, "a refused attempt must not run PBKDF2"
    assert guard.throttle.locked_out("127.0.0.2") == pytest.approx(30)
    assert guess(guard, "127.0.0.1", "right") == "admin", "another address is not affected"
    stats = guard.stats()
    assert (stats["failed"], stats["refused_locked"], stats["lockouts"], stats["locked_addresses"]) == (5, 1, 1, 1)


def test_lockout_doubles_up_to_the_cap_and_a_success_resets(world):
    guard, clock, runs = world
    for _ in range(5):
        guess(guard, "10.0.0.9")
    lockouts = []
    for _ in range(4):
        lockouts.append(guard.throttle.locked_out("10.0.0.9"))
        clock.now += lockouts[-1] + 0.1
        assert type(guess(guard, "10.0.0.9")) is AuthenticationFailed  # one attempt after a lockout, then locked again
    assert lockouts == [pytest.approx(30), pytest.approx(60), pytest.approx(120), pytest.approx(120)]
    clock.now += 120.1
    assert guess(guard, "10.0.0.9", "right") == "admin"
    assert guard.throttle.locked_out("10.0.0.9") == 0
    for _ in range(4):
        guess(guard, "10.0.0.9")
    assert guard.throttle.locked_out("10.0.0.9") == 0, "the success forgot the earlier failures"
    guess(guard, "10.0.0.9")
    assert guard.throttle.locked_out("10.0.0.9") == pytest.approx(30), "and the backoff starts over"


def test_failures_outside_the_window_do_not_count(world):
    guard, clock, _ = world
    for _ in range(4):
        guess(guard, "10.0.0.3")
    clock.now += 61
    for _ in range(4):
        guess(guard, "10.0.0.3")
    assert guard.throttle.locked_out("10.0.0.3") == 0


def test_missing_credentials_are_304_and_not_a_failure(world):
    guard, _, runs = world
    for _ in range(10):
        with pytest.raises(AuthenticationRequired):
            guard.check("", "", address="10.0.0.4")
    assert runs == [] and guard.throttle.locked_out("10.0.0.4") == 0


def test_ipv6_neighbours_share_a_64_and_mapped_ipv4_is_ipv4():
    assert client_key("2001:db8:1:2::5") == client_key("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    assert client_key("2001:db8:1:3::5") != client_key("2001:db8:1:2::5")
    assert client_key("::ffff:127.0.0.2") == "127.0.0.2"


def test_one_verification_at_a_time_and_a_failed_address_does_not_wait():
    """Eight parallel logins with a slow hash: never two PBKDF2 runs at once; the right ones all get in."""
    throttle = LoginThrottle(settings=LoginConfig(concurrency=1, wait=5.0))
    guard = UserGuard(users=[User("admin", hash_password("right", iterations=60_000))], throttle=throttle)
    running, peak, lock = [0], [0], threading.Lock()
    real = auth.verify_password

    def tracked(password, encoded):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        try:
            return real(password, encoded)
        finally:
            with lock:
                running[0] -= 1

    results = []
    orig, auth.verify_password = auth.verify_password, tracked
    try:
        threads = [threading.Thread(target=lambda i=i: results.append(guess(guard, f"10.1.0.{i}", "right")))
                   for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert peak[0] == 1
        assert results == ["admin"] * 8
    finally:
        auth.verify_password = orig


def test_while_the_slot_is_taken_a_failed_address_is_refused_at_once_and_a_clean_one_waits_briefly():
    throttle = LoginThrottle(settings=LoginConfig(concurrency=1, wait=0.2))
    guard = UserGuard(users=[User("admin", hash_password("right", iterations=1000))], throttle=throttle)
    guess(guard, "10.2.0.1")  # one failure behind it
    with throttle.attempt("10.9.9.9") as holder, holder.verification():
        t0 = time.monotonic()
        refused = guess(guard, "10.2.0.1", "right")
        at_once = time.monotonic() - t0
        t0 = time.monotonic()
        clean = guess(guard, "10.2.0.3", "right")
        waited = time.monotonic() - t0
    assert isinstance(refused, LoginRefused) and refused.reason == "busy" and at_once < 0.05
    assert isinstance(clean, LoginRefused) and clean.reason == "busy" and 0.15 < waited < 1.0
    # the failing client's busy refusal counts as one more failure; the clean client's does not
    assert throttle.stats()["refused_busy"] == 2 and throttle.stats()["failed"] == 2
    assert guess(guard, "10.2.0.3", "right") == "admin"


def test_login_settings_come_from_http_login():
    login = parse("[http.login]\nfailures = 3\nlockout = 10\nlockout_max = 40\n").http.login
    assert (login.failures, login.lockout, login.lockout_max, login.concurrency) == (3, 10.0, 40.0, 1)
    with pytest.raises(ConfigError, match="lockout_max"):
        parse("[http.login]\nlockout = 10\nlockout_max = 5\n")
