"""The OzML runner against the shipped FakeLeg (virtual time): the spec's examples and every menu rule."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from pigate.errors import SmsDestinationNotFound
from pigate.ozml.fakes import FakeLeg, FakeServices, Press, ringing_leg
from pigate.ozml.leg import KeyBuffer, RecordingResult
from pigate.ozml.runner import Runner

DATA = Path(__file__).parent / "data"


class Session:
    """A runner on a FakeLeg with an in-memory app (url -> OzML) that records every post."""

    def __init__(self, leg: FakeLeg | None = None, app: dict[str, str] | None = None, **kw) -> None:
        self.leg = leg if leg is not None else FakeLeg()
        self.services = FakeServices()
        self.app = app or {}
        self.posts: list[tuple[str, dict[str, str]]] = []
        self.errors: list[tuple[int, str, str]] = []
        self.runner = Runner(leg=self.leg, services=self.services, fetch=self.fetch,
                             on_error=lambda e, call_id: self.errors.append((e.code, str(e), call_id)), **kw)

    def fetch(self, url: str, fields: dict[str, str]) -> str:
        self.posts.append((url, dict(fields)))
        return self.app[url]

    def run(self, ozml: str, context: str = "CallConnected"):
        return self.runner.run(context=context, ozml=ozml)


def menu(body: str, **attrs: str) -> str:
    attributes = "".join(f' {k}="{v}"' for k, v in attrs.items())
    return f"<UserInput{attributes}>{body}</UserInput>"


# -- the spec's examples ---------------------------------------------------------------------------------

def test_basic_speaking_example():
    s = Session()
    report = s.run((DATA / "basic_speaking.xml").read_text())
    assert s.leg.actions() == [
        ("speak", "Congratulations, this is your first OzML Response command."),
        ("speak", "Have a nice day!"), ("play", "c:\\testsound.wav"), ("hangup", "")]
    assert s.leg.log[0][0] == 1.0  # after the one-second Delay
    assert report.ended == "script" and report.errors == []


def test_blind_transfer_example_when_the_transfer_fails_and_when_it_works():
    s = Session(FakeLeg(transfers={"101": False}))
    s.run((DATA / "blind_transfer.xml").read_text())
    assert s.leg.of("transfer") == ["101:failed"]
    assert s.leg.spoken[-1] == "Sorry, but blind transfer failed. Please setup extension number 101 in the system."
    assert s.leg.actions()[-1] == ("hangup", "")

    s = Session(FakeLeg())
    report = s.run((DATA / "blind_transfer.xml").read_text())
    assert s.leg.actions()[-1] == ("transfer", "101:ok")  # nothing after it, and no hang-up
    assert report.ended == "transferred" and s.leg.state == "Transferred"


def test_sms_sending_example_queues_the_sms_from_the_calls_api_extension():
    s = Session(FakeLeg(api_extension="9990"))
    s.run((DATA / "sms_sending.xml").read_text())
    assert [(m["recipient"], m["text"], m["api_extension"]) for m in s.services.sms] == [
        ("45026467", "Hello from Ozeki Phone System!", "9990")]
    assert s.leg.spoken == ["Hello, a test SMS will be sent."]


IVR = (DATA / "basic_ivr.xml").read_text()


def test_ivr_key_1_during_the_second_prompt_cuts_it_and_sends_the_sms():
    s = Session(FakeLeg(presses=[Press("1", during="To send an SMS")]))
    s.run(IVR)
    assert s.leg.actions() == [
        ("speak", "Welcome to the Ozeki Phone System IVR."), ("speak", "To send an SMS, press 1."),
        ("cut", "To send an SMS, press 1."), ("speak", "A test SMS will be sent."), ("speak", "Good bye."),
        ("hangup", "")]
    assert s.leg.digits_read == "1"
    assert s.services.sms[0]["recipient"] == "45026467"


def test_ivr_key_2_after_the_prompts():
    s = Session(FakeLeg(presses=[Press("2", at=12.0)]))
    s.run(IVR)
    assert s.leg.spoken[-2:] == ["You pressed button 2. You did nothing.", "Good bye."]
    assert s.services.sms == []


def test_ivr_key_3_transfer_fails_then_the_script_goes_on():
    s = Session(FakeLeg(presses=[Press("3", during="press 3")], transfers={"101": False}))
    s.run(IVR)
    assert s.leg.of("transfer") == ["101:failed"]
    assert s.leg.spoken[-2:] == ["Sorry, but blind transfer failed to extension 101.", "Good bye."]


def test_ivr_repeats_after_the_timeout_and_gives_up_after_max_rounds():
    s = Session(FakeLeg(), max_menu_rounds=3)
    s.run(IVR)
    welcomes = [t for t, action, arg in s.leg.log if arg == "Welcome to the Ozeki Phone System IVR."]
    assert len(welcomes) == 3
    prompts_seconds = sum(len(t) for t in ("Welcome to the Ozeki Phone System IVR.", "To send an SMS, press 1.",
                                           "To do nothing, press 2.", "To transfer the call to 101, press 3.")) * 0.06
    assert welcomes[1] - welcomes[0] == pytest.approx(prompts_seconds + 10.0)
    assert s.leg.spoken[-1] == "Good bye."


def test_ivr_key_pressed_in_the_second_round():
    prompts = 122 * 0.06  # the four prompts' characters at the fake's speaking rate
    second_round = 1 + (prompts + 10) + prompts + 5  # halfway through the second round's timeout
    s = Session(FakeLeg(presses=[Press("2", at=second_round)]))
    s.run(IVR)
    assert s.leg.spoken.count("Welcome to the Ozeki Phone System IVR.") == 2
    assert "You pressed button 2. You did nothing." in s.leg.spoken


def test_call_command_example_starts_a_new_call():
    s = Session(FakeLeg(api_extension="9998"))
    s.run((DATA / "call_command.xml").read_text(), context="IncomingCall")
    (call,) = s.services.calls
    assert (call["dialed"], call["caller_id"], call["api_extension"], call["ring_time"]) == ("102", "3000", "9998", 120)
    assert call["url"] == "http://yourdomain.com/ozml_example/call_connected.php"


# -- UserInput rules -------------------------------------------------------------------------------------

CHOICES = '<Inputs><Input key="1"><Speak>one</Speak></Input><Input key="2"><Speak>two</Speak></Input></Inputs>'


def test_without_repeat_a_timeout_leaves_the_menu_and_the_script_goes_on():
    s = Session()
    s.run(f"<Response>{menu('<InitialCommands><Speak>choose</Speak></InitialCommands>' + CHOICES)}"
          "<Speak>after</Speak></Response>")
    assert s.leg.spoken == ["choose", "after"]
    assert s.leg.log[1][0] == pytest.approx(len("choose") * 0.06 + 10)


def test_unmatched_digits_without_forward_url_leave_the_menu():
    s = Session(FakeLeg(presses=[Press("9", at=1)]))
    s.run(f"<Response>{menu(CHOICES)}<Speak>after</Speak></Response>")
    assert s.leg.spoken == ["after"] and s.leg.digits_read == "9"


def test_unmatched_digits_go_to_forward_url_as_dtmf_entered_and_its_ozml_runs():
    s = Session(FakeLeg(id="leg7", api_extension="9998", presses=[Press("4", at=1), Press("2", at=1.5)]),
                app={"http://app/dtmf": "<Response><Speak>you typed 42</Speak></Response>"})
    s.run(f"<Response>{menu(CHOICES, Digits='2', ForwardToUrl='http://app/dtmf')}<Speak>after</Speak></Response>")
    assert s.posts == [("http://app/dtmf", {"NotificationName": "DtmfEntered", "DtmfDigits": "42",
                                            "CallLegID": "leg7", "ApiExtension": "9998"})]
    assert s.leg.spoken == ["you typed 42", "after"]


def test_a_forwarded_answer_that_is_not_allowed_for_dtmf_entered_is_303_and_hangs_up():
    s = Session(FakeLeg(presses=[Press("4", at=1)]), app={"http://app/d": "<Response><Hold/></Response>"})
    report = s.run(f"<Response>{menu(CHOICES, ForwardToUrl='http://app/d')}<Speak>after</Speak></Response>")
    assert [code for code, _, _ in s.errors] == [303]
    assert s.leg.actions()[-1] == ("fail", "") and "after" not in s.leg.spoken
    assert report.ended == "error"


def test_back_key_returns_to_the_enclosing_menu():
    inner = menu('<InitialCommands><Speak>inner</Speak></InitialCommands>'
                 '<Inputs><Input key="5"><Speak>five</Speak></Input></Inputs>')
    outer = menu(f'<InitialCommands><Speak>outer</Speak></InitialCommands><Inputs><Input key="1">{inner}</Input>'
                 '<Input key="2"><Speak>two</Speak></Input></Inputs>')
    s = Session(FakeLeg(presses=[Press("1", during="outer"), Press("*", during="inner"),
                                 Press("2", at=5.0)]))
    s.run(f"<Response>{outer}<Speak>end</Speak></Response>")
    assert s.leg.spoken == ["outer", "inner", "outer", "two", "end"]
    assert s.leg.digits_read == "1*2"


def test_nested_menu_choice_then_the_script_goes_on_after_the_outer_menu():
    inner = menu('<InitialCommands><Speak>inner</Speak></InitialCommands>'
                 '<Inputs><Input key="5"><Speak>five</Speak></Input></Inputs>')
    outer = menu(f'<InitialCommands><Speak>outer</Speak></InitialCommands><Inputs><Input key="1">{inner}</Input>'
                 '</Inputs>')
    s = Session(FakeLeg(presses=[Press("1", during="outer"), Press("5", during="inner")]))
    s.run(f"<Response>{outer}<Speak>end</Speak></Response>")
    assert s.leg.spoken == ["outer", "inner", "five", "end"]


def test_an_input_can_claim_the_back_key_and_back_in_the_outermost_menu_replays_it():
    s = Session(FakeLeg(presses=[Press("*", during="m")]))
    star = '<InitialCommands><Speak>m</Speak></InitialCommands><Inputs><Input key="*"><Speak>star</Speak></Input></Inputs>'
    s.run(f"<Response>{menu(star)}</Response>")
    assert s.leg.spoken == ["m", "star"]
    s = Session(FakeLeg(presses=[Press("*", at=1), Press("1", at=3)]))
    s.run(f"<Response>{menu('<InitialCommands><Speak>m</Speak></InitialCommands>' + CHOICES)}</Response>")
    assert s.leg.spoken == ["m", "m", "one"]


def test_multi_digit_keys_wait_for_a_longer_match():
    inputs = '<Inputs><Input key="1"><Speak>one</Speak></Input><Input key="12"><Speak>twelve</Speak></Input></Inputs>'
    s = Session(FakeLeg(presses=[Press("1", at=1), Press("2", at=2)]))
    s.run(f"<Response>{menu(inputs)}</Response>")
    assert s.leg.spoken == ["twelve"]
    s = Session(FakeLeg(presses=[Press("1", at=1)]))
    s.run(f"<Response>{menu(inputs)}</Response>")
    assert s.leg.spoken == ["one"]  # after the timeout, "1" alone is complete


def test_too_few_digits_when_the_timeout_passes_count_as_a_timeout():
    s = Session(FakeLeg(presses=[Press("1", at=1)]), app={"http://app/d": "<Response><Speak>x</Speak></Response>"})
    s.run(f"<Response>{menu('', MinDigits='3', MaxDigits='4', ForwardToUrl='http://app/d')}<Speak>gone</Speak></Response>")
    assert s.posts == [] and s.leg.spoken == ["gone"]


def test_keys_pressed_before_the_menu_are_not_type_ahead():
    s = Session(FakeLeg(presses=[Press("1", at=0.5)]))
    s.run(f"<Response><Speak>a long welcome text</Speak>{menu(CHOICES, Timeout='2')}<Speak>after</Speak></Response>")
    assert s.leg.spoken == ["a long welcome text", "after"]


def test_delay_and_play_in_initial_commands_stop_at_the_first_key():
    s = Session(FakeLeg(presses=[Press("2", at=3.0)], default_play_seconds=5))
    body = '<InitialCommands><Delay>2</Delay><Play>menu.wav</Play><Speak>never</Speak></InitialCommands>' + CHOICES
    s.run(f"<Response>{menu(body)}</Response>")
    assert s.leg.actions()[:3] == [("play", "menu.wav"), ("cut", "menu.wav"), ("speak", "two")]
    assert s.leg.log[1][0] == 3.0


def test_caller_hanging_up_in_a_menu_ends_the_session_without_our_hangup():
    s = Session(FakeLeg(hangup_at=4.0))
    report = s.run(f"<Response>{menu('<InitialCommands><Speak>m</Speak></InitialCommands>' + CHOICES, Repeat='true')}"
                   "<Speak>after</Speak></Response>")
    assert report.ended == "caller"
    assert s.leg.actions() == [("speak", "m"), ("remote-hangup", "")]


# -- structure, endings, errors -------------------------------------------------------------------------

def test_var_substitution_and_foreach_binds_item():
    s = Session()
    s.run('<Response><Var id="name">Anna</Var><Var id="greeting">Hello $name</Var><Speak>$greeting, $nobody</Speak>'
          '<Array id="nums"><Item>one</Item><Item>$name</Item></Array>'
          '<ForEach source="nums"><Speak>item $item</Speak><SendSms Recipient="$item">hi $name</SendSms></ForEach>'
          '<Speak>$item</Speak></Response>')
    assert s.leg.spoken == ["Hello Anna, $nobody", "item one", "item Anna", "$item"]
    assert [(m["recipient"], m["text"]) for m in s.services.sms] == [("one", "hi Anna"), ("Anna", "hi Anna")]


def test_foreach_over_an_unknown_array_is_reported_and_the_script_goes_on():
    s = Session()
    s.run('<Response><ForEach source="nope"><Speak>x</Speak></ForEach><Speak>on</Speak></Response>')
    assert [code for code, _, _ in s.errors] == [302] and s.leg.spoken == ["on"]


def test_exit_stops_the_script_and_the_owner_rule_hangs_up():
    s = Session()
    report = s.run('<Response><Speak>a</Speak><ForEach source="x"/><Exit/><Speak>b</Speak></Response>')
    assert s.leg.spoken == ["a"] and s.leg.actions()[-1] == ("hangup", "")
    assert report.ended == "exit"


def test_reject_first_on_a_ringing_call_never_answers_it():
    s = Session(ringing_leg())
    report = s.run("<Response><Reject/></Response>", context="IncomingCall")
    assert s.leg.actions() == [("reject", "")] and report.ended == "rejected"


def test_a_ringing_call_is_answered_before_the_first_media_verb():
    s = Session(ringing_leg())
    s.run('<Response><Var id="a">1</Var><Speak>hi $a</Speak></Response>', context="IncomingCall")
    assert s.leg.actions() == [("answer", ""), ("speak", "hi 1"), ("hangup", "")]


def test_invalid_ozml_is_reported_and_the_call_hung_up():
    for text, code in [("<Response><Speak>x</Spk></Response>", 300), ("<Response><Dance/></Response>", 301),
                       ("<Response><Delay>x</Delay></Response>", 302), ("<Response><Hold/></Response>", 303)]:
        s = Session(FakeLeg(id="c1"))
        report = s.run(text)
        assert [(c, call) for c, _, call in s.errors] == [(code, "c1")], text
        assert s.leg.actions() == [("fail", "")] and report.ended == "error"


def test_empty_answer_runs_nothing_and_the_owner_rule_hangs_up():
    s = Session()
    assert s.run("  \n").errors == []
    assert s.leg.actions() == [("hangup", "")]


def test_a_failing_service_is_reported_and_the_script_goes_on():
    s = Session(FakeLeg(id="c9"))
    s.services.fail["send_sms"] = SmsDestinationNotFound()
    s.run('<Response><SendSms Recipient="1">x</SendSms><Speak>on</Speak></Response>')
    assert s.errors == [(501, "Destination of the SMS is not found", "c9")]
    assert s.leg.spoken == ["on"]


def test_goto_is_a_jump_and_hops_are_bounded():
    s = Session(app={"http://app/a": "<Response><Speak>in a</Speak></Response>"})
    report = s.run("<Response><GoTo>http://app/a</GoTo><Speak>never</Speak></Response>")
    assert s.posts == [("http://app/a", {"NotificationName": "GoTo"})]
    assert s.leg.spoken == ["in a"] and report.hops == 1

    s = Session(app={"http://app/loop": "<Response><Speak>again</Speak><GoTo>http://app/loop</GoTo></Response>"})
    report = s.run("<Response><GoTo>http://app/loop</GoTo></Response>")
    assert len(s.posts) == 10 and len(s.leg.spoken) == 10
    assert [code for code, _, _ in s.errors] == [303]
    assert s.leg.actions()[-1] == ("fail", "") and report.ended == "error"


def test_record_posts_record_completed_and_runs_the_answer():
    leg = FakeLeg(caller="103", callee="101", recording=RecordingResult(True, 15.0, "/HttpRecordings/r1.mp3"))
    s = Session(leg, app={"http://app/rec": "<Response><Speak>thanks</Speak></Response>"})
    s.run('<Response><Record FinishedUrl="http://app/rec" Format="WAV"/><Speak>after</Speak></Response>')
    assert s.posts == [("http://app/rec", {"Success": "true", "Duration": "15", "RecordURL": "/HttpRecordings/r1.mp3",
                                           "Caller": "103", "Callee": "101", "NotificationName": "RecordCompleted"})]
    assert s.leg.actions()[:3] == [("record", "wav"), ("speak", "thanks"), ("speak", "after")]


def test_sms_answer_without_a_leg_sends_sms_and_reports_call_verbs():
    services = FakeServices()
    errors = []
    runner = Runner(leg=None, services=services, fetch=lambda u, f: "", api_extension="9999",
                    on_error=lambda e, c: errors.append(e.code))
    report = runner.run(context="IncomingSMS", ozml='<Response><Delay>0.01</Delay><SendSms Recipient="+361">re</SendSms>'
                                                    '<Speak>no call</Speak></Response>')
    assert [(m["recipient"], m["api_extension"]) for m in services.sms] == [("+361", "9999")]
    assert errors == [303] and report.ended == "script"


def test_third_party_script_acts_on_the_named_call_and_never_hangs_up_its_own():
    own, other = FakeLeg(id="A"), FakeLeg(id="B")
    s = Session(own)
    s.services.legs["B"] = other
    s.run('<Response><Hold/><Speak Party="caller" CallId="B">hold on</Speak><Hangup CallId="B"/><Unhold/>'
          '<Hangup CallId="nope"/></Response>', context="CallChanged")
    assert own.actions() == [("hold", ""), ("unhold", "")]
    assert other.actions() == [("speak", "hold on"), ("hangup", "")]
    assert [code for code, _, _ in s.errors] == [601]


def test_session_thread_never_raises_and_hangs_up_on_a_bug():
    leg = FakeLeg()

    def broken_fetch(url, fields):
        raise RuntimeError("bug in the fetcher")

    runner = Runner(leg=leg, services=FakeServices(), fetch=broken_fetch, on_error=lambda e, c: None)
    thread = runner.start(context="CallConnected", url="http://app/x", fields={})
    thread.join(5)
    assert not thread.is_alive()
    assert leg.actions() == [("fail", "")] and runner.report.ended == "error"


def test_key_buffer_wakes_a_waiting_script_from_another_thread():
    keys = KeyBuffer()
    timer = threading.Timer(0.05, keys.push, args=("7",))
    timer.start()
    t0 = time.monotonic()
    assert keys.get(5) == "7"
    assert time.monotonic() - t0 < 1
    assert keys.get(0.01) is None
    closer = threading.Timer(0.05, keys.close)
    closer.start()
    t0 = time.monotonic()
    assert keys.sleep(5) is False and time.monotonic() - t0 < 1
    assert keys.wait(5) is False and keys.closed
    timer.join()
    closer.join()


def test_cancel_stops_the_session_before_its_next_verb():
    release = threading.Event()
    fetched = threading.Event()

    def slow_fetch(url, fields):
        fetched.set()
        release.wait(5)
        return "<Response><Speak>too late</Speak></Response>"

    leg = FakeLeg()
    runner = Runner(leg=leg, services=FakeServices(), fetch=slow_fetch, on_error=lambda e, c: None)
    thread = runner.start(context="CallConnected", ozml="<Response><Speak>hi</Speak><GoTo>http://app/g</GoTo></Response>")
    assert fetched.wait(5)
    runner.cancel()
    release.set()
    thread.join(5)
    assert leg.actions() == [("speak", "hi"), ("hangup", "")] and runner.report.ended == "cancelled"


def test_a_third_party_script_never_answers_a_ringing_call():
    s = Session(ringing_leg())
    s.run("<Response><Play>moh.wav</Play><ForwardCall>200</ForwardCall></Response>", context="CallChanged")
    assert s.leg.actions() == [("play", "moh.wav"), ("forward", "200")]


class RealTimeLeg:
    """A leg in real time on the real KeyBuffer, the way GSM and SIP legs use it (10 ms per character)."""

    def __init__(self) -> None:
        self.id, self.caller, self.callee, self.api_extension = "rt", "1", "2", "9999"
        self.state = "InCall"
        self.keypad = KeyBuffer()
        self.done: list[tuple[str, bool]] = []

    def speak(self, text, *, language=None, voice=None, interruptible=False):
        seconds = len(text) * 0.01
        finished = not self.keypad.wait(seconds) if interruptible else self.keypad.sleep(seconds)
        self.done.append((text, finished))
        return finished

    def hangup(self):
        self.state = "Completed"
        self.keypad.close()


def test_menu_on_a_real_time_leg_with_keys_from_another_thread():
    leg = RealTimeLeg()
    long_prompt = "x" * 100  # one second
    prompts = f"<InitialCommands><Speak>{long_prompt}</Speak><Speak>never</Speak></InitialCommands>"
    script = f"<Response>{menu(prompts + CHOICES, Timeout='5')}</Response>"
    runner = Runner(leg=leg, services=FakeServices(), fetch=lambda u, f: "", on_error=lambda e, c: None)
    presser = threading.Timer(0.2, leg.keypad.push, args=("2",))
    t0 = time.monotonic()
    thread = runner.start(context="CallConnected", ozml=script)
    presser.start()
    thread.join(5)
    presser.join()
    assert leg.done == [(long_prompt, False), ("two", True)]
    assert time.monotonic() - t0 < 0.9 and leg.state == "Completed"
