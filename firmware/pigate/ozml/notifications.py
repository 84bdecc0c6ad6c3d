"""The form fields of the notifications a running script sends (names exactly as in the Ozeki seed)."""

from __future__ import annotations

from pigate.ozml.leg import Leg, RecordingResult


def dtmf_entered(leg: Leg, digits: str) -> dict[str, str]:
    return {"NotificationName": "DtmfEntered", "DtmfDigits": digits, "CallLegID": leg.id,
            "ApiExtension": leg.api_extension}


def goto() -> dict[str, str]:
    return {"NotificationName": "GoTo"}


def record_completed(leg: Leg, result: RecordingResult, *, third_party: bool) -> dict[str, str]:
    """The third-party form (answering the HTTP Record command) also carries CallId."""
    fields = {"Success": "true" if result.success else "false",
              "Duration": str(round(result.duration)) if result.success else "0",
              "RecordURL": result.url if result.success else ""}
    if third_party:
        fields["CallId"] = leg.id
    fields.update({"Caller": leg.caller, "Callee": leg.callee, "NotificationName": "RecordCompleted"})
    return fields
