"""What OzML scripts reach beyond their own call (ScriptServices): SMS via the SMS service, calls via this one."""

from __future__ import annotations

from typing import Protocol

from pigate.errors import SmsDestinationNotFound
from pigate.ozml.leg import Leg
from pigate.ozml.services import CallFate


class SmsSubmitter(Protocol):
    """pigate.sms.service.SmsService's sending face."""

    def submit(self, recipient: str, text: str, *, api_extension: str, sender: str | None = None,
               report_url: str | None = None, reference: str | None = None, command: str = "SendSms") -> str: ...


class CallControl(Protocol):
    """The part of the call service scripts use."""

    def call(self, dialed: str, *, api_extension: str, caller_id: str | None = None,
             caller_display_name: str | None = None, url: str | None = None, error_url: str | None = None,
             response_ozml: str | None = None, finished_url: str | None = None,
             ring_time: int | None = None) -> str: ...

    def leg_of(self, call_id: str) -> Leg: ...

    def fate(self, call_id: str) -> CallFate | None: ...

    def call_setup(self, caller: str, callee: str, *, api_extension: str, error_url: str | None = None) -> str: ...

    def attended_transfer(self, transferred_call_id: str, target_call_id: str) -> None: ...


class CallScriptServices:
    """ScriptServices for sessions on GSM calls, and (through DetachedScripts) for the OzML that answers
    IncomingSMS and SMSDeliveryReport: Call, third-party verbs on live calls, SendSms.

    CallSetup and AttendedTransfer join two calls (calls/setup.py): on a GSM-only box with one line they fail
    for want of a second line (402 NoFreeLine), which the runner reports as an Error notification.
    """

    def __init__(self, *, calls: CallControl, sms: SmsSubmitter | None) -> None:
        self._calls = calls
        self._sms = sms

    def send_sms(self, recipient: str, text: str, *, sender: str | None, api_extension: str,
                 delivery_report_url: str | None) -> str:
        if self._sms is None:
            raise SmsDestinationNotFound()
        return self._sms.submit(recipient, text, api_extension=api_extension, sender=sender,
                                report_url=delivery_report_url)

    def call(self, dialed: str, *, api_extension: str, caller_id: str | None, caller_display_name: str | None,
             url: str | None, error_url: str | None, response_ozml: str | None, finished_url: str | None,
             ring_time: int) -> str:
        return self._calls.call(dialed, api_extension=api_extension, caller_id=caller_id,
                                caller_display_name=caller_display_name, url=url, error_url=error_url,
                                response_ozml=response_ozml, finished_url=finished_url, ring_time=ring_time)

    def call_fate(self, call_id: str) -> CallFate | None:
        return self._calls.fate(call_id)

    def call_setup(self, caller: str, callee: str, *, error_url: str | None, api_extension: str = "") -> str:
        return self._calls.call_setup(caller, callee, api_extension=api_extension, error_url=error_url)

    def attended_transfer(self, transferred_call_id: str, target_call_id: str) -> None:
        self._calls.attended_transfer(transferred_call_id, target_call_id)

    def find_leg(self, call_id: str, *, party: str | None) -> Leg:
        # A GSM call has one far party: Party (caller, callee, all) names the same leg.
        return self._calls.leg_of(call_id)
