"""AT behaviour beyond SMS: echo, result formats, unknown commands, identity, USSD, several modems, latency."""

from __future__ import annotations

import time

import pytest

from pigate.sim import LatencyProfile, Network

HANDSET = "+15551230001"


def test_echo_is_on_after_boot_and_follows_ate(net, modem, open_client):
    c = open_client(modem.at_path)
    c.write("AT\r")
    assert c.read_until(b"OK\r\n") == b"AT\r\r\nOK\r\n"
    c.write("ATE0\r")
    assert c.read_until(b"OK\r\n") == b"ATE0\r\r\nOK\r\n"  # the command that turns echo off is still echoed
    c.write("AT\r")
    assert c.read_until(b"OK\r\n") == b"\r\nOK\r\n"


def test_numeric_result_codes_with_atv0(net, modem, at):
    at.write("ATV0\r")
    assert at.read_until(b"0\r") == b"0\r"
    at.write("AT+NOPE\r")
    assert at.read_until(b"4\r") == b"4\r"
    at.write("ATV1\r")
    assert at.read_until(b"\r\nOK\r\n") == b"\r\nOK\r\n"


@pytest.mark.parametrize("line", ["AT+NOPE", "AT+CMGF=7", "ATD", "AT+CMGS", "garbage", "AT+CPMS=\"ZZ\""])
def test_unknown_or_invalid_commands_answer_an_error_never_silence(net, modem, at, line):
    _, final = at.command(line)
    assert final == "ERROR" or final.startswith(("+CME ERROR", "+CMS ERROR"))


def test_a_failing_command_stops_the_rest_of_the_line(net, modem, at):
    assert at.command("AT+CSQ;+NOPE;+CGMI") == ([f"+CSQ: {modem.rssi},99"], "ERROR")


def test_identity_answers(net, modem, at, dialect):
    d = modem.dialect
    assert at.ok("AT+CGMI") == [d.manufacturer]
    assert at.ok("AT+CGMM") == [d.model]
    assert at.ok("AT+CGSN") == [modem.imei]
    assert at.ok("AT+CIMI") == [modem.imsi]
    assert at.ok("AT+CNUM") == [f'+CNUM: "","{modem.number}",145']
    assert any(d.model in line for line in at.ok("ATI"))
    assert "AT+CMGS" in at.ok("AT+CLAC")


def test_registration_commands_of_each_dialect(net, modem, at, dialect):
    kinds = {"sim800": ["CREG", "CGREG"], "sim7600": ["CREG", "CGREG", "CEREG"], "ec25": ["CREG", "CGREG", "CEREG"]}
    for kind in ("CREG", "CGREG", "CEREG"):
        if kind in kinds[dialect]:
            assert at.ok(f"AT+{kind}?") == [f"+{kind}: 0,1"]
        else:
            assert at.command(f"AT+{kind}?")[1] == "ERROR"
    at.ok("AT+CREG=2")
    assert at.ok("AT+CREG?")[0].startswith('+CREG: 2,1,"00A1","0000B2C3"')
    assert at.ok("AT+COPS?") == [f'+COPS: 0,0,"SimNet",{modem.dialect.access_tech}']


def test_creg_2_urcs_carry_the_cell_and_cgatt_reports_the_attach(net, modem, at, dialect):
    at.ok("AT+CREG=2")
    modem.faults.registration_lost()
    assert at.wait_line("+CREG:") == "+CREG: 2"
    modem.faults.registration_regained()
    assert at.wait_line("+CREG:") == f'+CREG: 1,"00A1","0000B2C3",{modem.dialect.access_tech}'
    at.ok("AT+CREG=1")
    modem.faults.registration_lost()
    assert at.wait_line("+CREG:") == "+CREG: 2"
    modem.faults.registration_regained()
    assert at.wait_line("+CREG:") == "+CREG: 1"
    at.ok("AT+CREG=0")
    assert at.ok("AT+CGATT=?") == ["+CGATT: (0,1)"]
    assert at.ok("AT+CGATT?") == ["+CGATT: 1"]
    at.ok("AT+CGATT=0")
    assert at.ok("AT+CGATT?") == ["+CGATT: 0"]
    at.ok("AT+CGATT=1")
    modem.faults.registration_lost()
    assert at.ok("AT+CGATT?") == ["+CGATT: 0"]  # no packet attach without registration


