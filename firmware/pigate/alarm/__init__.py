"""Alarm calls: Ademco Contact ID blocks and tones (pure), and the receiver's side of an alarm call on a Leg."""

from pigate.alarm.contactid import AlarmEvent, ContactIdError, checksum_ok, encode_block, parse_block

__all__ = ["AlarmEvent", "ContactIdError", "checksum_ok", "encode_block", "parse_block"]
