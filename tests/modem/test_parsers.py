"""Pure parsers and URC interpretation on literal modem lines (shapes taken from 27.005/27.007 and vendor manuals)."""

from __future__ import annotations

import pytest

from pigate.modem import parsers as p
from pigate.modem import events as ev
from pigate.modem.urcs import Expect, classify, command_prefix, interpret
from pigate.modem.vendors import EC25, GENERIC, SIM800, SIM7600, by_key, detect
from pigate.errors import ConfigError

PDU = "07911326040000F0040B911346610089F60000208062917314080CC8329BFD065DDF72363904"


def test_fields_keep_quoted_commas_and_mark_quotes():
    f = p.split_fields('1,"a,b", "SM" ,,7')
    assert [x.value for x in f] == ["1", "a,b", "SM", "", "7"]
    assert [x.quoted for x in f] == [False, True, True, False, False]


@pytest.mark.parametrize("line,final", [
    ("OK", p.Final(True)),
    ("ERROR", p.Final(False, "ERROR")),
    ("+CMS ERROR: 500", p.Final(False, "CMS", 500)),
    ("+CME ERROR: 10", p.Final(False, "CME", 10)),
    ("+CME ERROR: SIM not inserted", p.Final(False, "CME", None, "SIM not inserted")),
    ("+CMGS: 4", None),
    ("NO CARRIER", None),
])
def test_final_results(line, final):
    assert p.parse_final(line) == final


def test_call_results_end_only_dial_commands():
    assert p.parse_final("BUSY", call_results=True) == p.Final(False, "BUSY")
    assert p.parse_final("BUSY") is None


def test_sms_lines():
    assert p.parse_cmgs("+CMGS: 12") == 12
    assert p.parse_cmgs('+CMGS: 255,"20/01/01,12:00:00+00"') == 255
    assert p.parse_storage_index('+CMTI: "SM",3', "+CMTI:") == ("SM", 3)
    assert p.parse_storage_index('+CDSI: "SR",14', "+CDSI:") == ("SR", 14)
    assert p.parse_cmt_header("+CMT: ,23") == 23
    assert p.parse_cmt_header('+CMT: "Alice",23') == 23
    assert p.parse_cds_header("+CDS: 25") == 25
    with pytest.raises(p.AtParseError):
        p.parse_cmgs("+CMGS: x")


def test_cmgr_and_cmgl():
    assert p.parse_cmgr(["+CMGR: 0,,30", PDU.lower()], storage="SM", index=3) == p.StoredSms(3, "SM", 0, PDU)
    assert p.parse_cmgr(["+CMGR: 0,,0"], storage="SM", index=3) is None
    assert p.parse_cmgr([], storage="SM", index=3) is None
    listed = p.parse_cmgl(["+CMGL: 1,1,,30", PDU, '+CMGL: 4,0,"x",30', PDU], storage="ME")
    assert listed == [p.StoredSms(1, "ME", 1, PDU), p.StoredSms(4, "ME", 0, PDU)]
    assert p.parse_cpms_query('+CPMS: "SM",3,30,"ME",0,100,"SM",3,30')[1] == p.StorageInfo("ME", 0, 100)


def test_signal():
    s = p.parse_csq("+CSQ: 18,99")
    assert (s.rssi, s.percent, s.dbm) == (18, 58, -77)
    assert p.parse_csq("+CSQ: 99,99").percent is None
    assert p.parse_csq("+CSQ: 31,0").percent == 100


@pytest.mark.parametrize("line,kind,stat,lac,registered", [
    ("+CREG: 1", "CREG", 1, "", True),                              # unsolicited, n=1
    ('+CREG: 5,"00C3","0010AB12",7', "CREG", 5, "00C3", True),      # unsolicited, n=2, roaming
    ("+CREG: 2,1", "CREG", 1, "", True),                            # solicited
    ('+CREG: 2,2,"00C3","0010AB12"', "CREG", 2, "00C3", False),     # solicited, searching
    ("+CGREG: 0,5", "CGREG", 5, "", True),
    ('+CEREG: 2,3,"1A2B","01A2B3C4",7', "CEREG", 3, "1A2B", False),  # denied
    ('+CEREG: 1,"1A2B","01A2B3C4",7', "CEREG", 1, "1A2B", True),
    ("+CGREG: 4", "CGREG", 4, "", False),
])
def test_registration_both_forms(line, kind, stat, lac, registered):
    r = p.parse_registration(line)
    assert (r.kind, r.stat, r.lac, r.registered) == (kind, stat, lac, registered)


