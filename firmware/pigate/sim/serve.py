"""`pigate sim serve`: the simulator as its own process, for third-party software and crash tests."""

from __future__ import annotations

import argparse
import logging
import sys
import threading
from typing import Sequence

from pigate.errors import PigateError
from pigate.stopsignals import StopSignals

from .network import LatencyProfile, Network

log = logging.getLogger(__name__)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dialect", default="sim7600", choices=["sim800", "sim7600", "ec25"])
    p.add_argument("--number", default="+15550000001", help="number of the first modem (others count up)")
    p.add_argument("--modems", type=int, default=1, help="how many modems")
    p.add_argument("--pin", default=None, help="lock the SIMs with this PIN")
    p.add_argument("--link-dir", default=None, help="directory for stable links NUMBER-at / NUMBER-audio")
    p.add_argument("--control", default=None, metavar="HOST:PORT",
                   help="serve the JSON control API (/sim/...) here, e.g. 127.0.0.1:9510 (port 0: any free)")
    p.add_argument("--latency-sms", type=float, default=0.0, help="seconds from AT+CMGS to +CMGS")
    p.add_argument("--latency-command", type=float, default=0.0, help="seconds every AT command takes")
    p.add_argument("--realistic", action="store_true", help="realistic latencies for every step (benchmarks)")


def numbers(first: str, count: int) -> list[str]:
    plus = "+" if first.startswith("+") else ""
    digits = first.lstrip("+")
    return [f"{plus}{int(digits) + i:0{len(digits)}d}" for i in range(count)]


def build(args: argparse.Namespace) -> Network:
    if args.realistic:
        latency = LatencyProfile.realistic()
    else:
        latency = LatencyProfile(command=args.latency_command, sms_submit=args.latency_sms)
    net = Network(latency=latency, link_dir=args.link_dir)
    for number in numbers(args.number, args.modems):
        net.add_modem(number=number, dialect=args.dialect, pin=args.pin)
    return net


def run(args: argparse.Namespace, *, out=None) -> int:
    out = out or sys.stdout
    if args.modems < 1:
        print("pigate sim serve: --modems must be at least 1", file=sys.stderr)
        return 2
    stops = StopSignals()  # first, so a signal during start-up still shuts down cleanly
    net = build(args)
    server = None
    try:
        net.start()
        for m in net.modems.values():
            print(f"at {m.at_link or m.at_path}", file=out)
            print(f"audio {m.audio_link or m.audio_path}", file=out)
        out.flush()
        if args.control:
            server = _serve_control(net, args.control, out)
        stops.wait()
    finally:
        if server is not None:
            server.close()
        net.stop()
        stops.close()
    return 0


def _serve_control(net: Network, address: str, out):
    from waitress.server import create_server

    from .control import make_app

    host, _, port = address.rpartition(":")
    try:
        server = create_server(make_app(net), host=host or "127.0.0.1", port=int(port), threads=4,
                               ident="pigate-sim")
    except (OSError, ValueError) as exc:
        raise PigateError(f"cannot serve the control API on {address}: {exc}") from exc
    print(f"control http://{host or '127.0.0.1'}:{server.effective_port}/sim/", file=out)
    out.flush()
    threading.Thread(target=_run_server, args=(server,), name="sim-control", daemon=True).start()
    return server


def _run_server(server) -> None:
    try:
        server.run()
    except OSError:  # closed on shutdown
        log.debug("control server closed")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pigate sim serve", description="run the modem simulator")
    add_arguments(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    try:
        return run(args)
    except PigateError as exc:
        print(f"pigate sim serve: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
