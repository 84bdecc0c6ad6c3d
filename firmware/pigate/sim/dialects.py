"""Pure per-vendor tables of the simulated modems: boot URCs, identity answers, DTMF and call-state formats."""

from __future__ import annotations

from dataclasses import dataclass, field

from pigate.errors import ConfigError


@dataclass(frozen=True)
class Dialect:
    """Everything that differs between the simulated SIM800, SIM7600 and EC25."""

    key: str
    manufacturer: str
    model: str
    revision: str
    boot_urcs: tuple[str, ...]            # after power-on, PIN already entered (or no PIN)
    ready_urcs: tuple[str, ...]           # after +CPIN: READY when a PIN had to be entered
    locked_boot_urcs: tuple[str, ...]     # power-on with a PIN-locked SIM
    cmee_default: int = 0
    cpms_default: str = "SM"
    storages: tuple[str, ...] = ("SM", "ME", "SR")
    registration_kinds: tuple[str, ...] = ("CREG", "CGREG", "CEREG")
    access_tech: int = 7                  # +COPS <AcT>: 0 GSM, 2 UTRAN, 7 E-UTRAN
    dtmf_urc: str = "+RXDTMF: {digit}"    # {digit} or {code} (ASCII code, as EC25 reports it)
    dtmf_enable: str = ""                 # command that must be given before DTMF is reported ("" = always on)
    pcm_command: str = ""                 # "CPCMREG" (on after connect) or "QPCMV" (on before dial/answer)
    cusd_before_ok: bool = False
    call_begin_urc: str = ""              # e.g. SIM7600 "VOICE CALL: BEGIN"
    call_end_urc: str = ""                # e.g. "VOICE CALL: END: {duration:06d}"
    mo_ring_urcs: tuple[str, str] = ("", "")  # SIM800 with AT+MORING=1: ("MO RING", "MO CONNECTED")
    extra_ok: frozenset[str] = field(default_factory=frozenset)  # vendor commands accepted and ignored

    def ati(self) -> list[str]:
        return [f"Manufacturer: {self.manufacturer}", f"Model: {self.model}", f"Revision: {self.revision}",
                "IMEI: {imei}", "+GCAP: +CGSM"] if self.key != "sim800" else [f"{self.model} {self.revision}"]

    def dtmf_line(self, digit: str) -> str:
        return self.dtmf_urc.format(digit=digit, code=ord(digit))


SIM800 = Dialect(
    key="sim800", manufacturer="SIMCOM_Ltd", model="SIMCOM_SIM800", revision="Revision:1418B04SIM800L24",
    boot_urcs=("RDY", "+CFUN: 1", "+CPIN: READY", "Call Ready", "SMS Ready"),
    ready_urcs=("Call Ready", "SMS Ready"),
    locked_boot_urcs=("RDY", "+CFUN: 1", "+CPIN: SIM PIN"),
    cmee_default=0,
    storages=("SM", "ME", "SR"),
    registration_kinds=("CREG", "CGREG"),
    access_tech=0,
    dtmf_urc="+DTMF: {digit}",
    dtmf_enable="DDET",
    cusd_before_ok=True,
    mo_ring_urcs=("MO RING", "MO CONNECTED"),
    extra_ok=frozenset({"+CLTS", "+CSCLK", "+CIURC", "+CSDT", "+CRSL", "+CLVL", "+CMIC", "+CHFA",
                        "+CALS", "+CFGRI", "+CSGS", "+CNETLIGHT", "+CUSBSPK"}),
)

SIM7600 = Dialect(
    key="sim7600", manufacturer="SIMCOM INCORPORATED", model="SIMCOM_SIM7600E-H", revision="LE20B04SIM7600M22",
    boot_urcs=("RDY", "+CPIN: READY", "SMS DONE", "PB DONE"),
    ready_urcs=("SMS DONE", "PB DONE"),
    locked_boot_urcs=("RDY", "+CPIN: SIM PIN"),
    cmee_default=0,
    storages=("SM", "ME", "SR"),
    access_tech=7,
    dtmf_urc="+RXDTMF: {digit}",
    pcm_command="CPCMREG",
    call_begin_urc="VOICE CALL: BEGIN",
    call_end_urc="VOICE CALL: END: {duration:06d}",
    extra_ok=frozenset({"+CNMP", "+CSCLK", "+CPCMFRM", "+CLVL", "+CMICGAIN", "+COUTGAIN", "+CSDVC", "+CNSMOD",
                        "+CTZU", "+CRSL", "+CECM", "+CECH", "+CNLSA", "+CNBP", "+CSUB"}),
)

EC25 = Dialect(
    key="ec25", manufacturer="Quectel", model="EC25", revision="EC25EFAR06A06M4G",
    boot_urcs=("RDY", "+CFUN: 1", "+CPIN: READY", "+QUSIM: 1", "+QIND: SMS DONE", "+QIND: PB DONE"),
    ready_urcs=("+QUSIM: 1", "+QIND: SMS DONE", "+QIND: PB DONE"),
    locked_boot_urcs=("RDY", "+CFUN: 1", "+CPIN: SIM PIN"),
    cmee_default=1,
    cpms_default="ME",
    storages=("SM", "ME", "SR"),
    access_tech=7,
    dtmf_urc="+QTONEDET: {code}",
    dtmf_enable="QTONEDET",
    pcm_command="QPCMV",
    extra_ok=frozenset({"+QURCCFG", "+QCFG", "+QSCLK", "+QAUDMOD", "+QDAI", "+QMIC", "+QRXGAIN", "+QEEC",
                        "+QSIDET", "+QINDCFG", "+QSIMDET", "+QSIMSTAT", "+CLVL"}),
)

DIALECTS: dict[str, Dialect] = {d.key: d for d in (SIM800, SIM7600, EC25)}


def dialect(key: str) -> Dialect:
    """The dialect named `key` (sim800, sim7600, ec25)."""
    try:
        return DIALECTS[key.lower()]
    except KeyError as exc:
        raise ConfigError(f"unknown simulator dialect {key!r}; known: {', '.join(DIALECTS)}") from exc


# 27.007 section 9.2 (+CME) and 27.005 section 3.2.5 (+CMS): code -> verbose text (AT+CMEE=2).
CME_TEXT: dict[int, str] = {
    3: "operation not allowed", 4: "operation not supported", 10: "SIM not inserted",
    11: "SIM PIN required", 12: "SIM PUK required", 13: "SIM failure", 14: "SIM busy", 16: "incorrect password",
    20: "memory full", 21: "invalid index", 22: "not found", 30: "no network service", 31: "network timeout",
    50: "Incorrect parameters", 100: "unknown",
}
CMS_TEXT: dict[int, str] = {
    300: "ME failure", 301: "SMS service of ME reserved", 302: "operation not allowed",
    303: "operation not supported", 304: "invalid PDU mode parameter", 305: "invalid text mode parameter",
    310: "SIM not inserted", 311: "SIM PIN required", 313: "SIM failure", 314: "SIM busy", 320: "memory failure",
    321: "invalid memory index", 322: "memory full", 330: "SMSC address unknown", 331: "no network service",
    332: "network timeout", 340: "no +CNMA acknowledgement expected", 500: "unknown error",
}
