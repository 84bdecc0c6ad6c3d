"""Fidelity: software we did not write (gammu, smstools3, python-gsmmodem) drives the simulator over its pty."""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
import warnings

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from gsmmodem.modem import GsmModem

HANDSET = "+15551230001"
SLOW_FOR = {"sim800", "ec25"}  # sim7600 runs in every quick run; the others are marked slow


def dialects_with_slow():
    return [pytest.param(d, marks=pytest.mark.slow) if d in SLOW_FOR else d for d in ("sim800", "sim7600", "ec25")]


@pytest.fixture
def started(net):
    def start(dialect: str, pin: str | None = None):
        m = net.add_modem(number="+15550000001", dialect=dialect, pin=pin)
        m.start()
        return m
    return start


def gammu(rc, *args: str) -> str:
    r = subprocess.run(["gammu", "-c", str(rc), *args], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, f"gammu {args}: {r.returncode}\n{r.stdout}\n{r.stderr}"
    return r.stdout


@pytest.mark.skipif(shutil.which("gammu") is None, reason="gammu is not installed (Debian package gammu)")
@pytest.mark.parametrize("dialect", dialects_with_slow())
def test_gammu_identifies_sends_and_reads(net, started, tmp_path, dialect):
    m = started(dialect)
    rc = tmp_path / "gammurc"
    rc.write_text(f"[gammu]\ndevice = {m.at_link}\nconnection = at\nlogfile = {tmp_path / 'gammu.log'}\n"
                  "logformat = textall\n")
    out = gammu(rc, "identify")
    assert m.dialect.manufacturer in out and m.dialect.model in out
    assert m.imei in out and m.imsi in out
    out = gammu(rc, "sendsms", "TEXT", HANDSET, "-text", "hello from gammu")
    assert "message reference=0" in out
    assert net.handset(HANDSET).wait_inbox(1)[0].text == "hello from gammu"
    net.handset(HANDSET).send_sms(m.number, "Grüße an gammu")
    net.scheduler.wait_idle()
    out = gammu(rc, "getallsms")
    assert "Grüße an gammu" in out and f'"{HANDSET}"' in out


@pytest.mark.skipif(shutil.which("gammu") is None, reason="gammu is not installed (Debian package gammu)")
@pytest.mark.parametrize("dialect", dialects_with_slow())
def test_gammu_networkinfo_monitor_and_getallsms(net, started, tmp_path, dialect):
    """What an operator runs first on a new modem: the network and packet domain (AT+CREG=2 with the cell's
    LAC and CI, AT+CGATT?), one round of monitoring, and the message list."""
    m = started(dialect)
    rc = tmp_path / "gammurc"
    rc.write_text(f"[gammu]\ndevice = {m.at_link}\nconnection = at\n")
    out = gammu(rc, "networkinfo")
    assert "Network state        : home network" in out
    assert f"LAC {m.LAC}, CID {m.CELL}" in out
    assert "GPRS                 : attached" in out
    out = gammu(rc, "monitor", "1")
    assert "Signal strength" in out and f"LAC {m.LAC}" in out and "GPRS                 : attached" in out
    net.handset(HANDSET).send_sms(m.number, "listed by gammu")
    net.scheduler.wait_idle()
    out = gammu(rc, "getallsms")
    assert "listed by gammu" in out and f'"{HANDSET}"' in out


SMSD_CONF = """devices = GSM1
outgoing = {d}/outgoing
checked = {d}/checked
failed = {d}/failed
sent = {d}/sent
incoming = {d}/incoming
logfile = {d}/smsd.log
loglevel = 7
infofile = {d}/smsd.running
pidfile = {d}/smsd.pid
stats = {d}/stats
receive_before_send = no

[GSM1]
device = {device}
incoming = yes
baudrate = 115200
report = yes
"""


@pytest.mark.skipif(shutil.which("smsd") is None, reason="smstools3 is not installed (Debian package smstools)")
@pytest.mark.parametrize("dialect", dialects_with_slow())
def test_smstools_sends_and_receives(net, started, tmp_path, dialect):
    m = started(dialect)
    for sub in ("outgoing", "checked", "failed", "sent", "incoming", "stats"):
        (tmp_path / sub).mkdir()
    conf = tmp_path / "smsd.conf"
    conf.write_text(SMSD_CONF.format(d=tmp_path, device=m.at_link))
    (tmp_path / "outgoing" / "msg1").write_text(f"To: {HANDSET.lstrip('+')}\n\nhello from smstools\n")
    net.handset("+15551230002").send_sms(m.number, "hello smstools")
    smsd = subprocess.Popen(["smsd", "-c", str(conf), "-t"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        msg = net.handset(HANDSET).wait_inbox(1, timeout=30)[0]
        assert (msg.sender, msg.text) == (m.number, "hello from smstools")
        deadline = time.monotonic() + 20
        while not list((tmp_path / "incoming").iterdir()) and time.monotonic() < deadline:
            time.sleep(0.1)
        received = [p.read_text(errors="replace") for p in (tmp_path / "incoming").iterdir()]
        assert len(received) == 1 and "From: 15551230002" in received[0] and "hello smstools" in received[0]
        deadline = time.monotonic() + 10
        while not (tmp_path / "sent" / "msg1").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert (tmp_path / "sent" / "msg1").exists()
    finally:
        smsd.send_signal(signal.SIGTERM)
        smsd.wait(15)
    assert not (tmp_path / "failed").exists() or not list((tmp_path / "failed").iterdir())


@pytest.mark.parametrize("dialect,pin", [("sim800", "1234"), ("sim7600", None), ("ec25", None)])
def test_python_gsmmodem_connects_sends_and_receives(net, started, dialect, pin):
    m = started(dialect, pin)
    received = []
    g = GsmModem(m.at_path, 115200, smsReceivedCallbackFunc=received.append)
    try:
        t0 = time.monotonic()
        g.connect(pin=pin)
        assert time.monotonic() - t0 < 3  # every command answered: no 10-15 s timeouts
        sms = g.sendSms(HANDSET, "hello from python-gsmmodem", waitForDeliveryReport=True, deliveryTimeout=10)
        assert sms.report is not None and sms.report.deliveryStatus == sms.report.DELIVERED
        assert net.handset(HANDSET).wait_inbox(1)[0].text == "hello from python-gsmmodem"
        net.handset("+15551230002").send_sms(m.number, "to python-gsmmodem")
        deadline = time.monotonic() + 5
        while not received and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [(s.number, s.text) for s in received] == [("+15551230002", "to python-gsmmodem")]
        assert (g.imei, g.networkName, g.signalStrength) == (m.imei, "SimNet", m.rssi)
    finally:
        g.close()