def test_ussd_answer_after_or_before_ok(net, modem, at, dialect):
    lines, final = at.command('AT+CUSD=1,"*100#",15')
    assert final == "OK"
    if dialect == "sim800":
        assert lines == ['+CUSD: 0,"Your balance is 10.00 EUR.",15']
    else:
        assert lines == [] and at.wait_line("+CUSD:") == '+CUSD: 0,"Your balance is 10.00 EUR.",15'


def test_ussd_in_ucs2(net, modem, at):
    net.ussd_answers["*123#"] = "Баланс 5 ₽"
    at.ok('AT+CSCS="UCS2"')
    code = "*123#".encode("utf-16-be").hex().upper()
    lines, _ = at.command(f'AT+CUSD=1,"{code}",15')
    line = lines[0] if lines else at.wait_line("+CUSD:")
    hexed = line.split('"')[1]
    assert bytes.fromhex(hexed).decode("utf-16-be") == "Баланс 5 ₽" and line.endswith(",72")


def test_text_mode_header_details_with_csdh(net, modem, at):
    at.ok("AT+CMGF=1")
    at.ok("AT+CSDH=1")
    at.ok("AT+CNMI=2,2,0,0,0")
    net.handset(HANDSET).send_sms(modem.number, "details")
    header = at.wait_line("+CMT:")
    assert header.startswith(f'+CMT: "{HANDSET}","","') and header.endswith(',145,4,0,0,"+15559999999",145,7')
    assert at.next_line() == "details"


def test_several_modems_on_one_network(net, open_client):
    a = net.add_modem(number="+15550000001", dialect="sim800")
    b = net.add_modem(number="+15550000002", dialect="ec25")
    net.start()
    ca, cb = open_client(a.at_path), open_client(b.at_path)
    for c in (ca, cb):
        c.ok("ATE0")
        c.ok("AT+CMGF=1")
    net.handset(HANDSET).send_sms(b.number, "for b only")
    assert cb.wait_line("+CMTI:")
    assert ca.lines(0.2) == []
    # Modem to modem: A's SMS arrives at B.
    assert ca.send_text(f'AT+CMGS="{b.number}"', "from a to b")[1] == "OK"
    assert cb.wait_line("+CMTI:") == '+CMTI: "ME",2'
    assert cb.ok("AT+CMGR=2")[1] == "from a to b"


def test_sms_submission_latency(tmp_path, open_client):
    net = Network(latency=LatencyProfile(sms_submit=0.4, command=0.05))
    try:
        m = net.add_modem(number="+15550000001")
        m.start()
        c = open_client(m.at_path)
        c.ok("ATE0")
        c.ok("AT+CMGF=1")
        t0 = time.monotonic()
        c.ok("AT")
        assert 0.05 <= time.monotonic() - t0 < 0.3
        t0 = time.monotonic()
        assert c.send_text(f'AT+CMGS="{HANDSET}"', "slow")[1] == "OK"
        assert 0.45 <= time.monotonic() - t0 < 1.0
    finally:
        net.stop()


def test_urcs_wait_while_text_is_being_typed(net, modem, at):
    at.write("AT+CMGF=1\r")
    at.collect()
    at.write(f'AT+CMGS="{HANDSET}"\r')
    at.read_until(b"> ")
    net.handset(HANDSET).send_sms(modem.number, "arrives mid-prompt")
    net.scheduler.wait_idle()
    time.sleep(0.1)
    assert at.port.read(100) == b""
    at.write(b"typed\x1a")
    assert at.collect() == (["+CMGS: 0"], "OK")
    assert at.wait_line("+CMTI:")


@pytest.mark.parametrize("pin", [None, "1234"])
def test_boot_urcs_of_each_dialect(tmp_path, open_client, dialect, pin):
    net = Network(latency=LatencyProfile(boot=0.3))
    try:
        m = net.add_modem(number="+15550000001", dialect=dialect, pin=pin)
        m.start()
        c = open_client(m.at_path)
        expected = m.dialect.locked_boot_urcs if pin else m.dialect.boot_urcs
        assert tuple(c.lines(0.6)) == expected
        if pin:
            c.ok("ATE0")
            c.ok('AT+CPIN="1234"')
            assert tuple(c.lines(0.2)) == ("+CPIN: READY", *m.dialect.ready_urcs)
    finally:
        net.stop()
