"""Pure phone-number matching for the address book: E.164 where it can be derived, and a tail key that lets a
national form (`0620 111 2222`, `(555) 123-0001`) find the international one (`+36201112222`) and back."""

from __future__ import annotations

import re
from dataclasses import dataclass

TAIL = 9  # digits compared when full E.164 forms are not both known (enough to tell subscribers apart)


@dataclass(frozen=True)
class NumberPlan:
    """The box's home numbering plan: `country_code` digits (e.g. "1", "36"; empty = unknown) and the
    national (trunk) prefix dialled before an area code (usually "0"; "1" in North America)."""

    country_code: str = ""
    national_prefix: str = "0"
    min_match: int = 7  # shorter numbers (short codes, extensions) only match exactly


def clean(text: str) -> str:
    """Digits with a leading + kept; spaces, dots, dashes and brackets dropped."""
    t = re.sub(r"[\s().\-/]", "", text or "")
    plus = t.startswith("+")
    digits = re.sub(r"\D", "", t)
    return ("+" if plus else "") + digits


def e164(text: str, plan: NumberPlan = NumberPlan()) -> str:
    """The E.164 form (`+` and digits) of `text`, or "" when it cannot be known without guessing."""
    t = clean(text)
    if t.startswith("+"):
        return t if len(t) > 1 else ""
    if t.startswith("00"):
        return "+" + t[2:]
    if not plan.country_code or len(t) < plan.min_match:
        return ""
    if plan.national_prefix and t.startswith(plan.national_prefix):
        return "+" + plan.country_code + t[len(plan.national_prefix):]
    return "+" + plan.country_code + t


def tail(text: str, plan: NumberPlan = NumberPlan()) -> str:
    """The last TAIL digits (of the E.164 form when known); "" for numbers too short to match loosely."""
    full = e164(text, plan) or clean(text)
    digits = full.lstrip("+")
    if len(digits) < plan.min_match:
        return ""
    return digits[-TAIL:]
