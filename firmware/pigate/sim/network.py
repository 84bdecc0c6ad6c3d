"""The simulated network: modems and handsets by number, SMS routing with delivery reports, calls, USSD."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from pigate.errors import PigateError

from .dialects import dialect as dialect_named
from .faults import NetworkFaults
from .handset import Handset, HandsetCall
from .modem import SimModem
from .pdu import Concat, Deliver, Part, StatusReport
from .sched import Scheduler

POLICIES = ("success", "fail", "never")
STATUS_DELIVERED = 0x00
STATUS_FAILED = 0x41  # permanent error: incompatible destination


class UnknownNumber(PigateError):
    """No modem or handset with that number is on the simulated network."""


@dataclass(frozen=True)
class LatencyProfile:
    """Seconds the simulated world takes; all zero (instant) by default, `realistic()` for benchmarks."""

    command: float = 0.0          # every AT command line
    sms_submit: float = 0.0       # AT+CMGS text sent -> +CMGS answer
    sms_deliver: float = 0.0      # a handset sends -> the modem receives (and gateway SMS -> handset)
    delivery_report: float = 0.0  # delivery -> status report
    call_setup: float = 0.0       # ATD -> the handset rings, handset dials -> RING
    answer: float = 0.0           # a handset set to answer/reject picks up after this
    no_answer: float = 1.0        # a handset set to no_answer gives up ringing after this
    ring_interval: float = 2.0    # RING repeats
    boot: float = 0.0             # ports appear -> boot URCs (a host opening the port late misses them, as on hardware)

    @classmethod
    def realistic(cls) -> "LatencyProfile":
        return cls(command=0.02, sms_submit=1.5, sms_deliver=2.0, delivery_report=3.0, call_setup=2.0,
                   answer=3.0, no_answer=30.0, ring_interval=3.0, boot=2.0)


@dataclass(frozen=True)
class Submission:
    """One SMS-SUBMIT the network accepted from a modem (one part of a multipart message)."""

    modem: str
    recipient: str
    reference: int
    udh: bytes
    text: str
    encoding: str = "gsm7"
    concat: Concat | None = None
    status_report: bool = False
    at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))

    def as_json(self) -> dict:
        return {"modem": self.modem, "recipient": self.recipient, "reference": self.reference,
                "udh": self.udh.hex(), "text": self.text, "encoding": self.encoding,
                "concat": None if self.concat is None else
                {"reference": self.concat.reference, "total": self.concat.total, "seq": self.concat.seq},
                "status_report": self.status_report, "at": self.at.isoformat()}


class Network:
    """Several modems and any number of handsets; one scheduler thread runs everything that takes time."""

    def __init__(self, *, latency: LatencyProfile | None = None, link_dir: str | Path | None = None,
                 smsc: str = "+15559999999", delivery_policy: str = "success") -> None:
        self.latency = latency or LatencyProfile()
        self.link_dir = Path(link_dir) if link_dir else None
        self.smsc = smsc
        self.delivery_policy = delivery_policy
        self.scheduler = Scheduler()
        self.faults = NetworkFaults()
        self.modems: dict[str, SimModem] = {}
        self.handsets: dict[str, Handset] = {}
        self.submissions: list[Submission] = []
        self.ussd_answers: dict[str, str] = {"*100#": "Your balance is 10.00 EUR.", "*101#": "You have 500 MB left."}
        self._lock = threading.RLock()

    # -- members --------------------------------------------------------------------------------
    def add_modem(self, *, number: str = "+15550000001", dialect: str = "sim7600", pin: str | None = None,
                  capacity: dict[str, int] | None = None) -> SimModem:
        with self._lock:
            if number in self.modems:
                raise PigateError(f"a modem with number {number} is already on the network")
            n = len(self.modems) + 1
            modem = SimModem(network=self, number=number, dialect=dialect_named(dialect), pin=pin,
                             imei=f"8675309{n:08d}", imsi=f"00101{n:010d}", iccid=f"89010100{n:012d}",
                             link_dir=self.link_dir, capacity=capacity)
            self.modems[number] = modem
            return modem

    def modem(self, number: str) -> SimModem:
        try:
            return self.modems[number]
        except KeyError as exc:
            raise UnknownNumber(f"no simulated modem {number}") from exc

    def handset(self, number: str) -> Handset:
        """The handset with this number, created on first use."""
        with self._lock:
            if number in self.modems:
                raise UnknownNumber(f"{number} is a modem, not a handset")
            h = self.handsets.get(number)
            if h is None:
                h = self.handsets[number] = Handset(network=self, number=number)
            return h

    def start(self) -> None:
        for m in list(self.modems.values()):
            m.start()

    def stop(self) -> None:
        for m in list(self.modems.values()):
            m.stop()
        self.scheduler.stop()

    def modem_ready(self, modem: SimModem) -> None:
        self.scheduler.soon(modem.flush_pending)

    # -- SMS ------------------------------------------------------------------------------------
    def send_from_handset(self, sender: str, to: str, parts: list[Part]) -> None:
        modem = self.modem(to)
        now = datetime.now(timezone.utc)
        for part in parts:
            self.scheduler.after(self.latency.sms_deliver, modem.offer, Deliver(sender, part, now, self.smsc))

    def submit(self, *, modem: SimModem, recipient: str, part: Part, reference: int, udh: bytes,
               status_report: bool) -> Submission:
        """A modem's SMS-SUBMIT was accepted: record it, then deliver and report per the delivery policy."""
        sub = Submission(modem.number, recipient, reference, udh, part.text, part.alphabet, part.concat,
                         status_report)
        with self._lock:
            self.submissions.append(sub)
        if self.faults.take_drop():
            return sub
        policy = self._policy_for(recipient)
        lat = self.latency
        if policy in ("success", "never"):
            self.scheduler.after(lat.sms_deliver, self._deliver_submitted, modem.number, recipient, part)
        if status_report and policy != "never":
            status = STATUS_DELIVERED if policy == "success" else STATUS_FAILED
            report = StatusReport(reference, recipient, status, sub.at, datetime.now(timezone.utc), self.smsc)
            self.scheduler.after(lat.sms_deliver + lat.delivery_report, self._report, modem, report)
        return sub

    def _policy_for(self, recipient: str) -> str:
        h = self.handsets.get(recipient)
        policy = (h.delivery_policy if h is not None and h.delivery_policy else None) or self.delivery_policy
        return policy if policy in POLICIES else "success"

    def _deliver_submitted(self, sender: str, recipient: str, part: Part) -> None:
        target = self.modems.get(recipient)
        if target is not None:
            target.offer(Deliver(sender, part, datetime.now(timezone.utc), self.smsc))
        else:
            self.handset(recipient).receive(sender, part)

    def _report(self, modem: SimModem, report: StatusReport) -> None:
        report = StatusReport(report.reference, report.recipient, report.status, report.submitted,
                              datetime.now(timezone.utc), report.smsc)
        modem.status_report(report)

    # -- calls and USSD -------------------------------------------------------------------------
    def place_call(self, hc: HandsetCall, *, ring_timeout: float) -> None:
        def route() -> None:
            modem = self.modems.get(hc.callee)
            if modem is None:
                hc.failed("unreachable")
                return
            if modem.calls.incoming(hc):
                hc.ringing()
                self.scheduler.after(ring_timeout, hc.give_up)
        self.scheduler.after(self.latency.call_setup, route)

    def ussd(self, number: str, request: str) -> tuple[str, bool]:
        """The network's answer to a USSD request and whether the session stays open."""
        answer = self.ussd_answers.get(request)
        if answer is None:
            return "Unknown service code.", False
        return answer, False

    def as_json(self) -> dict:
        return {"modems": [modem_json(m) for m in self.modems.values()],
                "handsets": [h.as_json() for h in self.handsets.values()],
                "delivery_policy": self.delivery_policy, "latency": self.latency.__dict__}


def modem_json(m: SimModem) -> dict:
    call = m.calls.current
    return {"number": m.number, "dialect": m.dialect.key, "at": m.at_path, "audio": m.audio_path,
            "at_link": str(m.at_link) if m.at_link else None,
            "audio_link": str(m.audio_link) if m.audio_link else None,
            "present": m.present, "sim": m.sim_state, "registration": m.reg_stat(),
            "storages": {k: {"used": s.used, "capacity": s.capacity} for k, s in m.storages.items()},
            "pending": len(m.pending), "call": None if call is None else
            {"direction": call.direction, "peer": call.peer, "state": call.state},
            "faults": m.faults.describe()}
