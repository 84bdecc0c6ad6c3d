"""The simulator's JSON control API under /sim/: act as a handset, read inboxes, inject faults (a bottle app)."""

from __future__ import annotations

import json
from typing import Any, Callable

import bottle

from pigate.errors import PigateError

from . import audio
from .handset import BEHAVIOURS, Handset, HandsetCall
from .network import POLICIES, Network, UnknownNumber, modem_json

MODEM_FAULTS = ("stop_answering", "resume", "garbage", "vanish", "reappear", "cms_error", "cme_error",
                "registration_lost", "registration_regained", "sim_missing", "sim_inserted", "storage_full",
                "signal", "late_final_word", "audio_stuck", "clear")
# Arguments each fault accepts from JSON, with their types.
FAULT_ARGS: dict[str, dict[str, type]] = {
    "garbage": {"n_lines": int, "replace_answer": bool}, "vanish": {"seconds": float},
    "cms_error": {"code": int, "command": str, "times": int}, "cme_error": {"code": int, "command": str, "times": int},
    "registration_regained": {"roaming": bool}, "storage_full": {"storage": str}, "signal": {"rssi": int},
    "late_final_word": {"seconds": float},
}


class BadRequest(PigateError):
    """A control request with a missing or invalid parameter (HTTP 400)."""


