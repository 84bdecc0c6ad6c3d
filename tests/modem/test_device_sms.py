"""The Modem against the simulator, per dialect: bring-up, sending PDUs, incoming SMS, status reports, USSD."""

from __future__ import annotations

import threading

import pytest
from gsmmodem.pdu import decodeSmsPdu, encodeSmsSubmitPdu

from pigate.errors import ModemCommandError
from pigate.sim import LatencyProfile
from pigate.modem import events as ev
from tests.modem.world import GATEWAY, HANDSET

DIALECTS = ["sim800", "sim7600", "ec25"]


def submit(modem, text: str, to: str = HANDSET) -> list[int]:
    return [modem.send_sms_pdu(str(pdu), pdu.tpduLength) for pdu in encodeSmsSubmitPdu(to, text, reference=7)]


@pytest.mark.parametrize("dialect", DIALECTS)
def test_bring_up_identifies_the_modem_and_registers(world, dialect):
    w = world(dialect)
    st = w.modem.status()
    assert w.modem.state == "registered" and st["registered"] and st["registration"] == 1
    assert st["vendor"] == dialect and st["imei"] == w.sim.imei and st["imsi"] == w.sim.imsi
    assert st["own_number"] == GATEWAY and st["operator"] == "SimNet"
    assert st["signal_rssi"] == w.sim.rssi and 0 < st["signal_percent"] <= 100
    w.bus.wait_idle()
    assert w.events.states()[:2] == ["initializing", "registered"]
    settings = w.sim.settings
    assert (settings.echo, settings.cmgf) == (False, 0)  # every setting asserted, not assumed


@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_submitted_pdu_reaches_the_handset_and_its_status_report_comes_back(world, dialect):
    w = world(dialect)
    (mr,) = submit(w.modem, "hello ☺ world")
    assert w.handset().wait_inbox(1)[0].text == "hello ☺ world"
    # reports are stored and announced (+CDSI) by default, so one arriving while nobody listens is kept
    where = w.events.wait(ev.StatusReportStored)
    decoded = decodeSmsPdu(w.modem.read_sms(where.storage, where.index).pdu_hex)
    assert (decoded["type"], decoded["reference"], decoded["status"]) == ("SMS-STATUS-REPORT", mr, 0)
    assert decoded["number"] == HANDSET


def test_multipart_parts_go_back_to_back_and_are_reassembled(world):
    w = world("sim7600")
    text = "".join(f"part{i:03d} " for i in range(45))  # 360 GSM-7 characters: three parts
    refs = submit(w.modem, text)
    assert len(refs) == 3 and len(set(refs)) == 3
    assert w.handset().wait_inbox(1)[0].text == text
    assert [s.reference for s in w.net.submissions] == refs


@pytest.mark.parametrize("dialect", DIALECTS)
def test_an_incoming_sms_is_announced_read_and_deleted(world, dialect):
    w = world(dialect)
    w.handset().send_sms(to=GATEWAY, text="hi there")
    stored = w.events.wait(ev.SmsStored)
    sms = w.modem.read_sms(stored.storage, stored.index)
    assert decodeSmsPdu(sms.pdu_hex)["text"] == "hi there" and sms.status == 0
    assert [s.index for s in w.modem.list_sms()] == [stored.index]
    w.modem.delete_sms(sms.storage, sms.index)
    with pytest.raises(ModemCommandError) as err:
        w.modem.read_sms(stored.storage, stored.index)
    assert (err.value.kind, err.value.code) == ("CMS", 321)
    assert w.modem.list_sms() == []


def test_reports_routed_directly_with_cds_when_configured(world):
    w = world("sim7600", init_commands=("AT+CNMI=2,1,0,1,0",))
    (mr,) = submit(w.modem, "report in a URC")
    report = w.events.wait(ev.StatusReport)
    assert decodeSmsPdu(report.pdu_hex)["reference"] == mr


