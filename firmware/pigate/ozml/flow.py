"""How the runner's blocks run: the flow after a verb, the frame a block runs in, the limits of detached scripts."""

from __future__ import annotations

import enum
from dataclasses import dataclass

# A wait in a script without a call (an answer about an SMS) is capped: nobody can hang up on it.
MAX_DETACHED_DELAY = 60.0


class Flow(enum.Enum):
    """What the enclosing block does after a verb: go on, stop the session, or go up to the enclosing menu."""

    NEXT = "next"
    STOP = "stop"
    BACK = "back"


@dataclass(frozen=True)
class Frame:
    """Where a block runs: the notification its script answers, how many menus enclose it, and whether
    media should stop at the first key (a menu's InitialCommands)."""

    context: str
    menus: int = 0
    barge_in: bool = False
