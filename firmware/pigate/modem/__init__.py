"""The modem driver: AT engine, pure parsers, vendor quirks, device operations, recovery, typed events, call audio."""

from . import events
from .at import NotSubmitted, PromptLost, PromptTimeout
from .device import Modem
from .health import SimProblem
from .link import STATES, LineUnavailable, ModemConfig
from .parsers import CallInfo, StoredSms
from .pcm import PcmPump
from .sms import SubmitUnconfirmed

__all__ = ["events", "Modem", "ModemConfig", "StoredSms", "CallInfo", "PromptTimeout", "PromptLost", "NotSubmitted",
           "SimProblem", "LineUnavailable", "SubmitUnconfirmed", "STATES", "PcmPump"]