def test_operator_pin_number():
    assert p.parse_cops('+COPS: 0,0,"T-Mobile",7') == p.Operator(0, "T-Mobile", 0, 7)
    assert p.parse_cops("+COPS: 0") == p.Operator(0)
    assert p.parse_cpin("+CPIN: SIM PIN") == "SIM PIN"
    assert p.parse_cpin("+CPIN: READY") == "READY"
    assert p.parse_cnum(['+CNUM: "Own","+15550000001",145']) == "+15550000001"
    assert p.parse_cnum(['+CNUM: "","",129']) is None
    assert p.bare_value(["+CGMI: SIMCOM INCORPORATED"], "+CGMI:") == "SIMCOM INCORPORATED"


def test_ussd_texts():
    assert p.parse_cusd('+CUSD: 0,"Balance: 5.00 EUR",15') == p.Ussd(0, "Balance: 5.00 EUR", 15)
    # UCS-2 hex by DCS 72 and by the TE charset; emoji as a surrogate pair survive
    hexed = "Guthaben: 5€ 😀".encode("utf-16-be").hex().upper()
    assert p.parse_cusd(f'+CUSD: 0,"{hexed}",72').text == "Guthaben: 5€ 😀"
    assert p.parse_cusd(f'+CUSD: 1,"{hexed}",15', charset="UCS2").text == "Guthaben: 5€ 😀"
    # a GSM-7 text that happens to look like hex stays text
    assert p.parse_cusd('+CUSD: 0,"CAFE",15').text == "CAFE"
    assert p.parse_cusd('+CUSD: 0,"say "hi" now",15').text == 'say "hi" now'
    assert p.parse_cusd("+CUSD: 4") == p.Ussd(4)
    assert p.parse_cusd('+CUSD: 2,"Menu:\n1 Balance",15').text == "Menu:\n1 Balance"
    assert p.ussd_is_open('+CUSD: 1,"Menu:') and not p.ussd_is_open('+CUSD: 1,"Menu",15')


def test_calls_and_dtmf():
    c = p.parse_clcc('+CLCC: 1,1,4,0,0,"+15551230001",145')
    assert (c.index, c.direction, c.state, c.number, c.multiparty) == (1, "in", "incoming", "+15551230001", False)
    assert p.parse_clcc("+CLCC: 2,0,0,0,0").state == "active"
    assert p.parse_clip('+CLIP: "+15551230001",145,"",0,"",0') == ("+15551230001", 145)
    assert p.parse_clip('+CLIP: "",128') == ("", 128)
    assert p.parse_dtmf("+DTMF: 5") == "5"
    assert p.parse_dtmf("+RXDTMF: #") == "#"
    assert p.parse_dtmf("+QTONEDET: 53") == "5"
    assert p.parse_dtmf("+QTONEDET: 42") == "*"
    assert p.parse_dtmf("+QTONEDET: 65") == "A"
    assert p.parse_dtmf("+CSQ: 5,5") is None


def test_command_prefixes():
    assert command_prefix("AT+CSQ") == "+CSQ:"
    assert command_prefix("AT+CMGS=23") == "+CMGS:"
    assert command_prefix("AT+CREG?") == "+CREG:"
    assert command_prefix('AT+QINDCFG="all",1') == "+QINDCFG:"
    assert command_prefix("ATE0") == ""


