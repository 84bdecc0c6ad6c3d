"""Calls, whatever carries them: the call service (registry, states, history, third-party control, notifications,
OzML sessions, recordings) over trunks. This is the package's face: import from here, not its modules."""

from .model import ActiveCall, CallLine, CallSettings
from .service import CallService, from_config
from pigate.store.calls import HistoryFilter, HistoryRow

__all__ = ["ActiveCall", "CallLine", "CallService", "CallSettings", "HistoryFilter", "HistoryRow", "from_config"]
