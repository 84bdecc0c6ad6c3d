"""Every call state and every way a call can end, by the names the API and notifications use: the one table.

The OzML runner (a leg in an ENDED state is no longer the script's to drive), the call service (records,
history) and the notification builders all read these; nothing else spells them out.
"""

from __future__ import annotations

# CallChanged's CallState and ListActiveCalls' State.
RINGING, IN_CALL, HOLD = "Ringing", "InCall", "Hold"
TRANSFERRED, BUSY, CANCELLED, ERROR, COMPLETED = "Transferred", "Busy", "Cancelled", "Error", "Completed"
CALL_STATES = (RINGING, IN_CALL, HOLD, TRANSFERRED, BUSY, CANCELLED, ERROR, COMPLETED)
LIVE = (RINGING, IN_CALL, HOLD)
ENDED = frozenset({TRANSFERRED, COMPLETED, BUSY, CANCELLED, ERROR})

# How a call ended, as ListCallHistory's State says it (Ozeki's names where it has them).
CALLER_HANG_UP, CALLEE_HUNG_UP, TRANSFER_COMPLETED = "CallerHangUp", "CalleeHungUp", "TransferCompleted"
REJECTED, NO_ANSWER, FAILED = "Rejected", "NoAnswer", "Failed"
RESULTS = (CALLER_HANG_UP, CALLEE_HUNG_UP, TRANSFER_COMPLETED, REJECTED, NO_ANSWER, BUSY, CANCELLED, FAILED)
ANSWERED_RESULTS = frozenset({CALLER_HANG_UP, CALLEE_HUNG_UP, TRANSFER_COMPLETED})  # how answered calls end

# Where an outgoing call got to (the Error notification's and 402's state for a call that did not connect).
CALLING, NOT_FOUND, NO_FREE_LINE = "Calling", "NotFound", "NoFreeLine"
ROUTING_STATES = (CALLING, NO_ANSWER, BUSY, NOT_FOUND, ERROR)
