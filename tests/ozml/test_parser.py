"""The OzML parser on literal documents: typed verbs, defaults, located errors, context rules, safety limits."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from pigate.errors import OzmlError
from pigate.ozml import check, parse, route_of
from pigate.ozml import verbs as v
from pigate.ozml.xmltree import Limits

DATA = Path(__file__).parent / "data"


def error_of(text: str, **kw) -> OzmlError:
    with pytest.raises(OzmlError) as info:
        parse(text, **kw)
    return info.value


# -- the spec's examples -------------------------------------------------------------------------------

def test_ivr_example_parses_into_a_menu_with_defaults():
    script = parse((DATA / "basic_ivr.xml").read_text(), context="CallConnected")
    assert [type(x) for x in script] == [v.Delay, v.UserInput, v.Speak]
    menu = script[1]
    assert (menu.timeout, menu.repeat, menu.digits, menu.fewest, menu.most, menu.back_key) == (10, True, 1, 1, 1, "*")
    assert [s.text for s in menu.initial_commands] == [
        "Welcome to the Ozeki Phone System IVR.", "To send an SMS, press 1.", "To do nothing, press 2.",
        "To transfer the call to 101, press 3."]
    assert [i.key for i in menu.inputs] == ["1", "2", "3"]
    sms = menu.inputs[0].commands[1]
    assert isinstance(sms, v.SendSms) and (sms.recipient, sms.message) == ("45026467", "Hello from Ozeki Phone System!")
    assert isinstance(menu.inputs[2].commands[0], v.BlindTransfer) and menu.inputs[2].commands[0].target == "101"
    assert (menu.line, menu.column) == (4, 1)


def test_call_command_example_from_the_ozeki10_page():
    (call,) = parse((DATA / "call_command.xml").read_text(), context="IncomingCall")
    assert isinstance(call, v.Call)
    assert (call.dialed, call.caller_id, call.ring_time) == ("102", "3000", 120)
    assert call.url == "http://yourdomain.com/ozml_example/call_connected.php"


@pytest.mark.parametrize("name", ["basic_speaking", "blind_transfer", "sms_sending", "basic_ivr"])
def test_every_example_passes_the_linter_for_call_connected(name):
    assert check((DATA / f"{name}.xml").read_text(), context="CallConnected") == []


# -- names, main parameters, defaults -----------------------------------------------------------------

def test_element_and_attribute_names_are_case_insensitive():
    a = parse('<response><speak LANGUAGE="en-us">Hi</speak><userinput TIMEOUT="3" repeat="TRUE">'
              '<initialcommands><BEEP/></initialcommands><INPUTS><input KEY="5"><hangup/></input></INPUTS>'
              '</userinput><SendSms recipient="1">x</SendSms></response>')
    assert a[0].language == "en-us" and a[0].text == "Hi"
    assert a[1].timeout == 3 and a[1].repeat is True and a[1].inputs[0].key == "5"
    assert isinstance(a[1].inputs[0].commands[0], v.Hangup)


def test_main_parameter_as_attribute_or_text_is_the_same_verb():
    by_text = parse("<Response><BlindTransfer>101</BlindTransfer></Response>")[0]
    by_attr = parse('<Response><BlindTransfer Target="101"/></Response>')[0]
    assert by_text.target == by_attr.target == "101"
    both = error_of('<Response><BlindTransfer Target="101">102</BlindTransfer></Response>')
    assert (both.code, both.args_) == (302, ("Target", "BlindTransfer"))


def test_defaults_from_the_reference():
    play, record, route, delay = parse('<Response><Play>a.wav</Play><Record/><Route>100</Route><Delay/></Response>')
    assert (play.repeat, play.timeout) == (False, None)
    assert record.format == "mp3"
    assert (route.destination, route.ring_time) == ("100", 90)
    assert delay.seconds == 1.0


def test_digits_sets_both_bounds_and_long_keys_raise_the_maximum():
    (menu,) = parse('<Response><UserInput Digits="4"><Inputs><Input key="123456"/></Inputs></UserInput></Response>')
    assert (menu.fewest, menu.most) == (4, 6)
    (menu,) = parse('<Response><UserInput MinDigits="2" MaxDigits="5"/></Response>')
    assert (menu.fewest, menu.most) == (2, 5)


def test_delivery_report_url_accepts_ozekis_misspelling():
    (sms,) = parse('<Response><SendSms Recipient="1" DelivaryReportURL="http://a/b">x</SendSms></Response>')
    assert sms.delivery_report_url == "http://a/b"


def test_var_array_foreach_and_xml_niceties():
    script = parse('<?xml version="1.0" encoding="ISO-8859-1"?>\n<Response xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
                   '<!-- c --><Var id="who">Bob &amp; Ann</Var><Array id="n"><Item>1</Item><Item><![CDATA[<2>]]></Item>'
                   '</Array><ForEach source="n"><Speak>$item</Speak></ForEach></Response>')
    var, array, loop = script
    assert var.value == "Bob & Ann"
    assert array.items == ("1", "<2>")
    assert isinstance(loop.body[0], v.Speak)


def test_bytes_are_decoded_by_their_declared_encoding():
    (speak,) = parse('<?xml version="1.0" encoding="ISO-8859-1"?><Response><Speak>Grüße</Speak></Response>'
                     .encode("latin-1"))
    assert speak.text == "Grüße"


# -- located errors -------------------------------------------------------------------------------------

def test_unknown_element_is_301_at_its_position():
    e = error_of("<Response>\n  <Speak>hi</Speak>\n  <Dance/>\n</Response>")
    assert (e.code, e.args_, e.line, e.column) == (301, ("Dance",), 3, 3)
    assert str(e) == "line 3, column 3: Not implemented command: 'Dance'"


def test_number_that_is_not_a_number_is_302_naming_the_attribute():
    e = error_of('<Response>\n<UserInput Timeout="ten"/></Response>')
    assert (e.code, e.args_, e.line, e.column) == (302, ("Timeout", "UserInput"), 2, 1)
    assert error_of("<Response><Delay>soon</Delay></Response>").args_ == ("Seconds", "Delay")
    assert error_of("<Response><Delay>nan</Delay></Response>").args_ == ("Seconds", "Delay")
    assert error_of("<Response><Delay>-1</Delay></Response>").args_ == ("Seconds", "Delay")
    assert error_of('<Response><Play Repeat="maybe">a</Play></Response>').args_ == ("Repeat", "Play")


def test_attribute_that_does_not_belong_is_302():
    e = error_of('<Response><Hangup Volume="11"/></Response>')
    assert (e.code, e.args_) == (302, ("Volume", "Hangup"))
    e = error_of('<Response><Speak text="a" TEXT="b"/></Response>')  # the same attribute twice
    assert e.code == 302


def test_missing_required_parameter_is_302():
    assert error_of("<Response><SendSms>hi</SendSms></Response>").args_ == ("Recipient", "SendSms")
    assert error_of("<Response><Speak/></Response>").args_ == ("Text", "Speak")
    assert error_of("<Response><GoTo/></Response>").args_ == ("Url", "GoTo")
    assert error_of('<Response><SendDTMF>12x</SendDTMF></Response>').args_ == ("Keys", "SendDTMF")


def test_malformed_xml_is_300_with_position():
    e = error_of("<Response>\n<Speak>hi</Spek>\n</Response>")
    assert e.code == 300 and e.line == 2 and e.column > 1
    assert error_of("").code == 300
    assert error_of("<Speak>hi</Speak>").code == 300  # the root must be Response
    assert error_of("<Response>hello</Response>").code == 300
    assert error_of("<Response><Beep>now</Beep></Response>").code == 300


def test_structure_elements_out_of_place_are_303():
    assert error_of('<Response><Input key="1"/></Response>').code == 303
    assert error_of("<Response><Speak>a<Hangup/></Speak></Response>").code == 303
    assert error_of("<Response><UserInput><Speak>x</Speak></UserInput></Response>").code == 303
    e = error_of('<Response><UserInput><Inputs><Input key="1"/><Input key="1"/></Inputs></UserInput></Response>')
    assert e.args_ == ("Key", "Input")


def test_check_reports_every_problem_in_document_order():
    text = ('<Response>\n<Speak foo="1">hi</Speak>\n<Delay>x</Delay>\n<Bogus/>\n<Reject/>\n'
            '<UserInput timeout="a"><Inputs><Input key="1"><Hold/></Input></Inputs></UserInput>\n</Response>')
    found = [(e.code, e.line) for e in check(text, context="IncomingCall")]
    assert found == [(302, 2), (302, 3), (301, 4), (303, 5), (302, 6), (303, 6)]


# -- which verbs an answer may hold --------------------------------------------------------------------

@pytest.mark.parametrize("context", ["IncomingCall", "CallConnected", "IncomingSMS", "SMSDeliveryReport",
                                     "DtmfEntered", "RecordCompleted", "GoTo"])
def test_api_extension_answers_refuse_third_party_verbs(context):
    for verb in ("<Hold/>", "<Unhold/>", "<SendDTMF>1</SendDTMF>", "<Forward>1</Forward>",
                 "<ForwardCall>1</ForwardCall>", '<AttendedTransfer TransferredCallId="a" TargetCallId="b"/>',
                 "<Route>1</Route>", '<CallSetup Caller="1" Callee="2"/>'):
        e = error_of(f"<Response><Speak>x</Speak>{verb}</Response>", context=context)
        assert e.code == 303, verb
    assert parse("<Response><Speak>x</Speak><Var id='a'>1</Var><Beep/><Exit/></Response>", context=context)


def test_call_changed_allows_third_party_verbs_only():
    script = parse('<Response><Hold/><Unhold/><SendDTMF>12</SendDTMF><ForwardCall>7</ForwardCall>'
                   '<AttendedTransfer TransferredCallId="a" TargetCallId="b"/></Response>', context="callchanged")
    assert isinstance(script[3], v.Forward)
    for verb in ("<UserInput/>", "<GoTo>http://a/</GoTo>", '<SendSms Recipient="1">x</SendSms>', "<Call>1</Call>"):
        assert error_of(f"<Response>{verb}</Response>", context="CallChanged").code == 303, verb


def test_reject_only_first_and_route_only_for_routing_interception():
    assert isinstance(parse("<Response><Reject/></Response>", context="IncomingCall")[0], v.Reject)
    e = error_of("<Response><Delay>1</Delay><Reject/></Response>", context="IncomingCall")
    assert (e.code, e.args_) == (303, ("Reject",))
    e = error_of('<Response><UserInput><Inputs><Input key="1"><Reject/></Input></Inputs></UserInput></Response>')
    assert e.code == 303
    assert route_of("<Response><Route RingTime='20'>1200</Route></Response>") == v.Route(
        destination="1200", ring_time=20, line=1, column=11)
    assert route_of("  ") is None
    assert error_of("<Response><Speak>x</Speak></Response>", context="RoutingInterception").code == 303
    assert error_of("<Response><Route>1</Route></Response>", context="CallConnected").code == 303


def test_unknown_context_is_a_programming_error():
    with pytest.raises(ValueError):
        parse("<Response/>", context="Nonsense")


# -- safety ---------------------------------------------------------------------------------------------

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol9 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
]>
<Response><Speak>&lol9;</Speak></Response>"""


