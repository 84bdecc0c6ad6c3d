"""The modem simulator: AT dialects on a pty, a network of virtual handsets, faults, control."""

from .handset import Handset, HandsetCall, ReceivedSms, SimTimeout
from .modem import SimModem
from .network import LatencyProfile, Network, Submission, UnknownNumber

__all__ = ["Handset", "HandsetCall", "LatencyProfile", "Network", "ReceivedSms", "SimModem", "SimTimeout",
           "Submission", "UnknownNumber"]
