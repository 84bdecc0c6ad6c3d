"""The OzML verbs: one frozen dataclass per element, each declaring its attributes, defaults and children."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from pigate.ozml.params import children, param

PARTIES = ("caller", "callee", "all")
VAR_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
DTMF_KEYS = r"[0-9*#A-Da-d]+"


@dataclass(frozen=True, kw_only=True)
class Verb:
    """A parsed OzML command; `line`/`column` locate its start tag (0 when built in code)."""

    TAG: ClassVar[str] = ""
    line: int = 0
    column: int = 0


# -- media -------------------------------------------------------------------------------------------

@dataclass(frozen=True, kw_only=True)
class Delay(Verb):
    TAG: ClassVar[str] = "Delay"
    # (ours) `<Delay/>` without a number waits one second.
    seconds: float = param("Seconds", 1.0, main=True, minimum=0)


@dataclass(frozen=True, kw_only=True)
class Speak(Verb):
    TAG: ClassVar[str] = "Speak"
    text: str = param("Text", "", required=True, main=True)
    language: str | None = param("Language")
    voice: str | None = param("Voice")
    party: str | None = param("Party", choices=PARTIES)
    call_id: str | None = param("CallId")


@dataclass(frozen=True, kw_only=True)
class Play(Verb):
    TAG: ClassVar[str] = "Play"
    audio_file: str = param("AudioFile", "", required=True, main=True)
    repeat: bool = param("Repeat", False)
    timeout: float | None = param("Timeout", minimum=0)
    party: str | None = param("Party", choices=PARTIES)
    call_id: str | None = param("CallId")


@dataclass(frozen=True, kw_only=True)
class Beep(Verb):
    TAG: ClassVar[str] = "Beep"


@dataclass(frozen=True, kw_only=True)
class Record(Verb):
    TAG: ClassVar[str] = "Record"
    format: str = param("Format", "mp3", choices=("mp3", "wav"))
    finished_url: str | None = param("FinishedUrl")
    duration: float | None = param("Duration", minimum=0)
    inactivity: float | None = param("Inactivity", minimum=0)
    finish_digits: str | None = param("FinishDigits", pattern=DTMF_KEYS)
    record_path: str | None = param("RecordPath")
    call_id: str | None = param("CallId")


# -- menus -------------------------------------------------------------------------------------------

@dataclass(frozen=True, kw_only=True)
class Input:
    """One choice of a UserInput menu: the digits that select it and the commands it runs."""

    key: str = param("Key", "", required=True, pattern=DTMF_KEYS)
    commands: tuple[Verb, ...] = children("verbs")
    line: int = 0
    column: int = 0


@dataclass(frozen=True, kw_only=True)
class UserInput(Verb):
    """A menu: InitialCommands play while digits are collected, then the matching Input runs.

    MinDigits and MaxDigits default to Digits, so `Digits="4"` alone reads exactly four keys.
    """

    TAG: ClassVar[str] = "UserInput"
    timeout: float = param("Timeout", 10.0, minimum=0)
    repeat: bool = param("Repeat", False)
    digits: int = param("Digits", 1, minimum=1)
    min_digits: int | None = param("MinDigits", minimum=1)
    max_digits: int | None = param("MaxDigits", minimum=1)
    back_key: str = param("BackKey", "*", pattern=r"[0-9*#A-Da-d]?")
    forward_to_url: str | None = param("ForwardToUrl")
    initial_commands: tuple[Verb, ...] = children("menu")
    inputs: tuple[Input, ...] = ()

    @property
    def fewest(self) -> int:
        return self.min_digits if self.min_digits is not None else self.digits

    @property
    def most(self) -> int:
        """At most this many digits are read; a longer Input key raises the limit to its length."""
        limit = self.max_digits if self.max_digits is not None else max(self.digits, self.fewest)
        return max([limit, self.fewest, *(len(i.key) for i in self.inputs)])


# -- call control ------------------------------------------------------------------------------------

@dataclass(frozen=True, kw_only=True)
class GoTo(Verb):
    TAG: ClassVar[str] = "GoTo"
    url: str = param("Url", "", required=True, main=True)


@dataclass(frozen=True, kw_only=True)
class BlindTransfer(Verb):
    TAG: ClassVar[str] = "BlindTransfer"
    target: str = param("Target", "", required=True, main=True)
    transferor_party: str | None = param("TransferorParty", choices=("caller", "callee"))
    call_id: str | None = param("CallId")
    finished_url: str | None = param("FinishedUrl")


@dataclass(frozen=True, kw_only=True)
class AttendedTransfer(Verb):
    TAG: ClassVar[str] = "AttendedTransfer"
    transferred_call_id: str = param("TransferredCallId", "", required=True)
    target_call_id: str = param("TargetCallId", "", required=True)


@dataclass(frozen=True, kw_only=True)
class Forward(Verb):
    TAG: ClassVar[str] = "Forward"
    destination: str = param("Destination", "", required=True, main=True)
    call_id: str | None = param("CallId")


@dataclass(frozen=True, kw_only=True)
class ForwardCall(Forward):
    """Ozeki 10's name for Forward; behaves identically."""

    TAG: ClassVar[str] = "ForwardCall"


