"""`pigate sim ...` commands: serve the simulator, or drive a running one through its /sim/ control API."""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request

from pigate.remote import LOCAL_URL, default_url

from . import serve


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add `sim` with its subcommands to the `pigate` parser; each sets `func(args) -> int`."""
    sim = subparsers.add_parser("sim", help="the built-in modem simulator")
    sub = sim.add_subparsers(dest="sim_command", required=True)

    p = sub.add_parser("serve", help="run the simulator standalone; prints 'at PATH' and 'audio PATH' per modem")
    serve.add_arguments(p)
    p.set_defaults(func=serve.run)

    def client(name: str, help_: str) -> argparse.ArgumentParser:
        c = sub.add_parser(name, help=help_)
        c.add_argument("--url", default=default_url(),
                       help=f"the daemon or `sim serve --control` (default $PIGATE_URL, else {LOCAL_URL})")
        return c

    c = client("status", "modems, handsets and faults of the running simulator")
    c.set_defaults(func=lambda a: _call(a, "GET", "/sim/"))

    c = client("sms", "send an SMS from a handset to the gateway")
    c.add_argument("handset")
    c.add_argument("text")
    c.add_argument("--to", help="modem number (default: the first modem)")
    c.set_defaults(func=lambda a: _call(a, "POST", f"/sim/handsets/{_q(a.handset)}/sms", text=a.text, to=a.to))

    c = client("inbox", "the messages a handset received from the gateway")
    c.add_argument("handset")
    c.set_defaults(func=lambda a: _call(a, "GET", f"/sim/handsets/{_q(a.handset)}/inbox"))

    c = client("call", "call the gateway from a handset")
    c.add_argument("handset")
    c.add_argument("--to", help="modem number (default: the first modem)")
    c.set_defaults(func=lambda a: _call(a, "POST", f"/sim/handsets/{_q(a.handset)}/call", to=a.to))

    c = client("keys", "press keys in a handset's current call")
    c.add_argument("handset")
    c.add_argument("digits")
    c.set_defaults(func=lambda a: _call(a, "POST", f"/sim/handsets/{_q(a.handset)}/call/keys", digits=a.digits))

    for action in ("hangup", "answer", "reject"):
        c = client(action, f"{action} a handset's current call")
        c.add_argument("handset")
        c.set_defaults(func=lambda a, action=action: _call(a, "POST", f"/sim/handsets/{_q(a.handset)}/call/{action}"))

    c = client("behaviour", "how a handset takes the gateway's calls")
    c.add_argument("handset")
    c.add_argument("behaviour", choices=["answer", "reject", "busy", "no_answer", "manual"])
    c.set_defaults(func=lambda a: _call(a, "POST", f"/sim/handsets/{_q(a.handset)}/settings",
                                        incoming_behaviour=a.behaviour))

    c = client("policy", "delivery reports of the network: success, fail or never")
    c.add_argument("policy", choices=["success", "fail", "never"])
    c.set_defaults(func=lambda a: _call(a, "POST", "/sim/delivery_policy", policy=a.policy))

    c = client("submissions", "every SMS the network accepted from the gateway")
    c.set_defaults(func=lambda a: _call(a, "GET", "/sim/submissions"))

    c = client("fault", "inject a fault into a modem (vanish, stop_answering, cms_error, ...), args as KEY=VALUE")
    c.add_argument("modem")
    c.add_argument("fault")
    c.add_argument("args", nargs="*", metavar="KEY=VALUE")
    c.set_defaults(func=_fault)

    c = client("drop-next-sms", "the network loses the next SMS the gateway sends")
    c.set_defaults(func=lambda a: _call(a, "POST", "/sim/faults/drop_next_sms"))
    return sim


def _q(number: str) -> str:
    return urllib.parse.quote(number, safe="+")


def _fault(args: argparse.Namespace) -> int:
    params = {}
    for item in args.args:
        key, sep, value = item.partition("=")
        if not sep:
            print(f"pigate sim fault: {item!r} is not KEY=VALUE", file=sys.stderr)
            return 2
        params[key] = value
    return _call(args, "POST", f"/sim/modems/{_q(args.modem)}/faults/{args.fault}", **params)


def _call(args: argparse.Namespace, method: str, path: str, **params: str | None) -> int:
    body = {k: v for k, v in params.items() if v is not None}
    data = json.dumps(body).encode() if method == "POST" else None
    headers = {"Content-Type": "application/json"}
    user = os.environ.get("PIGATE_USER", "")
    if user:  # a daemon with [[http.users]] wants one of them on /sim/ too
        pair = f"{user}:{os.environ.get('PIGATE_PASSWORD', '')}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
    req = urllib.request.Request(args.url.rstrip("/") + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            answer = json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as exc:
        print(f"pigate sim: {exc.code} {exc.read().decode(errors='replace')}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"pigate sim: cannot reach {args.url}: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(answer, indent=2, ensure_ascii=False))
    return 0