def test_line_classification():
    cmgr = Expect("AT+CMGR=1", ("+CMGR:",))
    assert classify("+CMGR: 0,,23", cmgr, data_line_due=False) == "answer"
    assert classify(PDU, cmgr, data_line_due=True) == "answer"
    assert classify("OK", cmgr, data_line_due=True) == "final"  # an empty slot has no data line
    assert classify('+CMTI: "SM",1', cmgr, data_line_due=False) == "urc"
    assert classify("RING", Expect("ATI", (), bare=True), data_line_due=False) == "urc"
    assert classify("SIM800 R14.18", Expect("ATI", (), bare=True), data_line_due=False) == "answer"
    assert classify("SIM800 R14.18", cmgr, data_line_due=False) == "urc"
    assert classify("OK", None, data_line_due=False) == "urc"
    assert classify("NO CARRIER", Expect("ATD+1;", call_results=True), data_line_due=False) == "final"
    assert classify("NO CARRIER", cmgr, data_line_due=False) == "urc"
    assert classify("AT+CMGR=1", cmgr, data_line_due=False) == "echo"


@pytest.mark.parametrize("line,body,event", [
    ('+CMTI: "SM",3', None, ev.SmsStored("gsm1", "SM", 3)),
    ('+CDSI: "SR",4', None, ev.StatusReportStored("gsm1", "SR", 4)),
    ("+CMT: ,30", PDU.lower(), ev.SmsDelivered("gsm1", PDU)),
    ("+CDS: 25", "0006D60B911326880736F4111011719551401110117195714000",
     ev.StatusReport("gsm1", "0006D60B911326880736F4111011719551401110117195714000")),
    ("+CLIP: \"+15551230001\",145,\"\",0,\"\",0", None, ev.CallRing("gsm1", "+15551230001", 145)),
    ("+RXDTMF: 7", None, ev.CallDtmf("gsm1", "7")),
    ("BUSY", None, ev.CallEnded("gsm1", "BUSY")),
    ("+CMGS: 77", None, ev.LateSubmit("gsm1", 77)),
    ("+CPIN: NOT READY", None, ev.SimStatus("gsm1", "NOT READY")),
    ("+SIMCARD: NOT AVAILABLE", None, ev.SimStatus("gsm1", "NOT INSERTED")),
    ("+CSQ: 20,99", None, ev.SignalChanged("gsm1", 20, 65)),
    ("SMS Ready", None, ev.UnsolicitedLine("gsm1", "SMS Ready")),
    ("+CMTI: garbage", None, ev.UnsolicitedLine("gsm1", "+CMTI: garbage")),
])
def test_urc_meaning(line, body, event):
    assert interpret(line, body, name="gsm1") == event


def test_registration_and_clcc_urcs():
    reg = interpret('+CEREG: 5,"1A2B","01A2B3C4",7', name="gsm1")
    assert isinstance(reg, ev.Registration) and reg.registered and reg.kind == "CEREG" and reg.topic == "modem.registration"
    call = interpret('+CLCC: 1,0,3,0,0,"+15551230001",145', name="gsm1")
    assert isinstance(call, ev.CallStateReport)
    assert (call.call.state, call.call.direction, call.call.number) == ("alerting", "out", "+15551230001")


def test_vendor_detection():
    assert detect("SIMCOM_Ltd", "SIMCOM_SIM800L") is SIM800
    assert detect("SIMCOM INCORPORATED", "SIMCOM_SIM7600E-H") is SIM7600
    assert detect("Quectel", "EC25") is EC25
    assert detect("Telit", "LE910") is GENERIC
    assert by_key("EC25") is EC25
    with pytest.raises(ConfigError):
        by_key("nokia")


def test_lines_come_out_the_same_however_the_bytes_are_chunked():
    from hypothesis import given, settings, strategies as st

    from pigate.modem.at import AtEngine

    stream = (b'\r\n+CMTI: "SM",3\r\n\r\nRING\r\n\r\n+CMGS: 12\r\n\r\nOK\r\n+CMT: ,20\r\n'
              + PDU.encode() + b"\r\n\r\n+CUSD: 0,\"a\r\nb\",15\r\n")
    whole = AtEngine._take_lines(bytearray(stream))

    @settings(max_examples=200, deadline=None)
    @given(st.lists(st.integers(min_value=0, max_value=len(stream)), max_size=12))
    def chunked(cuts):
        buf, out, last = bytearray(), [], 0
        for cut in sorted(cuts) + [len(stream)]:
            buf += stream[last:cut]
            last = cut
            out += AtEngine._take_lines(buf)
        assert out == whole and not buf

    chunked()