@dataclass(frozen=True, kw_only=True)
class Hangup(Verb):
    TAG: ClassVar[str] = "Hangup"
    call_id: str | None = param("CallId")


@dataclass(frozen=True, kw_only=True)
class Hold(Verb):
    TAG: ClassVar[str] = "Hold"
    call_id: str | None = param("CallId")


@dataclass(frozen=True, kw_only=True)
class Unhold(Verb):
    TAG: ClassVar[str] = "Unhold"
    call_id: str | None = param("CallId")


@dataclass(frozen=True, kw_only=True)
class SendDTMF(Verb):
    TAG: ClassVar[str] = "SendDTMF"
    keys: str = param("Keys", "", required=True, main=True, pattern=DTMF_KEYS)
    party: str | None = param("Party", choices=PARTIES)
    call_id: str | None = param("CallId")


@dataclass(frozen=True, kw_only=True)
class Call(Verb):
    TAG: ClassVar[str] = "Call"
    dialed: str = param("Dialed", "", required=True, main=True)
    url: str | None = param("Url")
    caller_id: str | None = param("CallerId")
    caller_display_name: str | None = param("CallerDisplayName")
    api_extension: str | None = param("ApiExtension")
    error_url: str | None = param("ErrorUrl")
    response_ozml: str | None = param("ResponseOzML")
    finished_url: str | None = param("FinishedUrl")
    ring_time: int = param("RingTime", 120, minimum=1)


@dataclass(frozen=True, kw_only=True)
class CallSetup(Verb):
    TAG: ClassVar[str] = "CallSetup"
    caller: str = param("Caller", "", required=True)
    callee: str = param("Callee", "", required=True)
    error_url: str | None = param("ErrorUrl")


@dataclass(frozen=True, kw_only=True)
class ReceiveAlarmNotification(Verb):
    """(ours) Acts as a Contact ID alarm receiver on this call: handshake, each valid 16-digit block queued on
    disk for Url as an AlarmNotification and then acknowledged with a kissoff, until the panel hangs up or
    nothing comes for Timeout seconds."""

    TAG: ClassVar[str] = "ReceiveAlarmNotification"
    url: str = param("Url", "", required=True, main=True)
    timeout: float = param("Timeout", 10.0, minimum=1)


@dataclass(frozen=True, kw_only=True)
class SendAlarmNotification(Verb):
    """(ours) Acts as an alarm panel on this call (one the box placed to a receiver): waits for the handshake,
    sends one Contact ID block and waits for its kissoff (up to 4 attempts); the outcome goes to FinishedUrl."""

    TAG: ClassVar[str] = "SendAlarmNotification"
    account: str = param("Account", "", required=True, pattern=r"[0-9A-Fa-f]{1,4}")
    event_code: str = param("EventCode", "", required=True, pattern=r"[0-9A-Fa-f]{3}")
    qualifier: str = param("Qualifier", "1", pattern=r"[136]")
    partition: str = param("Partition", "01", pattern=r"[0-9A-Fa-f]{1,2}")
    zone: str = param("Zone", "000", pattern=r"[0-9A-Fa-f]{1,3}")
    finished_url: str | None = param("FinishedUrl")


REQUEST_HANDLERS = ("OnSetup", "OnRinging", "OnAnswered", "OnBusy", "OnError", "OnCompleted")


@dataclass(frozen=True, kw_only=True)
class Request(Verb):
    """Calls DialedAddress and runs the handler matching the call's fate: OnSetup once the call is placed,
    OnRinging while it rings, OnAnswered as the answered call's own script (`answered_ozml`, also
    RequestOzML), OnBusy, OnError (no answer, refused, no free line), OnCompleted after an answered call ended.
    The session waits for the call's end (at most RingTime for the answer)."""

    TAG: ClassVar[str] = "Request"
    dialed_address: str = param("DialedAddress", "", required=True)
    extension_address: str | None = param("ExtensionAddress")
    caller_phone_number: str | None = param("CallerPhoneNumber")
    caller_display_name: str | None = param("CallerDisplayName")
    ring_time: int = param("RingTime", 120, minimum=1)
    request_ozml: str | None = param("RequestOzML")
    handlers: tuple[tuple[str, tuple[Verb, ...]], ...] = children("handlers")
    answered_ozml: str = ""

    def handler(self, name: str) -> tuple[Verb, ...]:
        return next((verbs for key, verbs in self.handlers if key == name), ())

    def has(self, name: str) -> bool:
        return any(key == name for key, _ in self.handlers)


@dataclass(frozen=True, kw_only=True)
class Route(Verb):
    """The routing decision answering RoutingInterception; a blank Destination rejects the call."""

    TAG: ClassVar[str] = "Route"
    destination: str = param("Destination", "", main=True)
    ring_time: int = param("RingTime", 90, minimum=1)
    caller_id: str | None = param("CallerId")
    dialed_number: str | None = param("DialedNumber")


