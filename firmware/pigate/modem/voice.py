"""Voice and USSD primitives on one modem: dial, answer, hang up, hold, deflect, DTMF, call list, audio switch, USSD."""

from __future__ import annotations

import logging
import queue
import re
import threading

from ..errors import ModemCommandError, ModemError, ModemTimeout
from ..numbers import is_dialable
from . import parsers as p
from .health import BringUp
from .link import Link
from .parsers import CallInfo

log = logging.getLogger(__name__)

_USSD = re.compile(r"^[0-9*#+]{1,160}$")


class VoiceOps:
    """The call primitives a GSM leg is built from; call progress itself arrives as `modem.call.*` events."""

    def __init__(self, *, link: Link, bring_up: BringUp) -> None:
        self.link, self.bring_up = link, bring_up

    def _cmd(self, command: str, **kw: object) -> list[str]:
        return self.link.run(lambda: self.link.engine.command(command, timeout=self.link.config.command_timeout, **kw))

    def _best_effort(self, commands: tuple[str, ...]) -> None:
        for command in commands:
            try:
                self._cmd(command)
            except ModemCommandError as exc:
                log.warning("%s: %s failed: %s", self.link.name, command, exc)

    def _audio_on(self, commands: tuple[str, ...]) -> None:
        """Switch call audio to the PCM port (AT+CPCMREG=1, AT+QPCMV=1,0). A refused switch is the field's most
        common cause of a silent call: the audio is switched off and the command tried once more; a module that
        still refuses leaves this call without audio and is restarted once it carries no call, which clears it."""
        for command in commands:
            try:
                self._cmd(command)
                continue
            except ModemCommandError as exc:
                log.warning("%s: %s failed (%s): switching call audio off and on again", self.link.name, command, exc)
            self._best_effort(self.bring_up.vendor.audio_off)
            try:
                self._cmd(command)
                log.info("%s: %s worked on the second try", self.link.name, command)
            except ModemCommandError as exc:
                log.error("%s: %s failed again (%s): this call has no audio; the module restarts once the call "
                          "is over", self.link.name, command, exc)
                self.link.request_reset_when_idle(f"call audio would not switch on ({command}: {exc})")

    def dial(self, number: str) -> None:
        """ATD<number>; (a voice call). Returns once the modem accepted it; BUSY/NO CARRIER raise ModemCommandError."""
        if not is_dialable(number):
            raise ModemError(f"not a dialable number: {number!r}")
        self._audio_on(self.bring_up.vendor.audio_before_call)
        self._cmd(f"ATD{number};", call_results=True)

    def answer(self) -> None:
        self._audio_on(self.bring_up.vendor.audio_before_call)
        self._cmd("ATA", call_results=True)
        self._audio_on(self.bring_up.vendor.audio_on_connect)

    def start_audio(self) -> None:
        """Switch call audio to the PCM serial port once an outgoing call connects (SIM7600 needs this)."""
        self._audio_on(self.bring_up.vendor.audio_on_connect)

    def hangup(self) -> None:
        self._cmd(self.bring_up.vendor.hangup)
        self._best_effort(self.bring_up.vendor.audio_off)
        self.link.call_over()

    def hold(self) -> None:
        """Put the active call on hold (AT+CHLD=2, 27.007 7.13); a network or modem that refuses raises."""
        self._cmd("AT+CHLD=2")

    def retrieve(self) -> None:
        """Take the held call back (AT+CHLD=2 with only a held call: it swaps the held one in)."""
        self._cmd("AT+CHLD=2")

    def deflect(self, number: str) -> None:
        """Send the ringing incoming call to `number` (call deflection, AT+CTFR, 27.007 7.14)."""
        if not is_dialable(number):
            raise ModemError(f"not a dialable number: {number!r}")
        self._cmd(f'AT+CTFR="{number}"')

    def send_dtmf(self, keys: str) -> None:
        bad = [k for k in keys if k.upper() not in p.DTMF_KEYS]
        if bad or not keys:
            raise ModemError(f"not DTMF keys: {keys!r}")
        for key in keys.upper():
            self._cmd(f'AT+VTS="{key}"')

    def list_calls(self) -> list[CallInfo]:
        # With AT+CLCC=1 an unsolicited +CLCC sent just as the command went out is indistinguishable from
        # the answer; a call index is unique, so the last line per index is the current truth.
        calls = {c.index: c for c in (p.parse_clcc(ln) for ln in self._cmd("AT+CLCC") if ln.startswith("+CLCC:"))}
        return list(calls.values())


class UssdOps:
    """One USSD request at a time. The answer is a +CUSD URC that some modems send before OK, others after."""

    def __init__(self, *, link: Link) -> None:
        self.link = link
        self._one = threading.Lock()
        self._answers: queue.SimpleQueue[p.Ussd] | None = None
        self._guard = threading.Lock()

    def on_ussd(self, ussd: p.Ussd) -> None:
        """Called from the reader thread for every +CUSD."""
        with self._guard:
            waiting = self._answers
        if waiting is not None:
            waiting.put(ussd)

    def request(self, code: str, timeout: float = 30.0) -> str:
        if not _USSD.match(code):
            raise ModemError(f"not a USSD code: {code!r}")
        with self._one:
            answers: queue.SimpleQueue[p.Ussd] = queue.SimpleQueue()
            with self._guard:
                self._answers = answers
            try:
                # prefixes=(): the +CUSD answer must reach on_ussd whether it comes before or after OK.
                with self.link.lock:
                    ucs2 = self.link.facts.charset == "UCS2"
                # With AT+CSCS="UCS2" every string parameter is hex of UTF-16, the request included.
                wire = code.encode("utf-16-be").hex().upper() if ucs2 else code
                self.link.run(lambda: self.link.engine.command(
                    f'AT+CUSD=1,"{wire}",15', timeout=self.link.config.command_timeout, prefixes=()))
                try:
                    ussd = answers.get(timeout=timeout)
                except queue.Empty as exc:
                    raise ModemTimeout(f"{self.link.name}: no USSD answer to {code} in {timeout:g} s") from exc
            finally:
                with self._guard:
                    self._answers = None
        if ussd.status == 4:
            raise ModemError(f"{self.link.name}: the network does not support USSD {code}")
        if ussd.status == 5:
            raise ModemTimeout(f"{self.link.name}: the network timed out USSD {code}")
        if ussd.status == 1:
            self.cancel()  # a menu waits for input we will not give; free the session for the next request
        return ussd.text

    def cancel(self) -> None:
        try:
            self.link.run(lambda: self.link.engine.command("AT+CUSD=2", timeout=self.link.config.command_timeout,
                                                           prefixes=()))
        except ModemCommandError as exc:
            log.info("%s: AT+CUSD=2: %s", self.link.name, exc)
