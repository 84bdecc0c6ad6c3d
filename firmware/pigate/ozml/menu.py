"""Reading a UserInput menu's digits from a keypad: when the caller's input is complete, and what it means."""

from __future__ import annotations

from dataclasses import dataclass

from pigate.ozml.leg import Keypad
from pigate.ozml.verbs import UserInput

DIGITS, TIMEOUT, BACK, HUNG_UP = "digits", "timeout", "back", "hung-up"


@dataclass(frozen=True)
class MenuInput:
    """The outcome of one round of a menu: `kind` is DIGITS (with `digits`), TIMEOUT, BACK or HUNG_UP."""

    kind: str
    digits: str = ""


def collect(keypad: Keypad, menu: UserInput) -> MenuInput:
    """Read keys until the input is complete.

    Complete means: the keys equal an Input's key that no longer key continues, or MaxDigits keys were
    read, or Timeout seconds passed after at least MinDigits keys (or after keys that equal an Input's key).
    Fewer keys than that when Timeout passes count as a timeout. The BackKey as the first key means
    "up one menu", unless an Input claims that key for itself.
    """
    keys = {i.key for i in menu.inputs}
    back = menu.back_key if menu.back_key and menu.back_key not in keys else ""
    got = ""
    while True:
        key = keypad.get(menu.timeout)
        if key is None:
            if keypad.closed:
                return MenuInput(HUNG_UP)
            if got and (len(got) >= menu.fewest or got in keys):
                return MenuInput(DIGITS, got)
            return MenuInput(TIMEOUT)
        if not got and key == back:
            return MenuInput(BACK)
        got += key
        if got in keys and not any(k != got and k.startswith(got) for k in keys):
            return MenuInput(DIGITS, got)
        if len(got) >= menu.most:
            return MenuInput(DIGITS, got)
