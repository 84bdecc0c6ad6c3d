"""Operator commands that talk to a running daemon over its own HTTP API (`pigate status`, `pigate sms ...`)."""

from __future__ import annotations

import argparse
import os
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

LOCAL_URL = "http://127.0.0.1:9509"


def default_url() -> str:
    """Where the operator commands (these and `pigate sim ...`) find the daemon: $PIGATE_URL, else this box."""
    return os.environ.get("PIGATE_URL") or LOCAL_URL


class RemoteError(Exception):
    """The daemon could not be reached, or answered with a code other than 200."""


def api(args: argparse.Namespace, command: str, **params: str) -> ET.Element:
    """Call `command` on the daemon at args.url; the Response element, or RemoteError with code and message."""
    query = {"command": command, **{k: v for k, v in params.items() if v not in (None, "")}}
    if args.user:
        query.update(Username=args.user, Password=os.environ.get("PIGATE_PASSWORD", ""))
    url = f"{args.url.rstrip('/')}/api"
    data = urllib.parse.urlencode(query).encode()
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=data), timeout=args.timeout) as resp:
            root = ET.fromstring(resp.read())
    except (OSError, ET.ParseError) as exc:
        raise RemoteError(f"cannot reach pigate at {args.url}: {exc}") from exc
    if root.findtext("Code") != "200":
        raise RemoteError(f"{root.findtext('Code')} {root.findtext('Message')}")
    return root


def _table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join(fmt.format(*map(str, r)).rstrip() for r in [header, *rows])


def cmd_status(args: argparse.Namespace) -> int:
    if args.url is None:  # on the box: the full screen from the control socket (upkeep/status.py)
        from pigate.upkeep.cli import status_local

        return status_local(args)
    lines = api(args, "ListSmsLines").findall("Lines/Line")
    rows = [[ln.findtext("Name"), ln.findtext("Number"), ln.findtext("State"), ln.findtext("Operator"),
             f"{ln.findtext('Signal') or '-'}%", ln.findtext("LastError") or ""] for ln in lines]
    print(_table(rows, ["LINE", "NUMBER", "STATE", "OPERATOR", "SIGNAL", "LAST ERROR"]))
    exts = api(args, "ListExtensions").findall("Extensions/ExtensionSummary")
    print()
    print(_table([[e.findtext("Id"), e.findtext("Type"), e.findtext("PhoneNumber"), e.findtext("State")]
                  for e in exts], ["EXTENSION", "TYPE", "NUMBER", "STATE"]))
    calls = api(args, "ListActiveCalls").findall("ActiveCalls/Call")
    print()
    print(_table([[c.findtext("CallId"), c.findtext("Source"), c.findtext("Destination"), c.findtext("CallState"),
                   c.findtext("TalkDuration")] for c in calls], ["CALL", "FROM", "TO", "STATE", "TALK (S)"]))
    return 0


def cmd_sms_list(args: argparse.Namespace) -> int:
    root = api(args, "ListSms", State=args.state, PageNumber=str(args.page), RowsPerPage=str(args.rows))
    rows = [[s.findtext("SmsId"), s.findtext("State"), s.findtext("Recipient"), s.findtext("Line"),
             s.findtext("PartCount"), s.findtext("Created"), s.findtext("Reason")]
            for s in root.findall("SmsList/Sms")]
    print(_table(rows, ["SMS ID", "STATE", "RECIPIENT", "LINE", "PARTS", "CREATED", "REASON"]))
    print(f"({len(rows)} of {root.findtext('TotalRecords')})")
    return 0


def cmd_sms_show(args: argparse.Namespace) -> int:
    sms = api(args, "GetSms", SmsId=args.sms_id).find("Sms")
    for child in sms:
        if child.tag != "Parts":
            print(f"{child.tag + ':':<14}{child.text or ''}")
    rows = [[p.findtext("Seq"), p.findtext("State"), p.findtext("Attempts"), p.findtext("Reference"),
             p.findtext("Report"), p.findtext("Reason")] for p in sms.findall("Parts/Part")]
    print(_table(rows, ["PART", "STATE", "ATTEMPTS", "MR", "REPORT", "REASON"]))
    return 0


def cmd_sms_send(args: argparse.Namespace) -> int:
    root = api(args, "SendSms", ApiExtension=args.api_extension, Recipient=args.recipient, Message=args.text,
               DeliveryReportURL=args.report_url)
    print(root.findtext("SmsId"))
    return 0


def cmd_call(args: argparse.Namespace) -> int:
    ozml = ""
    if args.ozml:
        with open(args.ozml, encoding="utf-8") as f:
            ozml = f.read()
    root = api(args, "Call", Dialed=args.number, ApiExtension=args.api_extension, Url=args.connected_url,
               ResponseOzML=ozml)
    print(root.findtext("CallId") or "")
    return 0


def add_parsers(sub: argparse._SubParsersAction) -> None:
    def common(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument("--url", default=default_url(), help=f"the daemon (default $PIGATE_URL, else {LOCAL_URL})")
        p.add_argument("--user", default=os.environ.get("PIGATE_USER", ""),
                       help="API user when authentication is on (password from $PIGATE_PASSWORD)")
        p.add_argument("--timeout", type=float, default=10.0)
        return p

    p = common(sub.add_parser("status", help="one screen: daemon, modems, SIP, calls, SMS queue, disk, uptime"))
    p.set_defaults(func=cmd_status, url=os.environ.get("PIGATE_URL"))
    p.add_argument("--socket", help="the control socket (default: from the config); without --url/$PIGATE_URL")
    p.add_argument("--config", help="the config naming the control socket (default /etc/pigate/pigate.toml)")
    sms = sub.add_parser("sms", help="messages of the running daemon")
    sms_sub = sms.add_subparsers(dest="sms_command", required=True)
    p = common(sub.add_parser("call", help="call a number; the callee hears the OzML script"))
    p.add_argument("number")
    p.add_argument("--ozml", help="a file with the OzML to run when the callee answers")
    p.add_argument("--connected-url", default="", help="or the URL CallConnected is posted to")
    p.add_argument("--api-extension", default="9999")
    p.set_defaults(func=cmd_call)
    p = common(sms_sub.add_parser("list", help="sent messages, newest first"))
    p.add_argument("--state", help="comma-separated: queued,sending,sent,delivered,undelivered,failed")
    p.add_argument("--page", type=int, default=0)
    p.add_argument("--rows", type=int, default=20)
    p.set_defaults(func=cmd_sms_list)
    p = common(sms_sub.add_parser("show", help="one message with its parts"))
    p.add_argument("sms_id")
    p.set_defaults(func=cmd_sms_show)
    p = common(sms_sub.add_parser("send", help="send an SMS"))
    p.add_argument("recipient")
    p.add_argument("text")
    p.add_argument("--api-extension", default="9999")
    p.add_argument("--report-url", default="")
    p.set_defaults(func=cmd_sms_send)

