"""Where calls come from: the Trunk contract (contract.py) and its implementations (gsm.py: the GSM lines)."""

from .contract import Answered, CallEvent, Digit, Ended, Incoming, Report, Ringing, Trunk, TrunkLine
from .gsm import GsmLine, GsmSettings, GsmTrunk

__all__ = ["Answered", "CallEvent", "Digit", "Ended", "Incoming", "Report", "Ringing", "Trunk", "TrunkLine",
           "GsmLine", "GsmSettings", "GsmTrunk"]
