"""SIP through pjsua2: the driver (endpoint, accounts, peers, who may call in), its calls, events and audio ports.

Other packages import from here only. `import pjsua2` happens in `endpoint.py` alone, when a driver starts.
"""

from pigate.sip.accounts import CONNECTED, DISCONNECTED, Account
from pigate.sip.calls import (Answered, CallEvent, Digit, Ended, Held, Listener, Resumed, Ringing, SipCall,
                              TransferStatus)
from pigate.sip.driver import IncomingCall, SipDriver
from pigate.sip.endpoint import available
from pigate.sip.media import FRAME_BYTES, RATE, SILENCE, FramePort, Player, Recorder
from pigate.sip.peers import Peer, RefusalLog
from pigate.sip.status import SIP_TRUNK, TrunkChanged, account_state, trunks

__all__ = [
    "Account", "Answered", "CONNECTED", "CallEvent", "DISCONNECTED", "Digit", "Ended", "FRAME_BYTES", "FramePort",
    "Held", "IncomingCall", "Listener", "Peer", "Player", "RATE", "Recorder", "RefusalLog", "Resumed", "Ringing",
    "SILENCE", "SIP_TRUNK", "SipCall", "SipDriver", "TransferStatus", "TrunkChanged", "account_state", "available",
    "trunks",
]
