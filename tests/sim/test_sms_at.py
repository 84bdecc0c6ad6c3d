"""SMS over the simulator's pty, driven the way a host driver drives a modem (pyserial, PDU and text mode)."""

from __future__ import annotations

import time
import warnings

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from gsmmodem.pdu import decodeSmsPdu, encodeSmsSubmitPdu

from pigate.sim.pdu import encode_submit, split_text

HANDSET = "+15551230001"


def submit_pdu(at, text: str, to: str = HANDSET, *, reference: int = 0, report: bool = True) -> list[str]:
    finals = []
    for pdu in encodeSmsSubmitPdu(to, text, reference=reference, requestStatusReport=report):
        lines, final = at.send_text(f"AT+CMGS={pdu.tpduLength}", str(pdu))
        assert final == "OK", (lines, final)
        finals += lines
    return finals


def test_pdu_submission_reaches_handset_and_reports_delivery(net, modem, at):
    at.ok("AT+CNMI=2,1,0,1,0")
    lines = submit_pdu(at, "hello from the gateway")
    assert lines == ["+CMGS: 0"]
    inbox = net.handset(HANDSET).wait_inbox(1)
    assert (inbox[0].sender, inbox[0].text) == (modem.number, "hello from the gateway")
    header = at.wait_line("+CDS:")
    length = int(header.split(":")[1])
    report = decodeSmsPdu(at.next_line())
    assert report["type"] == "SMS-STATUS-REPORT"
    assert (report["reference"], report["number"], report["status"]) == (0, HANDSET, 0)
    assert report["tpdu_length"] == length
    sub = net.submissions[0]
    assert (sub.modem, sub.recipient, sub.reference, sub.text, sub.status_report) == (
        modem.number, HANDSET, 0, "hello from the gateway", True)


def test_message_reference_increments_and_wraps(net, modem, at):
    modem.next_mr = 254
    refs = [submit_pdu(at, f"n{i}", report=False)[0] for i in range(3)]
    assert refs == ["+CMGS: 254", "+CMGS: 255", "+CMGS: 0"]


def test_multipart_unicode_submission_is_reassembled_at_the_handset(net, modem, at):
    # gsmmodem's encoder cannot do emoji (UTF-16 surrogates), so the parts come from our encoder here;
    # test_pdu.py checks that encoder against gsmmodem's on what both can encode.
    text = "Grüße aus dem Gateway 😀 " * 6
    lines = []
    for part in split_text(text, reference=42):
        hexpdu = encode_submit(HANDSET, part)
        lines += at.send_text(f"AT+CMGS={len(hexpdu) // 2 - 1}", hexpdu)[0]
    assert len(lines) == 3
    msg = net.handset(HANDSET).wait_inbox(1)[0]
    assert msg.text == text and len(msg.parts) == 3 and msg.encoding == "ucs2"
    assert [s.concat.seq for s in net.submissions] == [1, 2, 3]
    assert {s.concat.reference for s in net.submissions} == {42}


def test_text_mode_submission_with_report(net, modem, at):
    at.ok("AT+CMGF=1")
    at.ok("AT+CSMP=49,167,0,0")
    at.ok("AT+CNMI=2,1,0,1,0")
    lines, final = at.send_text(f'AT+CMGS="{HANDSET}"', "plain text")
    assert (lines, final) == (["+CMGS: 0"], "OK")
    assert net.handset(HANDSET).wait_inbox(1)[0].text == "plain text"
    cds = at.wait_line("+CDS:")
    assert cds.startswith(f'+CDS: 6,0,"{HANDSET}",145,') and cds.endswith(",0")


def test_text_mode_ucs2_charset(net, modem, at):
    at.ok("AT+CMGF=1")
    at.ok('AT+CSCS="UCS2"')
    at.ok("AT+CSMP=17,167,0,8")
    to = HANDSET.encode("utf-16-be").hex().upper()
    body = "Привет 😀".encode("utf-16-be").hex().upper()
    lines, final = at.send_text(f'AT+CMGS="{to}"', body)
    assert final == "OK"
    msg = net.handset(HANDSET).wait_inbox(1)[0]
    assert msg.text == "Привет 😀" and msg.encoding == "ucs2"


def test_prompt_has_no_newline_and_escape_aborts(net, modem, at):
    at.write("AT+CMGS=20\r")
    assert at.read_until(b"> ") == b"\r\n> "
    time.sleep(0.1)
    assert at.port.read(100) == b""  # nothing after the prompt
    at.write(b"0011000B915155210300F10000AA05E8329BFD06\x1b")
    assert at.collect() == ([], "OK")
    assert net.submissions == []


def test_bad_pdu_length_is_cms_304(net, modem, at):
    pdu = encodeSmsSubmitPdu(HANDSET, "x", requestStatusReport=False)[0]
    assert at.send_text(f"AT+CMGS={pdu.tpduLength + 3}", str(pdu)) == ([], "+CMS ERROR: 304")


