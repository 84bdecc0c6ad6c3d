"""The AT engine against a scripted peer on a real pty: answers, URCs mid-command, the prompt, timeouts."""

from __future__ import annotations

import threading
import time

import pytest

from pigate.errors import ModemCommandError, ModemTimeout, PortGone
from pigate.modem.at import AtEngine, PromptTimeout

from tests.modem.ptypeer import PtyPeer

PDU = "0011000B915155210300F10000AA05E8329BFD06"


class Harness:
    def __init__(self, handler) -> None:
        self.urcs: list[tuple[str, str | None]] = []
        self.gone: list[BaseException] = []
        self.peer = PtyPeer(handler)
        self.engine = AtEngine(path=self.peer.path, name="t", timeout=2.0,
                               on_urc=lambda line, data: self.urcs.append((line, data)),
                               on_gone=self.gone.append)
        self.engine.open()

    def close(self) -> None:
        self.engine.close()
        self.peer.close()
        assert not self.peer.errors, self.peer.errors


@pytest.fixture
def harness():
    made: list[Harness] = []

    def make(handler) -> Harness:
        h = Harness(handler)
        made.append(h)
        return h

    yield make
    for h in made:
        h.close()


def wait_for(cond, timeout=2.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.01)
    return False


def test_command_returns_its_answer_lines(harness):
    def modem(peer, cmd, term):
        if cmd == "AT+CSQ":
            peer.send("\r\n+CSQ: 20,99\r\n\r\nOK\r\n")

    h = harness(modem)
    assert h.engine.command("AT+CSQ") == ["+CSQ: 20,99"]


def test_urcs_in_the_middle_of_a_command_are_published_and_the_answer_still_arrives(harness):
    def modem(peer, cmd, term):
        if cmd == "AT+CMGL=4":
            peer.send(f"\r\n+CMGL: 1,1,,20\r\n{PDU}\r\n")
            peer.send('\r\n+CMTI: "SM",5\r\n\r\nRING\r\n\r\n+CLIP: "+15551230001",145,"",0,"",0\r\n')
            peer.send(f"\r\n+CMT: ,20\r\n{PDU}\r\n")
            peer.send(f"\r\n+CMGL: 2,0,,20\r\n{PDU}\r\n\r\nOK\r\n")

    h = harness(modem)
    lines = h.engine.command("AT+CMGL=4")
    assert lines == ["+CMGL: 1,1,,20", PDU, "+CMGL: 2,0,,20", PDU]
    assert wait_for(lambda: len(h.urcs) == 4)
    assert h.urcs == [('+CMTI: "SM",5', None), ("RING", None), ('+CLIP: "+15551230001",145,"",0,"",0', None),
                      ("+CMT: ,20", PDU)]


def test_a_prompt_without_newline_makes_one_transaction(harness):
    def modem(peer, cmd, term):
        if cmd == "AT+CMGS=20":
            peer.send("\r\n> ")  # no newline after the prompt, as real modems do
        elif term == b"\x1a":
            peer.send('\r\n+CDSI: "SR",2\r\n')  # a URC between the PDU and the result
            peer.send("\r\n+CMGS: 42\r\n\r\nOK\r\n")

    h = harness(modem)
    assert h.engine.submit("AT+CMGS=20", PDU, prompt_timeout=1, timeout=2) == ["+CMGS: 42"]
    assert h.peer.received == [("AT+CMGS=20", b"\r"), (PDU, b"\x1a")]
    assert wait_for(lambda: h.urcs == [('+CDSI: "SR",2', None)])


def test_an_error_instead_of_the_prompt_sends_nothing(harness):
    def modem(peer, cmd, term):
        if cmd.startswith("AT+CMGS"):
            peer.send("\r\n+CMS ERROR: 304\r\n")

    h = harness(modem)
    with pytest.raises(ModemCommandError) as err:
        h.engine.submit("AT+CMGS=20", PDU, prompt_timeout=1, timeout=1)
    assert (err.value.kind, err.value.code) == ("CMS", 304)
    assert h.peer.received == [("AT+CMGS=20", b"\r")]


def test_a_missing_prompt_aborts_with_esc_and_says_nothing_was_sent(harness):
    h = harness(lambda peer, cmd, term: None)
    with pytest.raises(PromptTimeout):
        h.engine.submit("AT+CMGS=20", PDU, prompt_timeout=0.3, timeout=1)
    assert wait_for(lambda: ("", b"\x1b") in h.peer.received)
    assert (PDU, b"\x1a") not in h.peer.received


def test_silence_is_a_timeout_and_the_next_command_still_works(harness):
    answered = threading.Event()

    def modem(peer, cmd, term):
        if cmd == "AT" and answered.is_set():
            peer.send("\r\nOK\r\n")

    h = harness(modem)
    t0 = time.monotonic()
    with pytest.raises(ModemTimeout):
        h.engine.command("AT", timeout=0.3)
    assert 0.25 < time.monotonic() - t0 < 1.5
    answered.set()
    assert h.engine.command("AT") == []


