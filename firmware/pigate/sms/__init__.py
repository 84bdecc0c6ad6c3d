"""SMS: the durable outbox, line workers, delivery reports, the inbox with reassembly, SMS webhooks, the PDU codec,
and the OzML answers to SMS notifications. This is the package's face: import from here, not its modules."""

from . import codec
from .answers import DetachedScript, DetachedScripts
from .outbox import Line
from .service import SmsService, from_config
from pigate.store.sms import InboundSms, OutboundPart, OutboundSms

__all__ = ["codec", "DetachedScript", "DetachedScripts", "Line", "SmsService", "from_config",
           "InboundSms", "OutboundPart", "OutboundSms"]
