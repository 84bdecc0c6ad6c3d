"""Phone numbers a call can be placed to: the one pattern every layer checks a dialed number against.

A dialable number is an optional `+` and 1-40 of the keypad's digits, `*` and `#` (so service codes such as
`*100#` can be dialed too). SMS recipients are stricter (digits only, 3-20 of them, written loosely on input):
that rule belongs to the SMS address codec, pigate.sms.codec.normalize_number.
"""

from __future__ import annotations

import re

DIALABLE = re.compile(r"^\+?[0-9*#]{1,40}$")


def is_dialable(number: str) -> bool:
    return bool(DIALABLE.match(number))
