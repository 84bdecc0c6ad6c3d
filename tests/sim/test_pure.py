"""The simulator's pure parts on literal strings: AT line parsing, PDU codec, dialect tables, input framing."""

from __future__ import annotations

import warnings
from datetime import datetime, timedelta, timezone

import pytest

from pigate.sim.atparse import AtSyntaxError, Command, parse_line, split_args
from pigate.sim.dialects import DIALECTS, dialect
from pigate.sim.interp import AtError
from pigate.sim.pdu import (Concat, Deliver, Part, PduError, StatusReport, decode_submit, encode_submit, parse_udh,
                            split_text)
from pigate.sim.session import LineIn, LineReader, TextIn, TextNewline
from pigate.sim.storage import Storage

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from gsmmodem.pdu import decodeSmsPdu, encodeSmsSubmitPdu


# -- AT lines -------------------------------------------------------------------------------------
@pytest.mark.parametrize("line,expected", [
    ("AT", []),
    ("ATE0", [Command("E", "exec", "0", ["0"])]),
    ("ATE0V1", [Command("E", "exec", "0", ["0"]), Command("V", "exec", "1", ["1"])]),
    ("AT+CMGF=1", [Command("+CMGF", "set", "1", ["1"])]),
    ("at+cmgf?", [Command("+CMGF", "read")]),
    ("AT+CMGF=?", [Command("+CMGF", "test")]),
    ("AT+CMEE=1;+CREG=2", [Command("+CMEE", "set", "1", ["1"]), Command("+CREG", "set", "2", ["2"])]),
    ('AT+CMGS="+1555,12";+CSQ', [Command("+CMGS", "set", '"+1555,12"', ["+1555,12"]), Command("+CSQ")]),
    ("ATD+15551230001;", [Command("D", "exec", "+15551230001;")]),
    ("ATS0=0", [Command("S0", "set", "0", ["0"])]),
    ("AT&F", [Command("&F", "exec")]),
    ("AT$TSSPCSW=?", [Command("$TSSPCSW", "test")]),
    ("AT+CNMI=2,1,,2", [Command("+CNMI", "set", "2,1,,2", ["2", "1", None, "2"])]),
])
def test_parse_line(line, expected):
    assert parse_line(line) == expected


@pytest.mark.parametrize("line", ["hello", 'AT+CMGS="x', "AT+CMGF!"])
def test_parse_line_rejects(line):
    with pytest.raises(AtSyntaxError):
        parse_line(line)


def test_split_args_keeps_empty_quoted_strings_and_spaces_inside_quotes():
    assert split_args('"", " a ",3') == ["", " a ", "3"]


def test_error_rendering_per_cmee_mode():
    assert [AtError("CMS", 500).render(n) for n in (0, 1, 2)] == ["ERROR", "+CMS ERROR: 500", "+CMS ERROR: unknown error"]
    assert AtError().render(2) == "ERROR"


# -- PDUs -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("text", ["hello", "x" * 160, "x" * 161, "price: 5€ [ok]", "Привет", "日本語" * 30])
def test_decode_submit_reads_what_gsmmodem_encodes(text):
    pdus = encodeSmsSubmitPdu("+15551230001", text, reference=9, validity=timedelta(hours=1),
                              requestStatusReport=True)
    decoded = [decode_submit(str(p), tpdu_length=p.tpduLength) for p in pdus]
    assert "".join(d.text for d in decoded) == text
    assert all(d.recipient == "+15551230001" and d.reference == 9 and d.status_report for d in decoded)
    if len(pdus) > 1:
        assert [d.concat.seq for d in decoded] == list(range(1, len(pdus) + 1))
        assert {d.concat.total for d in decoded} == {len(pdus)}


def test_decode_submit_rejects_wrong_length_and_non_hex():
    pdu = encodeSmsSubmitPdu("+15551230001", "x")[0]
    with pytest.raises(PduError):
        decode_submit(str(pdu), tpdu_length=pdu.tpduLength + 1)
    with pytest.raises(PduError):
        decode_submit("zz")
    with pytest.raises(PduError):
        decode_submit(str(pdu)[:20])


def test_national_number_and_status_report_flag():
    s = decode_submit(encode_submit("5551234", Part("hi", "gsm7"), reference=3))
    assert (s.recipient, s.reference, s.status_report, s.text) == ("5551234", 3, False, "hi")


@pytest.mark.parametrize("text,parts", [("a" * 160, 1), ("a" * 161, 2), ("a" * 306, 2), ("a" * 307, 3),
                                         ("€" * 80, 1), ("€" * 81, 2), ("é😀" * 35, 2), ("ü" * 70, 1)])
