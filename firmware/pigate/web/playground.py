"""The OzML playground (simulator only): lint a pasted script, run it on a real call to a virtual handset,
press the handset's keys, and fetch what the handset heard as a WAV file.

The call is a real one: the box dials the playground's handset on a simulated line (the Call command with
the script as ResponseOzML), the handset answers, and the script runs in the CallConnected context with
espeak-ng speaking over the line's PCM port. What the leg speaks and plays reaches the page as `media`
events on the live stream (the call service's `call.media`).
"""

from __future__ import annotations

from typing import Any

from pigate.errors import PigateError
from pigate.media.wav import encode
from pigate.ozml import check

HANDSET = "+15557770100"
CONTEXT = "CallConnected"


class PlaygroundError(PigateError):
    """The playground cannot do that now (no call, not on the simulator)."""


def lint(ozml: str) -> list[dict]:
    """Every problem of the script with its line and column (empty: fine)."""
    return [{"line": e.line, "column": e.column, "code": e.code, "name": e.name,
             "message": str(e)} for e in check(ozml, context=CONTEXT)]


class Playground:
    def __init__(self, *, calls: Any, network: Any, api_extension: str, handset: str = HANDSET) -> None:
        self._calls, self._network = calls, network
        self._extension, self.number = api_extension, handset

    def _handset(self) -> Any:
        return self._network.handset(self.number)

    def run(self, ozml: str) -> dict:
        """Lint, then call the handset with the script; {"problems": [...]} or {"call_id": ...}."""
        problems = lint(ozml)
        if problems:
            return {"problems": problems}
        handset = self._handset()
        handset.incoming_behaviour = "answer"
        last = handset.last_call
        if last is not None and not last.ended:
            last.hangup()
        call_id = self._calls.call(self.number, api_extension=self._extension, response_ozml=ozml)
        return {"call_id": call_id, "handset": self.number, "problems": []}

    def _call(self) -> Any:
        call = self._handset().last_call
        if call is None:
            raise PlaygroundError("no playground call yet")
        return call

    def keys(self, digits: str) -> dict:
        call = self._call()
        try:
            call.press(digits)
        except ValueError as exc:
            raise PlaygroundError(str(exc)) from exc
        return call.as_json()

    def hangup(self) -> dict:
        call = self._call()
        call.hangup()
        return call.as_json()

    def state(self) -> dict:
        call = self._handset().last_call
        return {"handset": self.number, "call": call.as_json() if call is not None else None}

    def audio(self) -> bytes:
        """What the handset has heard on its last call, as an 8 kHz WAV."""
        return encode(self._call().heard_pcm, 8000)
