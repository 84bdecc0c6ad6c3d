"""Calls, whatever carries them: the call service (registry, states, history, third-party control, notifications,
OzML sessions, recordings) over trunks (calls/trunks/: the contract and the GSM lines). This is the package's face:
import from here, not its modules."""

from .media import LegMedia
from .model import (DIRECTIONS, END_BUSY, END_FAILED, END_HANGUP, END_LINE_DOWN, END_NO_ANSWER, END_REASONS,
                    END_REJECTED, INBOUND, OUTBOUND, ActiveCall, CallRecord, CallSettings, connect_failure_state,
                    local_end, new_call_id, outcome_before_answer, remote_end)
from .recording import Capture, RecordingShelf, check_recording_name, save_recording
from .service import CallService, from_config, media_from_config
from .trunks import (Answered, CallEvent, Digit, Ended, GsmLine, GsmSettings, GsmTrunk, Incoming, Report, Ringing,
                     Trunk, TrunkLine)
from .trunks.gsm import end_reason as gsm_end_reason
from pigate.store.calls import HistoryFilter, HistoryRow

__all__ = ["LegMedia", "DIRECTIONS", "END_BUSY", "END_FAILED", "END_HANGUP", "END_LINE_DOWN", "END_NO_ANSWER",
           "END_REASONS", "END_REJECTED", "INBOUND", "OUTBOUND", "ActiveCall", "CallRecord", "CallSettings",
           "connect_failure_state", "local_end", "new_call_id", "outcome_before_answer", "remote_end", "Capture",
           "RecordingShelf", "check_recording_name", "save_recording", "CallService", "from_config",
           "media_from_config", "Answered", "CallEvent", "Digit", "Ended", "GsmLine", "GsmSettings", "GsmTrunk",
           "Incoming", "Report", "Ringing", "Trunk", "TrunkLine", "gsm_end_reason", "HistoryFilter", "HistoryRow"]
