"""Per-vendor quirks (SIM800, SIM7600, EC25, generic 27.005/27.007), chosen by probing the modem's identity."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ConfigError


@dataclass(frozen=True)
class Vendor:
    """Everything that differs between modem families; the generic code asks this object, never a model name."""

    key: str
    label: str
    # URC lines after which the SMS service is usable (boot order: RDY, +CPIN: READY, ..., this).
    sms_ready_markers: tuple[str, ...] = ()
    # Incoming SMS and status reports both stored and announced (+CMTI, +CDSI): a report that arrives while
    # the daemon is down waits in the modem for the storage sweep, where a +CDS would be gone.
    cnmi: str = "AT+CNMI=2,1,0,2,0"
    registration_kinds: tuple[str, ...] = ("CREG", "CGREG", "CEREG")
    # Best-effort extras: a modem without them still sends and receives SMS.
    dtmf_enable: tuple[str, ...] = ()
    call_state_enable: tuple[str, ...] = ()
    hangup: str = "ATH"
    # Call audio over a USB serial port (8 kHz s16le mono, 320-byte frames every 20 ms).
    audio_before_call: tuple[str, ...] = ()   # EC25 wants PCM on before dialing or answering
    audio_on_connect: tuple[str, ...] = ()    # SIM7600 turns it on once the call is up
    audio_off: tuple[str, ...] = ()
    # After AT+CFUN=1,1 the module reboots; USB modules re-enumerate their ports.
    reset_seconds: float = 5.0


GENERIC = Vendor("generic", "27.005/27.007 modem")

SIM800 = Vendor(
    "sim800", "SIMCom SIM800/SIM868",
    sms_ready_markers=("SMS Ready",),
    registration_kinds=("CREG", "CGREG"),  # 2G only: no CEREG
    dtmf_enable=("AT+DDET=1",),
    call_state_enable=("AT+CLCC=1",),
    hangup="ATH",
    reset_seconds=3.0,
)

SIM7600 = Vendor(
    "sim7600", "SIMCom SIM7600",
    sms_ready_markers=("SMS DONE", "PB DONE"),
    call_state_enable=("AT+CLCC=1",),
    hangup="AT+CHUP",
    audio_on_connect=("AT+CPCMREG=1",),
    audio_off=("AT+CPCMREG=0",),
    reset_seconds=10.0,
)

EC25 = Vendor(
    "ec25", "Quectel EC25",
    sms_ready_markers=("+QIND: SMS DONE", "+QIND: PB DONE"),
    dtmf_enable=("AT+QTONEDET=1",),
    call_state_enable=("AT+CLCC=1",),
    hangup="AT+CHUP",
    audio_before_call=("AT+QPCMV=1,0",),
    audio_off=("AT+QPCMV=0",),
    reset_seconds=10.0,
)

VENDORS = {v.key: v for v in (GENERIC, SIM800, SIM7600, EC25)}


def by_key(key: str) -> Vendor:
    """The vendor a config names (`sim800`, `sim7600`, `ec25`, `generic`)."""
    try:
        return VENDORS[key.lower()]
    except KeyError as exc:
        raise ConfigError(f"unknown modem vendor {key!r}; known: auto, {', '.join(VENDORS)}") from exc


def detect(manufacturer: str, model: str, extra: str = "") -> Vendor:
    """The vendor whose family the identity strings (AT+CGMI, AT+CGMM, ATI) name; GENERIC when none does."""
    ident = f"{manufacturer} {model} {extra}".upper()
    if "QUECTEL" in ident or any(m in ident for m in ("EC25", "EC21", "EG25", "EC20")):
        return EC25
    if "SIM7" in ident or "A76" in ident:
        return SIM7600
    if "SIM8" in ident or "SIM9" in ident:
        return SIM800
    return GENERIC