def test_split_text_limits(text, parts):
    split = split_text(text, reference=7)
    assert len(split) == parts and "".join(p.text for p in split) == text


def test_split_never_cuts_an_escape_or_a_surrogate_pair():
    for p in split_text("a" + "€" * 100, reference=1):
        assert p.text.count("€") * 2 + p.text.count("a") <= 153
    for p in split_text("😀" * 50, reference=1):
        assert "\ufffd" not in p.text and len(p.text.encode("utf-16-be")) <= 134


def test_deliver_decodes_with_gsmmodem():
    when = datetime(2024, 5, 6, 7, 8, 9, tzinfo=timezone.utc)
    for part in split_text("Hello {world} " * 20, reference=200):
        hexpdu, length = Deliver("+15551230001", part, when, "+15559999999").pdu()
        d = decodeSmsPdu(hexpdu)
        assert (d["type"], d["number"], d["smsc"], d["tpdu_length"]) == (
            "SMS-DELIVER", "+15551230001", "+15559999999", length)
        assert d["text"] == part.text and d["time"].replace(tzinfo=None) == when.replace(tzinfo=None)
        assert (d["udh"][0].reference, d["udh"][0].number) == (200, part.concat.seq)


def test_status_report_decodes_with_gsmmodem():
    when = datetime(2024, 5, 6, 7, 8, 9, tzinfo=timezone.utc)
    d = decodeSmsPdu(StatusReport(77, "+15551230001", 0x41, when, when).pdu()[0])
    assert (d["type"], d["reference"], d["number"], d["status"]) == ("SMS-STATUS-REPORT", 77, "+15551230001", 0x41)


def test_udh_with_16_bit_reference():
    assert parse_udh(bytes([6, 0x08, 4, 0x12, 0x34, 3, 2])) == Concat(0x1234, 3, 2)
    assert parse_udh(bytes([5, 0x00, 3, 9, 2, 1])) == Concat(9, 2, 1)
    assert parse_udh(b"") is None


# -- dialect tables -------------------------------------------------------------------------------
def test_boot_urcs_match_the_field_notes():
    assert dialect("sim800").boot_urcs == ("RDY", "+CFUN: 1", "+CPIN: READY", "Call Ready", "SMS Ready")
    assert dialect("sim7600").boot_urcs[-1] == "PB DONE"
    assert dialect("ec25").boot_urcs[:1] + dialect("ec25").boot_urcs[-3:] == (
        "RDY", "+QUSIM: 1", "+QIND: SMS DONE", "+QIND: PB DONE")


def test_dtmf_urc_formats():
    assert [DIALECTS[k].dtmf_line("5") for k in ("sim800", "sim7600", "ec25")] == [
        "+DTMF: 5", "+RXDTMF: 5", "+QTONEDET: 53"]
    assert DIALECTS["ec25"].dtmf_line("#") == "+QTONEDET: 35"


def test_pcm_commands_and_identity():
    assert (dialect("sim7600").pcm_command, dialect("ec25").pcm_command, dialect("sim800").pcm_command) == (
        "CPCMREG", "QPCMV", "")
    assert dialect("EC25").manufacturer == "Quectel"


def test_the_drivers_vendor_detection_recognises_each_dialect():
    from pigate.modem.vendors import detect

    for key, d in DIALECTS.items():
        assert detect(d.manufacturer, d.model).key == key


# -- input framing --------------------------------------------------------------------------------
def test_line_reader_frames_commands_and_text_entry():
    r = LineReader()
    assert list(r.feed(b"\x1bAT+CMGS=5\r")) == [LineIn("AT+CMGS=5")]
    assert r.take_echo() == b"AT+CMGS=5\r"
    r.text_mode = True
    assert list(r.feed(b"line1\rline2\x1a")) == [TextNewline(), TextIn("line1\nline2", True)]
    assert not r.text_mode
    r.text_mode = True
    assert list(r.feed(b"abc\x1b")) == [TextIn("abc", False)]
    assert list(r.feed(b"\nATX\x08E1\r")) == [LineIn("ATE1")]


def test_storage_capacity_and_delete_flags():
    s = Storage("SM", 3)
    when = datetime.now(timezone.utc)
    idx = [s.put(Deliver("+1", Part(str(i), "gsm7"), when), st)
           for i, st in enumerate(["REC READ", "REC UNREAD", "STO SENT"])]
    assert idx == [1, 2, 3] and s.full and s.put(Deliver("+1", Part("x", "gsm7"), when)) is None
    s.delete_by_flag(2)
    assert sorted(s.slots) == [2]
    assert s.put(Deliver("+1", Part("y", "gsm7"), when)) == 1
