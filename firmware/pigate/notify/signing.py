"""Webhook signatures: HMAC-SHA256 over timestamp, URL and sorted parameters (docs/webhooks.md documents it).

The scheme is Twilio's (URL followed by each parameter's name and value, sorted by name) with SHA-256
instead of SHA-1 and a signed timestamp in front, so a captured request cannot be replayed later.
`verify` is written to be copied into an app as it is: standard library only.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Mapping

SIGNATURE_HEADER = "X-Pigate-Signature"
TIMESTAMP_HEADER = "X-Pigate-Timestamp"


def signing_string(url: str, fields: Mapping[str, str], timestamp: str) -> bytes:
    """`<timestamp>.<url><name1><value1><name2><value2>...`, names sorted by code point, UTF-8."""
    return (timestamp + "." + url + "".join(name + fields[name] for name in sorted(fields))).encode("utf-8")


def sign(secret: str, url: str, fields: Mapping[str, str], timestamp: str) -> str:
    digest = hmac.new(secret.encode("utf-8"), signing_string(url, fields, timestamp), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def signature_headers(secret: str, url: str, fields: Mapping[str, str], *, now: float | None = None) -> dict[str, str]:
    """The two headers a signed post carries."""
    timestamp = str(int(time.time() if now is None else now))
    return {TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: sign(secret, url, fields, timestamp)}


def verify(secret: str, url: str, fields: Mapping[str, str], signature: str, *, timestamp: str,
           max_age: float = 300.0, now: float | None = None) -> bool:
    """True if `signature` was made with `secret` for exactly this URL, these fields and this timestamp,
    and the timestamp is within `max_age` seconds of now (either side, for clock skew)."""
    try:
        age = abs((time.time() if now is None else now) - int(timestamp))
    except ValueError:
        return False
    if age > max_age:
        return False
    return hmac.compare_digest(sign(secret, url, fields, timestamp), signature)
