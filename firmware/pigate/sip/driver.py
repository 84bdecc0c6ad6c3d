"""The SIP driver: one endpoint, its accounts and peers, the admission rule for incoming calls, dialling out."""

from __future__ import annotations

import itertools
import logging
from pathlib import Path
from typing import Any, Callable, Iterable

from pigate.config import SipAccount, SipConfig, SipPeer
from pigate.errors import SipError
from pigate.sip.accounts import Account, LocalAccount
from pigate.sip.calls import Listener, SipCall
from pigate.sip.endpoint import Endpoint
from pigate.sip.media import FramePort, Player, Recorder
from pigate.sip.peers import Admission, Peer, RefusalLog, Resolver, resolve
from pigate.sip.uris import dial_uri, header, request_uri, user_of

log = logging.getLogger(__name__)

IncomingCall = Callable[[SipCall], None]


class SipDriver:
    """SIP for the gateway. Incoming calls pass the admission rule first (403 for strangers, 503 beyond
    `max_calls` and while nothing takes calls), then go to `on_incoming(call)` on the event thread, which
    must `answer()`, `ringing()` or `reject()` them. `dial()` places calls through an account or a peer."""

    def __init__(self, *, listen: str = "127.0.0.1", port: int = 5060, max_calls: int = 32,
                 accounts: Iterable[SipAccount] = (), peers: Iterable[SipPeer] = (),
                 on_incoming: IncomingCall | None = None, retry_interval: int = 30,
                 on_account_change: Callable[[Account], None] | None = None, log_level: int = 2,
                 resolver: Resolver = resolve, refusals: RefusalLog | None = None) -> None:
        self.endpoint = Endpoint(listen=listen, port=port, max_calls=max_calls, log_level=log_level)
        self.max_calls = max_calls
        self.on_incoming = on_incoming
        self._local = LocalAccount(endpoint=self.endpoint, on_incoming=self._incoming)
        self.accounts: dict[str, Account] = {
            a.name: Account(endpoint=self.endpoint, on_incoming=self._incoming, name=a.name, host=a.host,
                            port=a.port, transport=a.transport, username=a.username, password=a.password,
                            expires=a.expires, retry_interval=retry_interval, on_change=on_account_change)
            for a in accounts}
        self.peers: dict[str, Peer] = {p.name: Peer(p.name, p.host, p.port, p.transport) for p in peers}
        self._admission = Admission(peers=self.peers.values(),
                                    registrars=[(a.name, a.host) for a in self.accounts.values()],
                                    resolver=resolver)
        self.refusals = refusals or RefusalLog()
        self._live: dict[str, SipCall] = {}
        self._ids = itertools.count(1)

    @classmethod
    def from_config(cls, config: SipConfig, **kw: Any) -> "SipDriver":
        return cls(listen=config.listen, port=config.port, max_calls=config.max_calls,
                   accounts=config.accounts, peers=config.peers, **kw)

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> None:
        self._admission.refresh()
        self.endpoint.start()
        try:
            self.endpoint.call(self._create_accounts)
        except Exception:
            self.endpoint.stop()
            raise

    def _create_accounts(self) -> None:
        pj = self.endpoint.pj
        for account, default in [(self._local, True), *((a, False) for a in self.accounts.values())]:
            try:
                account._create(default)
            except pj.Error as exc:
                raise SipError(f"SIP account {account.name!r}: {exc.info()}") from None

    def stop(self) -> None:
        self.endpoint.stop()

    # -- state ----------------------------------------------------------------------------------
    def connected(self, trunk: str) -> bool:
        """A registered account is connected while registered; a peer counts as connected while running."""
        if trunk in self.accounts:
            return self.accounts[trunk].connected
        return trunk in self.peers and self.endpoint.running

    def calls(self) -> list[SipCall]:
        """The calls up or being set up (the pjsua2 thread changes the table; a copy is atomic)."""
        return list(self._live.copy().values())

    # -- media ----------------------------------------------------------------------------------
    def frame_port(self, name: str = "frames", depth: int = 5) -> FramePort:
        return self._made(FramePort(endpoint=self.endpoint, name=name, depth=depth))

    def player(self, path: str | Path, *, loop: bool = False,
               on_done: Callable[[Player], None] | None = None) -> Player:
        return self._made(Player(endpoint=self.endpoint, path=path, loop=loop, on_done=on_done))

    def recorder(self, path: str | Path) -> Recorder:
        return self._made(Recorder(endpoint=self.endpoint, path=path))

    def _made(self, media: Any) -> Any:
        self.endpoint.call(media._create)
        return media

    # -- dialling out ---------------------------------------------------------------------------
    def dial(self, target: str, *, trunk: str, caller_id: str = "", listener: Listener | None = None) -> SipCall:
        """Call `target` (a number, a user or a full SIP URI) through account or peer `trunk`."""
        if trunk in self.accounts:
            owner: Any = self.accounts[trunk]
            account = self.accounts[trunk]
            host = account.registrar_uri[len("sip:"):]
            from_host = account.host
        elif trunk in self.peers:
            owner = self._local
            host = self.peers[trunk].uri_host
            from_host = self.endpoint.listen
        else:
            raise SipError(f"no SIP account or peer named {trunk!r}")
        try:
            uri = dial_uri(target, host)
        except ValueError as exc:
            raise SipError(str(exc)) from exc
        call = SipCall(endpoint=self.endpoint, call_id=self._next_id(), trunk=trunk, direction="out",
                       remote_uri=uri, called=user_of(uri) or target)
        if listener is not None:
            call.listen(listener)
        pj = self.endpoint.pj

        def make() -> None:
            if owner.pj_account is None:
                raise SipError(f"trunk {trunk!r} is not set up")
            if len(self._live) >= self.max_calls:
                raise SipError(f"at most {self.max_calls} SIP calls at once")
            pc = self.endpoint.adapters.Call(owner.pj_account, owner=call)
            call._bind(pc)
            prm = pj.CallOpParam(True)
            prm.opt.audioCount, prm.opt.videoCount = 1, 0
            if caller_id:
                prm.txOption.localUri = f"sip:{caller_id}@{from_host}"
            try:
                pc.makeCall(uri, prm)
            except pj.Error as exc:
                self.endpoint.release(call)
                raise SipError(f"cannot call {uri}: {exc.info()}") from None
            call.sip_call_id = pc.getInfo().callIdString
            self._track(call)

        self.endpoint.call(make)
        return call

    def _next_id(self) -> str:
        return f"sip{next(self._ids)}"

    def _track(self, call: SipCall) -> None:
        self._live[call.id] = call
        call._ended_hook = lambda: self._live.pop(call.id, None)

    # -- calls coming in (pjsua2 thread) --------------------------------------------------------
    def _incoming(self, account: Any, adapter: Any, prm: Any) -> None:
        src = str(prm.rdata.srcAddress)
        msg = str(prm.rdata.wholeMsg)
        trunks = self._admission.trunks_for(src)
        trunk = account.name if account.name in trunks else (trunks[0] if trunks else "")
        call = SipCall(endpoint=self.endpoint, call_id=self._next_id(), trunk=trunk, direction="in",
                       source=src, called=user_of(request_uri(msg)))
        call._bind(self.endpoint.adapters.Call(adapter, prm.callId, owner=call))
        info = call.pj_call.getInfo()
        call.remote_uri, call.sip_call_id = str(info.remoteUri), str(info.callIdString)
        call.asserted = header(msg, "P-Asserted-Identity")
        code, why = 0, ""
        if not trunk:
            code, why = 403, "the address is neither a SIP peer nor a registrar of a registered account"
        elif len(self._live) >= self.max_calls:
            code, why = 503, f"already {len(self._live)} SIP calls (max_calls)"
        elif self.on_incoming is None or not self.endpoint.running:
            code, why = 503, "nothing takes SIP calls (starting or stopping)"
        if code:
            self.refusals.refused(src, code, why, f"From {call.remote_uri}, to {call.called or '?'}")
            answer = self.endpoint.pj.CallOpParam(True)
            answer.statusCode = code
            call.pj_call.answer(answer)
            return
        self._track(call)
        self.endpoint.notify(self._hand_over, call)

    def _hand_over(self, call: SipCall) -> None:
        try:
            self.on_incoming(call)
        except Exception:
            log.exception("sip: the incoming call handler failed on %s; rejecting it", call.id)
            try:
                call.reject(500)
            except SipError:
                pass