def _params() -> dict[str, Any]:
    req = bottle.request
    if req.content_type.startswith("application/json"):
        try:
            data = json.loads(req.body.read() or b"{}")
        except ValueError as exc:
            raise BadRequest(f"body is not JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise BadRequest("JSON body must be an object")
        return data
    params: dict[str, Any] = {}
    for source in (req.query, req.forms):
        for key in source:
            params[key] = source.getunicode(key)
    return params


def _typed(value: Any, kind: type, name: str) -> Any:
    try:
        if kind is bool:
            return value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes", "on")
        return kind(value)
    except (TypeError, ValueError) as exc:
        raise BadRequest(f"{name} must be {kind.__name__}") from exc


def make_app(net: Network) -> bottle.Bottle:
    """Routes under /sim/ to drive `net`; mount on the daemon's HTTP app or serve alone."""
    app = bottle.Bottle()

    def route(path: str, method: str = "GET") -> Callable:
        def wrap(fn: Callable) -> Callable:
            def handler(**kw: Any) -> Any:
                bottle.response.content_type = "application/json"
                try:
                    return json.dumps(fn(**kw))
                except BadRequest as exc:
                    bottle.response.status = 400
                    return json.dumps({"error": str(exc)})
                except UnknownNumber as exc:
                    bottle.response.status = 404
                    return json.dumps({"error": str(exc)})
                except PigateError as exc:
                    bottle.response.status = 409
                    return json.dumps({"error": str(exc)})
            app.route(path, method, handler)
            return fn
        return wrap

    def modem_number(number: str) -> str:
        for cand in (number, "+" + number.lstrip("+ ")):
            if cand in net.modems:
                return cand
        raise UnknownNumber(f"no simulated modem {number}")

    def handset(number: str) -> Handset:
        number = number.strip()
        if number not in net.handsets and "+" + number.lstrip("+ ") in net.handsets:
            number = "+" + number.lstrip("+ ")
        if number.lstrip("+ ") in {n.lstrip("+") for n in net.modems}:
            raise BadRequest(f"{number} is a modem; handsets are the other numbers")
        return net.handset(number)

    def target(params: dict) -> str:
        to = params.get("to")
        if to:
            return modem_number(str(to))
        if not net.modems:
            raise BadRequest("no modem on the network")
        return next(iter(net.modems))

    def last_call(h: Handset) -> HandsetCall:
        if not h.calls:
            raise BadRequest(f"{h.number} has no call")
        return h.calls[-1]

    @route("/sim")
    @route("/sim/")
    def overview() -> dict:
        return net.as_json()

    @route("/sim/modems")
    def modems() -> list:
        return [modem_json(m) for m in net.modems.values()]

    @route("/sim/modems/<number>")
    def modem(number: str) -> dict:
        return modem_json(net.modem(modem_number(number)))

    @route("/sim/modems/<number>/faults/<name>", "POST")
    def modem_fault(number: str, name: str) -> dict:
        m = net.modem(modem_number(number))
        if name not in MODEM_FAULTS:
            raise BadRequest(f"unknown fault {name!r}; known: {', '.join(MODEM_FAULTS)}")
        params = _params()
        spec = FAULT_ARGS.get(name, {})
        kwargs = {k: _typed(params[k], spec[k], k) for k in spec if k in params and params[k] not in ("", None)}
        result = getattr(m.faults, name)(**kwargs)
        return {"modem": m.number, "fault": name, "result": result, "faults": m.faults.describe()}

    @route("/sim/faults/drop_next_sms", "POST")
    def drop_next_sms() -> dict:
        n = _typed(_params().get("n", 1), int, "n")
        net.faults.drop_next_sms(n)
        return {"dropping": n}

    @route("/sim/handsets")
    def handsets() -> list:
        return [h.as_json() for h in net.handsets.values()]

    @route("/sim/handsets/<number>")
    def handset_info(number: str) -> dict:
        return handset(number).as_json()

    @route("/sim/handsets/<number>/sms", "POST")
    def send_sms(number: str) -> dict:
        params = _params()
        text = params.get("text")
        if not isinstance(text, str) or text == "":
            raise BadRequest("text is required")
        h = handset(number)
        to = target(params)
        parts = params.get("parts")
        if parts:
            chosen = parts if isinstance(parts, list) else [p for p in str(parts).split(",") if p.strip()]
            sent = h.send_sms_parts(to, text, [_typed(p, int, "parts") for p in chosen])
        else:
            sent = h.send_sms(to, text)
        return {"from": h.number, "to": to, "parts": len(sent.parts), "reference": sent.reference}

    @route("/sim/handsets/<number>/inbox")
    def inbox(number: str) -> list:
        return [m.as_json() for m in handset(number).inbox]

    @route("/sim/handsets/<number>/inbox", "DELETE")
    def clear_inbox(number: str) -> dict:
        h = handset(number)
        n = len(h.inbox)
        h.inbox.clear()
        return {"deleted": n}

    @route("/sim/handsets/<number>/settings", "POST")
    def handset_settings(number: str) -> dict:
        params = _params()
        h = handset(number)
        if "incoming_behaviour" in params:
            if params["incoming_behaviour"] not in BEHAVIOURS:
                raise BadRequest(f"incoming_behaviour must be one of {', '.join(BEHAVIOURS)}")
            h.incoming_behaviour = params["incoming_behaviour"]
        if "delivery_policy" in params:
            policy = params["delivery_policy"] or None
            if policy is not None and policy not in POLICIES:
                raise BadRequest(f"delivery_policy must be one of {', '.join(POLICIES)}")
            h.delivery_policy = policy
        return h.as_json()

    @route("/sim/handsets/<number>/calls")
    def calls(number: str) -> list:
        return [c.as_json() for c in handset(number).calls]

    @route("/sim/handsets/<number>/heard")
    def heard(number: str) -> dict:
        """What the handset heard in its last call's last second: loudness and the power of the `hz` asked for."""
        params = _params()
        tail = last_call(handset(number)).heard_pcm[-16000:]
        freqs = [_typed(f, float, "hz") for f in str(params.get("hz", "")).split(",") if f]
        return {"seconds": audio.seconds(tail), "voiced_seconds": audio.voiced_seconds(tail), "rms": audio.rms(tail),
                "power": {str(int(f)): audio.tone_power(tail, f) for f in freqs}}

    @route("/sim/handsets/<number>/call", "POST")
    def call(number: str) -> dict:
        params = _params()
        h = handset(number)
        c = h.call(target(params), ring_timeout=_typed(params.get("ring_timeout", 60), float, "ring_timeout"))
        return {"call": len(h.calls) - 1, **c.as_json()}

    @route("/sim/handsets/<number>/alarm", "POST")
    def alarm(number: str) -> dict:
        """The handset as an alarm panel: it calls `to`, reports `blocks` (comma-separated 16-key Contact ID
        blocks) and hangs up; `corrupt` (comma-separated indexes) sends those blocks' first attempt with a bad
        checksum. Answers when the panel is done: its handshake, every attempt sent, the blocks acknowledged."""
        from .alarmpanel import AlarmPanel

        params = _params()
        blocks = [b.strip() for b in str(params.get("blocks", "")).split(",") if b.strip()]
        if not blocks:
            raise BadRequest("blocks is required")
        corrupt = [_typed(i, int, "corrupt") for i in str(params.get("corrupt", "")).split(",") if i.strip()]
        c = handset(number).call(target(params))
        r = AlarmPanel(call=c, blocks=blocks, corrupt=corrupt).run()
        return {"handshake": r.handshake, "sent": r.sent, "acknowledged": r.acknowledged}

    @route("/sim/handsets/<number>/call/<action>", "POST")
    def call_action(number: str, action: str) -> dict:
        params = _params()
        c = last_call(handset(number))
        if action == "keys":
            digits = str(params.get("digits", ""))
            try:
                c.press(digits)
            except ValueError as exc:
                raise BadRequest(str(exc)) from exc
        elif action in ("hangup", "answer", "reject"):
            getattr(c, action)()
        elif action == "play":
            if params.get("wav"):
                c.play_wav(str(params["wav"]))
            else:
                c.play_tone(_typed(params.get("freq", 440), float, "freq"),
                            _typed(params.get("seconds", 1), float, "seconds"))
        else:
            raise BadRequest(f"unknown call action {action!r}")
        return c.as_json()

    @route("/sim/delivery_policy")
    def get_policy() -> dict:
        return {"delivery_policy": net.delivery_policy}

    @route("/sim/delivery_policy", "POST")
    def set_policy() -> dict:
        policy = _params().get("policy") or _params().get("delivery_policy")
        if policy not in POLICIES:
            raise BadRequest(f"policy must be one of {', '.join(POLICIES)}")
        net.delivery_policy = policy
        return {"delivery_policy": policy}

    @route("/sim/submissions")
    def submissions() -> list:
        return [s.as_json() for s in list(net.submissions)]

    return app
