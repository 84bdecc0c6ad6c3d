"""The OzML grammar: element name -> verb class, each class's attributes, and which verbs each answer may hold."""

from __future__ import annotations

from types import MappingProxyType
from typing import Mapping

from pigate.ozml import verbs as v
from pigate.ozml.params import Param, params_of

_VERB_CLASSES: tuple[type[v.Verb], ...] = (
    v.Delay, v.Speak, v.Play, v.Beep, v.Record, v.UserInput, v.GoTo, v.BlindTransfer, v.AttendedTransfer,
    v.Forward, v.ForwardCall, v.Hangup, v.Hold, v.Unhold, v.SendDTMF, v.SendSms, v.SendEmail, v.Call,
    v.CallSetup, v.Route, v.Reject, v.Exit, v.Var, v.Array, v.ForEach, v.DeleteFile, v.MoveFile,
    v.SendMessage, v.SendMsg, v.WaitForMsg, v.Request, v.ReceiveAlarmNotification,
    v.SendAlarmNotification,
)

# lower-cased element name -> verb class (element names are matched case-insensitively).
VERBS: Mapping[str, type[v.Verb]] = MappingProxyType({cls.TAG.lower(): cls for cls in _VERB_CLASSES})

# Elements that exist only inside a particular parent.
STRUCTURE_PARENTS: Mapping[str, str] = MappingProxyType({
    "initialcommands": "userinput", "inputs": "userinput", "input": "inputs", "item": "array",
    **{name.lower(): "request" for name in v.REQUEST_HANDLERS},
})

# verb class (and Input) -> its attributes.
PARAMS: Mapping[type, tuple[Param, ...]] = MappingProxyType(
    {cls: params_of(cls) for cls in (*_VERB_CLASSES, v.Input)})


def tag_of(cls: type[v.Verb]) -> str:
    """The name a context list uses for a verb: ForwardCall counts as Forward."""
    return "Forward" if issubclass(cls, v.Forward) else cls.TAG


# Lists from ozeki-http-api-notifications.txt.
API_EXTENSION_VERBS = frozenset({
    "BlindTransfer", "Call", "Delay", "GoTo", "Hangup", "Play", "Record", "Reject", "SendEmail", "SendSms",
    "Speak", "UserInput",
})
THIRD_PARTY_VERBS = frozenset({
    "AttendedTransfer", "BlindTransfer", "Forward", "Hangup", "Hold", "Play", "Record", "SendDTMF", "Speak",
    "Unhold",
})
# (ours) Script structure and harmless tones are allowed wherever call-script verbs are.
STRUCTURAL_VERBS = frozenset({"Var", "Array", "ForEach", "Exit", "Beep", "Delay"})

# (ours) The commands of the Ozeki list without a published context: allowed where an API extension's own
# scripts run (calls and message answers), not in third-party control.
OUR_VERBS = frozenset({"DeleteFile", "MoveFile", "SendMessage", "SendMsg", "WaitForMsg", "Request",
                       "ReceiveAlarmNotification", "SendAlarmNotification"})

# Notification name -> the verbs its answer may hold. "ThirdPartyRecordCompleted" is the RecordCompleted
# that answers the HTTP Record command on any call (Ozeki lists it with the third-party verbs); plain
# "RecordCompleted" answers an OzML Record in an API extension's call.
CONTEXTS: Mapping[str, frozenset[str]] = MappingProxyType({
    **{name: API_EXTENSION_VERBS | STRUCTURAL_VERBS | OUR_VERBS for name in (
        "IncomingCall", "CallConnected", "IncomingSMS", "SMSDeliveryReport", "DtmfEntered", "RecordCompleted",
        "GoTo")},
    "CallChanged": THIRD_PARTY_VERBS | STRUCTURAL_VERBS,
    "ThirdPartyRecordCompleted": THIRD_PARTY_VERBS | STRUCTURAL_VERBS,
    "RoutingInterception": frozenset({"Route"}),
})

_CONTEXT_NAMES: Mapping[str, str] = MappingProxyType({name.lower(): name for name in CONTEXTS})


def context_name(name: str) -> str:
    """The canonical spelling of a notification name, matched case-insensitively; KeyError if unknown."""
    return _CONTEXT_NAMES[name.lower()]


def allowed(context: str | None, cls: type[v.Verb]) -> bool:
    """Whether `cls` may appear in an answer to `context` (None: no restriction)."""
    if context is None:
        return True
    return tag_of(cls) in CONTEXTS[context]


def third_party(context: str | None) -> bool:
    """Whether scripts of this context control a call that is not the API extension's own."""
    return context in ("CallChanged", "ThirdPartyRecordCompleted")
