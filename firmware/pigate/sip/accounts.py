"""SIP accounts: the local account (peers' calls, the default for strays) and registered trunks with their state."""

from __future__ import annotations

import logging
import threading
from typing import Any, Callable

from pigate.sip.endpoint import Endpoint

log = logging.getLogger(__name__)

CONNECTED, DISCONNECTED = "Connected", "Disconnected"
AUTH_FAILURES = (401, 403, 407)

IncomingHandler = Callable[[Any, Any, Any], None]  # (owning account, pjsua2 account adapter, OnIncomingCallParam)


class _BaseAccount:
    """One pjsua2 Account (created and used on the pjsua2 thread) forwarding incoming calls to `on_incoming`."""

    name = ""

    def __init__(self, *, endpoint: Endpoint, on_incoming: IncomingHandler) -> None:
        self._ep = endpoint
        self._on_incoming = on_incoming
        self.pj_account: Any = None

    def _config(self) -> Any:
        raise NotImplementedError

    def _create(self, default: bool = False) -> None:
        cfg = self._config()
        # RTP binds where SIP listens (pjsua's default is every address of the host).
        cfg.mediaConfig.transportConfig.boundAddress = self._ep.listen
        acc = self._ep.adapters.Account(self)
        acc.create(cfg, default)
        self.pj_account = acc
        self._ep.adopt(self)

    def _on_incoming_call(self, adapter: Any, prm: Any) -> None:
        self._on_incoming(self, adapter, prm)

    def _on_reg_state(self, prm: Any) -> None:
        pass

    def _pj_close(self) -> None:
        if self.pj_account is not None:
            self.pj_account.shutdown()

    def _pj_drop(self) -> None:
        self.pj_account = None


class LocalAccount(_BaseAccount):
    """`sip:pigate@listen:port` without registration: calls from peers arrive here, calls to peers leave from it."""

    name = "local"

    def __init__(self, *, endpoint: Endpoint, on_incoming: IncomingHandler, user: str = "pigate") -> None:
        super().__init__(endpoint=endpoint, on_incoming=on_incoming)
        self.user = user

    @property
    def uri(self) -> str:
        host = f"[{self._ep.listen}]" if ":" in self._ep.listen else self._ep.listen
        return f"sip:{self.user}@{host}:{self._ep.port}"

    def _config(self) -> Any:
        cfg = self._ep.pj.AccountConfig()
        cfg.idUri = self.uri
        return cfg


class Account(_BaseAccount):
    """A registered trunk. `state` is Connected while the registrar holds a live registration.

    pjsua2 refreshes the registration before `expires` runs out and retries a failed one every
    `retry_interval` seconds (so it comes back after the registrar restarts). A refusal for credentials is
    logged once per change as an error that says so.
    """

    def __init__(self, *, endpoint: Endpoint, on_incoming: IncomingHandler, name: str, host: str, port: int,
                 username: str, password: str, transport: str = "udp", expires: int = 300,
                 retry_interval: int = 30, on_change: Callable[["Account"], None] | None = None) -> None:
        super().__init__(endpoint=endpoint, on_incoming=on_incoming)
        self.name, self.host, self.port, self.transport = name, host, port, transport
        self.username, self._password = username, password
        self.expires, self.retry_interval = expires, retry_interval
        self._on_change = on_change
        self._cond = threading.Condition()
        self.state = DISCONNECTED
        self.code = 0  # the last registration answer's status code (0: none yet)
        self.reason = ""
        self.registrations = 0  # successful registrations and refreshes so far
        self._logged: tuple[str, int] | None = None

    @property
    def connected(self) -> bool:
        return self.state == CONNECTED

    def snapshot(self) -> tuple[str, int, str]:
        """(state, last answer's code, its reason), consistent with each other."""
        with self._cond:
            return self.state, self.code, self.reason

    @property
    def registrar_uri(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"sip:{host}:{self.port}" + (";transport=tcp" if self.transport == "tcp" else "")

    @property
    def uri(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"sip:{self.username}@{host}"

    def _config(self) -> Any:
        pj = self._ep.pj
        cfg = pj.AccountConfig()
        cfg.idUri = self.uri
        cfg.regConfig.registrarUri = self.registrar_uri
        cfg.regConfig.timeoutSec = self.expires
        cfg.regConfig.retryIntervalSec = self.retry_interval
        cfg.regConfig.firstRetryIntervalSec = self.retry_interval
        cfg.regConfig.randomRetryIntervalSec = 0
        if self.transport == "tcp":
            cfg.sipConfig.proxies.append(self.registrar_uri + ";lr")
        cfg.sipConfig.authCreds.append(pj.AuthCredInfo("digest", "*", self.username, 0, self._password))
        return cfg

    def register(self) -> None:
        """Register again now (from any thread)."""
        self._ep.call(lambda: self.pj_account and self.pj_account.setRegistration(True))

    def wait(self, until: Callable[["Account"], bool], timeout: float) -> bool:
        """Block until `until(account)` holds (e.g. `lambda a: a.connected`); for tests and start-up."""
        with self._cond:
            return self._cond.wait_for(lambda: until(self), timeout)

    def _pj_drop(self) -> None:
        super()._pj_drop()
        with self._cond:
            self.state, self._logged = DISCONNECTED, None  # the endpoint is gone, and so is the registration
            self._cond.notify_all()

    def _on_reg_state(self, prm: Any) -> None:
        info = self.pj_account.getInfo()
        state = CONNECTED if info.regIsActive else DISCONNECTED
        code, reason = int(prm.code), str(prm.reason)
        self._log(state, code, reason, int(prm.expiration))  # logged before anyone can see the new state
        with self._cond:
            changed = (state, code) != (self.state, self.code)  # also a refusal after a timeout, and back
            self.state, self.code, self.reason = state, code, reason
            if state == CONNECTED and code // 100 == 2:
                self.registrations += 1
            self._cond.notify_all()
        if changed and self._on_change is not None:
            self._ep.notify(self._on_change, self)

    def _log(self, state: str, code: int, reason: str, expiration: int) -> None:
        if self._logged == (state, code):
            return
        self._logged = (state, code)
        where = f"sip account {self.name!r} ({self.username} at {self.registrar_uri})"
        if state == CONNECTED:
            log.info("%s: registered for %d s", where, expiration)
        elif code in AUTH_FAILURES:
            log.error("%s: registration refused, %d %s: wrong username or password", where, code, reason)
        elif code // 100 == 2:
            log.info("%s: unregistered", where)
        else:
            log.warning("%s: not registered, %d %s; retrying every %d s", where, code, reason,
                        self.retry_interval)