def test_error_results_carry_kind_and_code(harness):
    def modem(peer, cmd, term):
        peer.send({"AT+CPIN?": "\r\n+CME ERROR: 10\r\n", "AT+X": "\r\nERROR\r\n",
                   "AT+CMEE=2": "\r\n+CME ERROR: SIM not inserted\r\n"}[cmd])

    h = harness(modem)
    with pytest.raises(ModemCommandError) as e1:
        h.engine.command("AT+CPIN?")
    assert (e1.value.kind, e1.value.code) == ("CME", 10)
    with pytest.raises(ModemCommandError) as e2:
        h.engine.command("AT+X")
    assert (e2.value.kind, e2.value.code) == ("ERROR", None)
    with pytest.raises(ModemCommandError) as e3:
        h.engine.command("AT+CMEE=2")
    assert e3.value.text == "SIM not inserted"


def test_echo_and_identity_lines(harness):
    def modem(peer, cmd, term):
        peer.send(f"{cmd}\r")  # echo still on, as before ATE0
        if cmd == "ATI":
            peer.send("\r\nManufacturer: SIMCOM INCORPORATED\r\nModel: SIMCOM_SIM7600E-H\r\n+GCAP: +CGSM\r\n\r\nOK\r\n")
        elif cmd == "AT+CGMI":
            peer.send('\r\nRDY\r\n\r\nQuectel\r\n\r\nOK\r\n')

    h = harness(modem)
    assert h.engine.command("ATI") == ["Manufacturer: SIMCOM INCORPORATED", "Model: SIMCOM_SIM7600E-H", "+GCAP: +CGSM"]
    assert h.engine.command("AT+CGMI") == ["Quectel"]
    assert wait_for(lambda: h.urcs == [("RDY", None)])


def test_ussd_text_spanning_lines_is_one_urc(harness):
    def modem(peer, cmd, term):
        peer.send('\r\nOK\r\n\r\n+CUSD: 1,"Menu:\r\n1 Balance\r\n2 Data",15\r\n')

    h = harness(modem)
    h.engine.command('AT+CUSD=1,"*100#",15', prefixes=())
    assert wait_for(lambda: h.urcs == [('+CUSD: 1,"Menu:\n1 Balance\n2 Data",15', None)])


def test_one_command_in_flight_across_threads(harness):
    outstanding = []

    def modem(peer, cmd, term):
        outstanding.append(cmd)
        assert len(outstanding) == 1, outstanding
        time.sleep(0.01)
        outstanding.pop()
        peer.send(f"\r\n+CSQ: {cmd[-2:]},99\r\n\r\nOK\r\n")

    h = harness(modem)
    results: dict[int, list[str]] = {}

    def worker(k: int) -> None:
        results[k] = h.engine.command(f"AT+CSQ={k:02d}")

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(10, 18)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert results == {k: [f"+CSQ: {k},99"] for k in range(10, 18)}


def test_a_vanished_port_fails_the_command_in_flight_and_is_reported(harness):
    h = harness(lambda peer, cmd, term: peer.vanish() if cmd == "AT+CSQ" else None)
    with pytest.raises(PortGone):
        h.engine.command("AT+CSQ", timeout=3)
    assert wait_for(lambda: len(h.gone) == 1)
    assert not h.engine.is_open
    with pytest.raises(PortGone):
        h.engine.command("AT")


def test_a_port_that_vanishes_while_a_command_is_being_written_is_port_gone(harness, monkeypatch):
    """The race a loaded machine hits: the modem vanishes between pyserial's write and its wait for the port to
    drain. The reader notices first; the write must still end as PortGone (never pyserial's TypeError from a
    port closed under it), the command fails, the loss is reported once, and the port ends up closed."""
    import select as real_select

    import serial.serialposix

    opened: list = []
    vanished = threading.Event()

    class StallingSelect:
        """pyserial's `select` module as its write sees it: the write's wait stalls until the modem has vanished
        and the engine has had time to react (up to 1 s), as a preempted writer thread does."""

        error = real_select.error

        @staticmethod
        def select(rlist, wlist, xlist, timeout=None):
            if wlist:
                vanished.wait(1.0)
                deadline = time.monotonic() + 1.0
                while opened[0].is_open and time.monotonic() < deadline:
                    time.sleep(0.01)
            return real_select.select(rlist, wlist, xlist, timeout)

    def modem(peer, cmd, term):
        if cmd == "AT+CSQ":
            peer.vanish()
            vanished.set()

    monkeypatch.setattr(serial.serialposix, "select", StallingSelect)

    def opener(path: str, baudrate: int):
        port = serial.serial_for_url(path, baudrate=baudrate, timeout=0.05, write_timeout=5.0, exclusive=True)
        opened.append(port)
        return port

    h = harness(modem)
    h.engine.close()
    h.engine = AtEngine(path=h.peer.path, name="t", timeout=2.0, opener=opener,
                        on_urc=lambda line, data: h.urcs.append((line, data)), on_gone=h.gone.append)
    h.engine.open()
    with pytest.raises(PortGone):
        h.engine.command("AT+CSQ", timeout=3)
    assert wait_for(lambda: len(h.gone) == 1)
    assert wait_for(lambda: not opened[0].is_open)
    assert not h.engine.is_open
    with pytest.raises(PortGone):
        h.engine.command("AT")
