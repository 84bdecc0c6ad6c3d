"""The notifications' form fields: one builder per notification, with Ozeki's exact field names and order (docs/webhooks.md).

Each builder returns an ordered dict of strings ready for `Notifier.post`. Names and order follow the
examples of ozeki-http-api-notifications.txt; where its parameter table names a field the example lacks
(RoutingInterception's CallerExtension) the field is sent too, after the example's ones.
"""

from __future__ import annotations

from pigate.callstates import CALL_STATES, ROUTING_STATES
from pigate.errors import STATUS_CODES, status_message

# The notification names, as sent in NotificationName.
ROUTING_INTERCEPTION = "RoutingInterception"
CALL_CHANGED = "CallChanged"
RECORD_COMPLETED = "RecordCompleted"
CALL_CONNECTED = "CallConnected"
INCOMING_CALL = "IncomingCall"
INCOMING_SMS = "IncomingSMS"
ALARM_NOTIFICATION = "AlarmNotification"
ALARM_NOTIFICATION_SENT = "AlarmNotificationSent"
SMS_DELIVERY_REPORT = "SMSDeliveryReport"
DTMF_ENTERED = "DtmfEntered"
GOTO = "GoTo"
ERROR = "Error"



def flag(value: bool) -> str:
    return "true" if value else "false"


def seconds(value: float) -> str:
    """Whole seconds as an integer ("15"), otherwise up to millisecond precision ("2.5")."""
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.3f}".rstrip("0").rstrip(".")


def _check(value: str, allowed: tuple[str, ...], what: str) -> str:
    if value not in allowed:
        raise ValueError(f"{what} must be one of {', '.join(allowed)}, not {value!r}")
    return value


def routing_interception(*, caller_id: str, original_dialed_number: str, last_dialed_number: str,
                         last_called_extension: str, last_call_state: str, api_extension: str,
                         caller_extension: str) -> dict[str, str]:
    return {
        "NotificationName": ROUTING_INTERCEPTION,
        "CallerID": caller_id,
        "OriginalDialedNumber": original_dialed_number,
        "LastDialedNumber": last_dialed_number,
        "LastCalledExtension": last_called_extension,
        "LastCallState": _check(last_call_state, ROUTING_STATES, "LastCallState"),
        "ApiExtension": api_extension,
        "CallerExtension": caller_extension,
    }


def call_changed(*, call_state: str, call_id: str, caller: str, caller_id: str, callee: str) -> dict[str, str]:
    return {
        "NotificationName": CALL_CHANGED,
        "CallState": _check(call_state, CALL_STATES, "CallState"),
        "CallId": call_id,
        "Caller": caller,
        "CallerId": caller_id,
        "Callee": callee,
    }


def record_completed(*, success: bool, duration: float, record_url: str, caller: str, callee: str,
                     call_id: str | None = None) -> dict[str, str]:
    """Both variants: with `call_id` the third-party-control one (to Record's FinishedUrl of an HTTP
    command or of an answer to CallChanged), without it the API extension's one."""
    fields = {"Success": flag(success), "Duration": seconds(duration), "RecordURL": record_url}
    if call_id is not None:
        fields["CallId"] = call_id
    fields.update({"Caller": caller, "Callee": callee, "NotificationName": RECORD_COMPLETED})
    return fields


def call_connected(*, call_leg_id: str, callee: str, api_extension: str) -> dict[str, str]:
    return {"NotificationName": CALL_CONNECTED, "CallLegID": call_leg_id, "Callee": callee,
            "ApiExtension": api_extension}


def incoming_call(*, call_leg_id: str, caller: str, api_extension: str) -> dict[str, str]:
    return {"NotificationName": INCOMING_CALL, "CallLegID": call_leg_id, "Caller": caller,
            "ApiExtension": api_extension}


def incoming_sms(*, sender: str, recipient: str, id: str, api_extension: str, message: str) -> dict[str, str]:
    return {"NotificationName": INCOMING_SMS, "Sender": sender, "Recipient": recipient, "ID": id,
            "ApiExtension": api_extension, "Message": message}


def sms_delivery_report(*, delivered: bool, id: str, api_extension: str) -> dict[str, str]:
    return {"NotificationName": SMS_DELIVERY_REPORT, "Delivered": flag(delivered), "ID": id,
            "ApiExtension": api_extension}


def alarm_notification(*, call_id: str, caller: str, account: str, message_type: str, qualifier: str, kind: str,
                       event_code: str, partition: str, zone: str, raw: str) -> dict[str, str]:
    """(ours) One Contact ID event received on a call (ReceiveAlarmNotification)."""
    return {"NotificationName": ALARM_NOTIFICATION, "CallId": call_id, "Caller": caller, "Account": account,
            "MessageType": message_type, "Qualifier": qualifier, "Kind": kind, "EventCode": event_code,
            "Partition": partition, "Zone": zone, "Raw": raw}


def alarm_notification_sent(*, call_id: str, account: str, event_code: str, acknowledged: bool,
                            attempts: int) -> dict[str, str]:
    """(ours) How a SendAlarmNotification went: Acknowledged once the receiver sent its kissoff."""
    return {"NotificationName": ALARM_NOTIFICATION_SENT, "CallId": call_id, "Account": account,
            "EventCode": event_code, "Acknowledged": flag(acknowledged), "Attempts": str(attempts)}


def dtmf_entered(*, dtmf_digits: str, call_leg_id: str, api_extension: str) -> dict[str, str]:
    return {"NotificationName": DTMF_ENTERED, "DtmfDigits": dtmf_digits, "CallLegID": call_leg_id,
            "ApiExtension": api_extension}


def goto() -> dict[str, str]:
    return {"NotificationName": GOTO}


def error(*, code: int, call_id: str = "", message: str | None = None, args: tuple[object, ...] = ()) -> dict[str, str]:
    """The Error notification (docs/webhooks.md): Code, Message (the status table's, filled from `args`, unless
    `message` is given, e.g. an OzmlError's text with its line and column) and CallId.

    Ozeki lists 300-307 (what goes wrong in a script or a request); ours also reports the table's other codes
    where an app needs to hear of a failure it caused: 402 for a Call that was busy or unanswered, 501 for a
    SendSms in a script that no line could take, 601 for a third-party verb on a call that is gone."""
    if code not in STATUS_CODES or code == 200:
        raise ValueError(f"Error notifications carry a status code of the table other than 200, not {code}")
    return {"NotificationName": ERROR, "Code": str(code),
            "Message": message if message is not None else status_message(code, *args), "CallId": call_id}


def error_from(exc: Exception, *, call_id: str = "") -> dict[str, str]:
    """The Error notification for an ApiError (OzmlError, ForbiddenAddress, CallConnectFailed, ...)."""
    code = getattr(exc, "code", None)
    if not isinstance(code, int):
        raise ValueError(f"{exc!r} has no status code")
    return error(code=code, call_id=call_id, message=str(exc))