def test_incoming_sms_is_stored_indicated_read_and_deleted(net, modem, at):
    net.handset(HANDSET).send_sms(modem.number, "ping")
    cmti = at.wait_line("+CMTI:")
    mem = modem.settings.cpms[2]
    assert cmti == f'+CMTI: "{mem}",1'
    lines = at.ok("AT+CMGR=1")
    assert lines[0].startswith("+CMGR: 0,,")
    sms = decodeSmsPdu(lines[1])
    assert (sms["type"], sms["number"], sms["text"]) == ("SMS-DELIVER", HANDSET, "ping")
    assert at.ok("AT+CMGR=1")[0].startswith("+CMGR: 1,,")  # now read
    assert at.ok("AT+CMGL=4")[0].startswith("+CMGL: 1,1,,")
    at.ok("AT+CMGD=1")
    assert at.ok("AT+CMGL=4") == []
    assert at.ok("AT+CPMS?")[0] == f'+CPMS: "{mem}",0,{modem.storages[mem].capacity},' + \
        ",".join(f'"{mem}",0,{modem.storages[mem].capacity}' for _ in range(2))


def test_incoming_multipart_emoji_arrives_as_parts_with_concat_headers(net, modem, at):
    text = "Hello gateway 😀 " * 6
    net.handset(HANDSET).send_sms(modem.number, text)
    at.wait_line("+CMTI:")
    at.wait_line("+CMTI:")
    lines = at.ok("AT+CMGL=4")
    pdus = [decodeSmsPdu(lines[i]) for i in range(1, len(lines), 2)]
    assert [p["udh"][0].number for p in pdus] == [1, 2]
    joined = "".join(p["text"] for p in pdus)
    assert joined.encode("utf-16-be", "surrogatepass").decode("utf-16-be") == text


def test_incoming_direct_delivery_cmt_pdu_and_text(net, modem, at):
    at.ok("AT+CNMI=2,2,0,0,0")
    h = net.handset(HANDSET)
    h.send_sms(modem.number, "direct")
    header = at.wait_line("+CMT:")
    assert header.startswith("+CMT: ,")
    pdu = at.next_line()
    assert decodeSmsPdu(pdu)["text"] == "direct"
    at.ok("AT+CMGF=1")
    h.send_sms(modem.number, "direct text")
    assert at.wait_line("+CMT:").startswith(f'+CMT: "{HANDSET}","","')
    assert at.next_line() == "direct text"
    assert all(s.used == 0 for s in modem.storages.values())


def test_text_mode_read_and_list(net, modem, at):
    at.ok("AT+CMGF=1")
    net.handset(HANDSET).send_sms(modem.number, "text mode read")
    at.wait_line("+CMTI:")
    lines = at.ok('AT+CMGL="ALL"')
    assert lines[0].startswith(f'+CMGL: 1,"REC UNREAD","{HANDSET}","","') and lines[1] == "text mode read"
    assert at.ok("AT+CMGR=1")[0].startswith(f'+CMGR: "REC READ","{HANDSET}"')


def test_stored_status_report_cdsi(net, modem, at):
    at.ok("AT+CNMI=2,1,0,2,0")
    submit_pdu(at, "report me")
    cdsi = at.wait_line("+CDSI:")
    assert cdsi == '+CDSI: "SR",1'
    at.ok('AT+CPMS="SR"')
    lines = at.ok("AT+CMGR=1")
    report = decodeSmsPdu(lines[1])
    assert (report["type"], report["reference"], report["status"]) == ("SMS-STATUS-REPORT", 0, 0)


@pytest.mark.parametrize("policy,status,delivered", [("fail", 0x41, False), ("success", 0, True)])
def test_delivery_policy_decides_the_report(net, modem, at, policy, status, delivered):
    net.handset(HANDSET).delivery_policy = policy
    at.ok("AT+CNMI=2,1,0,1,0")
    submit_pdu(at, "policy")
    at.wait_line("+CDS:")
    assert decodeSmsPdu(at.next_line())["status"] == status
    assert bool(net.handset(HANDSET).inbox) is delivered


def test_delivery_report_that_never_comes(net, modem, at):
    net.delivery_policy = "never"
    at.ok("AT+CNMI=2,1,0,1,0")
    submit_pdu(at, "no report")
    net.handset(HANDSET).wait_inbox(1)
    net.scheduler.wait_idle()
    assert at.lines(0.3) == []


def test_network_drops_an_sms(net, modem, at):
    at.ok("AT+CNMI=2,1,0,1,0")
    net.faults.drop_next_sms()
    assert submit_pdu(at, "lost") == ["+CMGS: 0"]
    net.scheduler.wait_idle()
    assert at.lines(0.3) == [] and net.handset(HANDSET).inbox == []
    submit_pdu(at, "kept")
    assert net.handset(HANDSET).wait_inbox(1)[0].text == "kept"


