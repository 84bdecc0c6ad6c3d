"""Webhook client: posts Ozeki notifications to apps and returns their OzML answers, under an address policy."""

from pigate.notify import messages
from pigate.notify.client import HttpStatusError, Notifier, NotifyConfig
from pigate.notify.http import (BadResponse, ConnectFailed, HttpClient, HttpResponse, ResponseTimeout,
                                ResponseTooLarge)
from pigate.notify.policy import AddressPolicy, BadUrl, ForbiddenTarget, ResolveFailed, Target, parse_url
from pigate.notify.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign, verify

__all__ = [
    "AddressPolicy", "BadResponse", "BadUrl", "ConnectFailed", "ForbiddenTarget", "HttpClient", "HttpResponse",
    "HttpStatusError", "Notifier", "NotifyConfig", "ResolveFailed", "ResponseTimeout", "ResponseTooLarge",
    "SIGNATURE_HEADER", "TIMESTAMP_HEADER", "Target", "messages", "parse_url", "sign", "verify",
]
