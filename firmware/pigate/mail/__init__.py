"""E-mail: SendEmail's durable outbox, sent over SMTP through the configured relay, exactly once."""

from pigate.mail.message import build_message, parse_addresses
from pigate.mail.service import MailService, from_config
from pigate.mail.smtp import Delivery, Relay

__all__ = ["Delivery", "MailService", "Relay", "build_message", "from_config", "parse_addresses"]