def test_billion_laughs_is_refused_quickly():
    t0 = time.perf_counter()
    e = error_of(BILLION_LAUGHS)
    assert time.perf_counter() - t0 < 0.1
    assert (e.code, e.line) == (300, 2)
    assert "DOCTYPE" in str(e)


def test_external_entities_and_undeclared_entities_are_refused():
    xxe = '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><Response><Speak>&x;</Speak></Response>'
    assert error_of(xxe).code == 300
    assert error_of('<!DOCTYPE Response SYSTEM "http://127.0.0.1:9/x.dtd"><Response/>').code == 300
    e = error_of("<Response><Speak>&secret;</Speak></Response>")
    assert e.code == 300 and "undefined entity" in str(e)


def test_size_depth_and_element_limits():
    big = "<Response><Speak>" + "a" * (1 << 20) + "</Speak></Response>"
    assert "exceeds" in str(error_of(big))
    deep = "<Response>" + "<ForEach source='a'>" * 40 + "</ForEach>" * 40 + "</Response>"
    e = error_of(deep)
    assert e.code == 300 and "deeper than 32" in str(e) and e.line == 1
    many = "<Response>" + "<Beep/>" * 50 + "</Response>"
    assert "more than 20 elements" in str(error_of(many, limits=Limits(max_elements=20)))
    assert len(parse(many)) == 50
