"""The host-changeable settings of a simulated modem (echo, error mode, SMS format, routing, URC switches)."""

from __future__ import annotations

from dataclasses import dataclass, field

from .dialects import Dialect


@dataclass
class Settings:
    """What the host can change with AT commands; back to defaults on ATZ, AT&F and every reboot."""

    cmee: int = 0
    cpms: list[str] = field(default_factory=lambda: ["SM", "SM", "SM"])
    echo: bool = True
    verbose: bool = True
    cmgf: int = 0
    cscs: str = "GSM"
    csmp: list[int] = field(default_factory=lambda: [17, 167, 0, 0])
    cnmi: list[int] = field(default_factory=lambda: [2, 1, 0, 0, 0])
    csdh: int = 0
    csms: int = 0
    reg_urc: dict[str, int] = field(default_factory=lambda: {"CREG": 0, "CGREG": 0, "CEREG": 0})
    clip: int = 0
    colp: int = 0
    clcc_urc: int = 0
    moring: int = 0
    dtmf_detect: bool = False
    pcm: bool = False
    pcm_stuck: bool = False  # AT+CPCMREG=1 / AT+QPCMV=1 answer ERROR until the module restarts (faults.audio_stuck)
    cops_format: int = 0
    attached: bool = True  # AT+CGATT

    @classmethod
    def for_dialect(cls, dialect: Dialect) -> "Settings":
        mem = dialect.cpms_default
        return cls(cmee=dialect.cmee_default, cpms=[mem, mem, mem])