def test_storage_full_holds_messages_until_space_is_freed(net, dialect, open_client):
    m = net.add_modem(number="+15550000002", dialect=dialect, capacity={"SM": 3, "ME": 3})
    m.start()
    at = open_client(m.at_path)
    at.ok("ATE0")
    at.ok("AT+CMEE=1")
    mem = m.settings.cpms[2]
    assert m.faults.storage_full() == 3
    assert at.ok("AT+CPMS?")[0].startswith(f'+CPMS: "{mem}",3,3')
    net.handset(HANDSET).send_sms(m.number, "waiting")
    net.scheduler.wait_idle()
    assert at.lines(0.3) == [] and len(m.pending) == 1
    at.ok("AT+CMGD=2")
    assert at.wait_line("+CMTI:") == f'+CMTI: "{mem}",2'
    assert decodeSmsPdu(at.ok("AT+CMGR=2")[1])["text"] == "waiting"


def test_sms_commands_need_the_pin(net, dialect, open_client):
    m = net.add_modem(number="+15550000003", dialect=dialect, pin="1234")
    m.start()
    at = open_client(m.at_path)
    at.ok("ATE0")
    at.ok("AT+CMEE=1")
    assert at.ok("AT+CPIN?") == ["+CPIN: SIM PIN"]
    assert at.command("AT+CMGL=4") == ([], "+CMS ERROR: 311")
    assert at.ok("AT+CREG?") == ["+CREG: 0,0"]
    assert at.command('AT+CPIN="0000"') == ([], "+CME ERROR: 16")
    at.ok('AT+CPIN="1234"')
    assert at.wait_line("+CPIN:") == "+CPIN: READY"
    assert at.ok("AT+CPIN?") == ["+CPIN: READY"]
    assert at.ok("AT+CREG?") == ["+CREG: 0,1"]
    at.ok("AT+CMGL=4")


def test_registration_lost_and_regained(net, modem, at):
    at.ok("AT+CREG=1")
    modem.faults.registration_lost()
    assert at.wait_line("+CREG:") == "+CREG: 2"
    assert at.ok("AT+CREG?") == ["+CREG: 1,2"]
    pdu = encodeSmsSubmitPdu(HANDSET, "x", requestStatusReport=False)[0]
    assert at.send_text(f"AT+CMGS={pdu.tpduLength}", str(pdu)) == ([], "+CMS ERROR: 331")
    net.handset(HANDSET).send_sms(modem.number, "held while unregistered")
    net.scheduler.wait_idle()
    assert at.lines(0.2) == []
    modem.faults.registration_regained(roaming=True)
    assert at.wait_line("+CREG:") == "+CREG: 5"
    at.wait_line("+CMTI:")
    stat = [at.ok(f"AT+{k}?")[0] for k in modem.dialect.registration_kinds]
    assert all(s.endswith(",5") for s in stat), stat


def test_sim_missing(net, modem, at):
    modem.faults.sim_missing()
    assert at.wait_line("+CPIN:") == "+CPIN: NOT INSERTED"
    assert at.command("AT+CPIN?") == ([], "+CME ERROR: 10")
    assert at.command("AT+CMGL=4") == ([], "+CMS ERROR: 310")
    assert at.ok("AT+CREG?") == ["+CREG: 0,0"]
    modem.faults.sim_inserted()
    assert at.wait_line("+CPIN:") == "+CPIN: READY"
    assert at.ok("AT+CREG?") == ["+CREG: 0,1"]


def test_injected_cms_error_strikes_after_the_pdu(net, modem, at):
    modem.faults.cms_error(code=500, command="CMGS", times=1)
    pdu = encodeSmsSubmitPdu(HANDSET, "x", requestStatusReport=False)[0]
    assert at.send_text(f"AT+CMGS={pdu.tpduLength}", str(pdu)) == ([], "+CMS ERROR: 500")
    assert net.submissions == []
    assert at.send_text(f"AT+CMGS={pdu.tpduLength}", str(pdu)) == (["+CMGS: 0"], "OK")


def test_cpms_switches_storages(net, modem, at):
    lines = at.ok('AT+CPMS="ME","ME","ME"')
    cap = modem.storages["ME"].capacity
    assert lines == ["+CPMS: " + ",".join([f"0,{cap}"] * 3)]
    net.handset(HANDSET).send_sms(modem.number, "to ME")
    assert at.wait_line("+CMTI:") == '+CMTI: "ME",1'
    assert at.command('AT+CPMS="XX"') == ([], "+CMS ERROR: 302")


def test_a_multipart_message_with_a_missing_part(net, modem, at):
    text = "part " * 70  # 350 characters: three parts
    sent = net.handset(HANDSET).send_sms_parts(modem.number, text, parts=[1, 3])
    assert [p.concat.seq for p in sent.parts] == [1, 3] and sent.parts[0].concat.total == 3
    at.wait_line("+CMTI:")
    at.wait_line("+CMTI:")
    lines = at.ok("AT+CMGL=4")
    seqs = [decodeSmsPdu(lines[i])["udh"][0].number for i in range(1, len(lines), 2)]
    assert seqs == [1, 3]