def test_direct_delivery_with_cmt_carries_the_pdu(world):
    w = world("ec25", init_commands=("AT+CNMI=2,2,0,1,0",))
    w.handset().send_sms(to=GATEWAY, text="straight through")
    event = w.events.wait(ev.SmsDelivered)
    assert decodeSmsPdu(event.pdu_hex)["text"] == "straight through"
    assert event.needs_ack is False and w.modem.list_sms() == []


def test_stored_status_reports_are_announced_and_readable(world):
    w = world("sim800", init_commands=("AT+CNMI=2,1,0,2,0",))
    (mr,) = submit(w.modem, "report to storage")
    where = w.events.wait(ev.StatusReportStored)
    stored = w.modem.read_sms(where.storage, where.index)
    decoded = decodeSmsPdu(stored.pdu_hex)
    assert (decoded["type"], decoded["reference"]) == ("SMS-STATUS-REPORT", mr)
    # reading the report storage does not move where incoming messages are listed from
    w.handset().send_sms(to=GATEWAY, text="after the report")
    w.events.wait(ev.SmsStored)
    assert [decodeSmsPdu(s.pdu_hex)["text"] for s in w.modem.list_sms()] == ["after the report"]


def test_a_cms_error_fails_one_submission_without_recovery(world):
    w = world("sim7600")
    w.sim.faults.cms_error(500, "CMGS", 1)
    with pytest.raises(ModemCommandError) as err:
        submit(w.modem, "first")
    assert (err.value.kind, err.value.code) == ("CMS", 500)
    submit(w.modem, "second")
    assert [m.text for m in w.handset().wait_inbox(1)] == ["second"]
    w.bus.wait_idle()
    assert w.modem.state == "registered" and w.events.of(ev.RecoveryStep) == []


def test_an_sms_arriving_during_a_submission_is_not_lost(world):
    w = world("sim7600", latency=LatencyProfile(sms_submit=0.4))
    result: list[int] = []
    sender = threading.Thread(target=lambda: result.extend(submit(w.modem, "outgoing")))
    sender.start()
    w.handset().send_sms(to=GATEWAY, text="incoming meanwhile")
    sender.join(5)
    assert len(result) == 1
    stored = w.events.wait(ev.SmsStored)
    assert decodeSmsPdu(w.modem.read_sms(stored.storage, stored.index).pdu_hex)["text"] == "incoming meanwhile"
    assert w.handset().wait_inbox(1)[0].text == "outgoing"


@pytest.mark.parametrize("dialect", DIALECTS)
def test_ussd_returns_the_network_answer(world, dialect):
    w = world(dialect)
    assert w.modem.ussd("*100#") == "Your balance is 10.00 EUR."
    assert w.events.wait(ev.UssdAnswer).text == "Your balance is 10.00 EUR."


def test_ussd_in_ucs2_keeps_every_character(world):
    w = world("ec25", init_commands=('AT+CSCS="UCS2"',))
    w.net.ussd_answers["*100#"] = "Guthaben: 5,00 € 😀"
    assert w.modem.ussd("*100#") == "Guthaben: 5,00 € 😀"


def test_garbage_on_the_line_is_reported_and_harmless(world):
    w = world("sim800")
    w.sim.faults.garbage(4)
    w.events.wait(ev.UnsolicitedLine)
    w.bus.wait_idle()
    assert len(w.events.of(ev.UnsolicitedLine)) == 4
    submit(w.modem, "still fine")
    assert w.handset().wait_inbox(1)[0].text == "still fine"


def test_a_submission_that_times_out_reports_its_late_answer(world):
    from pigate.errors import ModemTimeout

    w = world("sim7600", latency=LatencyProfile(sms_submit=1.2), sms_timeout=0.4, probe_timeout=2.0)
    with pytest.raises(ModemTimeout):
        submit(w.modem, "slow network")  # outcome unknown to the caller at this point...
    late = w.events.wait(ev.LateSubmit, timeout=5)
    assert [s.reference for s in w.net.submissions] == [late.reference]  # ...and settled by the late +CMGS
    w.wait_state("registered")