@dataclass(frozen=True, kw_only=True)
class Reject(Verb):
    TAG: ClassVar[str] = "Reject"


# -- messaging ---------------------------------------------------------------------------------------

@dataclass(frozen=True, kw_only=True)
class SendSms(Verb):
    TAG: ClassVar[str] = "SendSms"
    message: str = param("Message", "", required=True, main=True)
    recipient: str = param("Recipient", "", required=True)
    sender: str | None = param("Sender")
    api_extension: str | None = param("ApiExtension")
    delivery_report_url: str | None = param("DeliveryReportURL", aliases=("DelivaryReportURL",))


def recipients_of(text: str) -> list[str]:
    """A recipient list as SendMessage takes it (HTTP and OzML): numbers separated by commas or semicolons."""
    return [r.strip() for r in text.replace(";", ",").split(",") if r.strip()]


@dataclass(frozen=True, kw_only=True)
class SendMessage(Verb):
    """(ours) SendSms in the SMS Gateway's words: `<SendMessage Recipient="+36..">text</SendMessage>`."""

    TAG: ClassVar[str] = "SendMessage"
    message_data: str = param("MessageData", "", required=True, main=True, aliases=("Message",))
    recipient: str = param("Recipient", "", required=True)
    originator: str | None = param("Originator", aliases=("Sender",))
    message_type: str = param("MessageType", "sms:text", choices=("sms:text",))
    api_extension: str | None = param("ApiExtension")


@dataclass(frozen=True, kw_only=True)
class SendEmail(Verb):
    """Queues a mail and goes on at once (the mail service sends it). (ours) `Attach="recording"` attaches
    the file of the script's last successful Record."""

    TAG: ClassVar[str] = "SendEmail"
    message: str = param("Message", "", main=True)
    recipient: str = param("Recipient", "", required=True)
    sender: str | None = param("Sender")
    subject: str | None = param("Subject")
    attach: str | None = param("Attach", choices=("recording",))


# -- messages between live scripts (ours, see pigate.ozml.mailbox) -------------------------------------

@dataclass(frozen=True, kw_only=True)
class SendMsg(Verb):
    """`<SendMsg Connection="supervisor">text</SendMsg>`: leaves a message for a WaitForMsg on that connection."""

    TAG: ClassVar[str] = "SendMsg"
    connection: str = param("Connection", "", required=True)
    message: str = param("Message", "", main=True)


@dataclass(frozen=True, kw_only=True)
class WaitForMsg(Verb):
    """Waits up to Timeout seconds for a message on Connection and stores it in the variable Var (`$Var` later);
    its child commands are the fallback, run only when nothing arrived in time."""

    TAG: ClassVar[str] = "WaitForMsg"
    connection: str = param("Connection", "", required=True)
    var: str = param("Var", "", required=True, pattern=VAR_NAME)
    timeout: float = param("Timeout", 30.0, minimum=0)
    on_timeout: tuple[Verb, ...] = children("verbs")


# -- files (ours: confined to the content and recordings folders, see pigate.ozml.files) --------------

@dataclass(frozen=True, kw_only=True)
class DeleteFile(Verb):
    """`<DeleteFile>recordings/NAME.wav</DeleteFile>`: deletes one file of a script folder."""

    TAG: ClassVar[str] = "DeleteFile"
    path: str = param("Path", "", required=True, main=True)


@dataclass(frozen=True, kw_only=True)
class MoveFile(Verb):
    """`<MoveFile Source="recordings/NAME.wav" Target="content/greeting.wav"/>`; a Target folder keeps the name."""

    TAG: ClassVar[str] = "MoveFile"
    source: str = param("Source", "", required=True, main=True)
    target: str = param("Target", "", required=True)


# -- script structure --------------------------------------------------------------------------------

@dataclass(frozen=True, kw_only=True)
class Exit(Verb):
    TAG: ClassVar[str] = "Exit"


@dataclass(frozen=True, kw_only=True)
class Var(Verb):
    """`<Var id="name">value</Var>`: later `$name` in text and attributes is replaced by value."""

    TAG: ClassVar[str] = "Var"
    id: str = param("Id", "", required=True, pattern=VAR_NAME)
    value: str = param("Value", "", main=True)


@dataclass(frozen=True, kw_only=True)
class Array(Verb):
    """`<Array id="name"><Item>a</Item>...</Array>`, the list a ForEach walks."""

    TAG: ClassVar[str] = "Array"
    id: str = param("Id", "", required=True, pattern=VAR_NAME)
    items: tuple[str, ...] = children("items")


@dataclass(frozen=True, kw_only=True)
class ForEach(Verb):
    """Runs its body once per item of the Array named by Source, with `$item` bound to the item."""

    TAG: ClassVar[str] = "ForEach"
    source: str = param("Source", "", required=True, pattern=VAR_NAME)
    body: tuple[Verb, ...] = children("verbs")
