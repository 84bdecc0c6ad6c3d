"""The TOML configuration as typed dataclasses; defaults run the box on its built-in simulator."""

from __future__ import annotations

import difflib
import ipaddress
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pigate import _schema
from pigate.errors import ConfigError

SYSTEM_CONFIG = Path("/etc/pigate/pigate.toml")
SIMULATED = "sim"  # a modem port of "sim" means: the built-in simulator


def _check_cidrs(values: list[str], where: str) -> None:
    for i, value in enumerate(values):
        try:
            ipaddress.ip_network(value, strict=False)
        except ValueError as exc:
            raise ConfigError(f"'{where}[{i}]' is not an address or CIDR network: {value!r}") from exc


@dataclass(frozen=True)
class User:
    """An API user; `password_hash` as written by `pigate passwd`; `commands` limits what it may call."""

    name: str
    password_hash: str
    commands: list[str] = field(default_factory=list)  # empty = every command

    def validate(self, path: str) -> None:
        if not self.password_hash.startswith("pbkdf2_sha256$") or self.password_hash.count("$") != 3:
            raise ConfigError(f"'{path}.password_hash' must be a hash written by `pigate passwd`")


@dataclass(frozen=True)
class ApiKey:
    """A JSON API key (sent as `Authorization: Bearer KEY` or `X-API-Key: KEY`); `key_hash` is the hash
    `pigate passwd NAME` prints for the key as password; `commands` limits it like a user's."""

    name: str
    key_hash: str
    commands: list[str] = field(default_factory=list)

    def validate(self, path: str) -> None:
        if not self.key_hash.startswith("pbkdf2_sha256$") or self.key_hash.count("$") != 3:
            raise ConfigError(f"'{path}.key_hash' must be a hash written by `pigate passwd`")


@dataclass(frozen=True)
class LoginConfig:
    """The login throttle ([http.login]): failures per client address, and PBKDF2 verifications at a time."""

    failures: int = 5          # failed logins within `window` seconds that lock the client's address out
    window: float = 60.0
    lockout: float = 30.0      # the first lockout; each failure after one doubles it, up to lockout_max
    lockout_max: float = 900.0
    concurrency: int = 1       # password verifications at a time (each costs one PBKDF2 run)
    wait: float = 0.5          # seconds a client without failures may wait for a verification turn
    max_addresses: int = 4096  # client addresses remembered; the quietest are forgotten first

    def validate(self, path: str) -> None:
        if self.failures < 1:
            raise ConfigError(f"'{path}.failures' must be at least 1, got {self.failures}")
        if not 1 <= self.concurrency <= 16:
            raise ConfigError(f"'{path}.concurrency' must be 1-16, got {self.concurrency}")
        if self.max_addresses < 16:
            raise ConfigError(f"'{path}.max_addresses' must be at least 16, got {self.max_addresses}")
        for name in ("window", "lockout", "wait"):
            if getattr(self, name) < 0:
                raise ConfigError(f"'{path}.{name}' must not be negative, got {getattr(self, name)}")
        if self.lockout_max < self.lockout:
            raise ConfigError(f"'{path}.lockout_max' must be at least lockout ({self.lockout}), got {self.lockout_max}")


@dataclass(frozen=True)
class HttpConfig:
    listen: str = "127.0.0.1"
    port: int = 9509
    threads: int = 8
    users: list[User] = field(default_factory=list)
    api_keys: list[ApiKey] = field(default_factory=list)
    dashboard: bool = True  # the web page at / (and the OzML playground when the simulator runs)
    login: LoginConfig = field(default_factory=LoginConfig)
    allow: list[str] = field(default_factory=list)
    deny: list[str] = field(default_factory=list)
    max_request_bytes: int = 65536
    public_url: str = ""  # how clients reach the box (for RecordURL and the like); derived when empty

    def validate(self, path: str) -> None:
        if not 0 <= self.port <= 65535:
            raise ConfigError(f"'{path}.port' must be 0-65535, got {self.port}")
        if not 1 <= self.threads <= 256:
            raise ConfigError(f"'{path}.threads' must be 1-256, got {self.threads}")
        try:
            ipaddress.ip_address(self.listen)
        except ValueError as exc:
            raise ConfigError(f"'{path}.listen' must be an IP address, got {self.listen!r}") from exc
        _check_cidrs(self.allow, f"{path}.allow")
        _check_cidrs(self.deny, f"{path}.deny")


@dataclass(frozen=True)
class ModemConfig:
    """One GSM line: a modem on a serial port (`sim` = the built-in simulator)."""

    name: str = "gsm1"
    port: str = SIMULATED
    audio_port: str = ""
    number: str = "+15550000001"
    pin: str = ""
    vendor: Literal["auto", "generic", "sim800", "sim7600", "ec25"] = "auto"
    baudrate: int = 115200
    command_timeout: float = 10.0
    sms_timeout: float = 60.0
    pacing: float = 0.0  # seconds between two submissions (vendors advise pacing on some networks)

    def validate(self, path: str) -> None:
        _check_name(self.name, f"{path}.name")
        if self.pin and not (self.pin.isdigit() and 4 <= len(self.pin) <= 8):
            raise ConfigError(f"'{path}.pin' must be 4-8 digits")
        if self.pacing < 0 or self.command_timeout <= 0 or self.sms_timeout <= 0:
            raise ConfigError(f"'{path}': timeouts must be > 0 and pacing >= 0")


@dataclass(frozen=True)
class SimulatorConfig:
    """The built-in modem simulator, used by modems whose port is `sim`."""

    dialect: Literal["sim800", "sim7600", "ec25"] = "sim7600"
    sms_latency: float = 0.0
    command_latency: float = 0.0
    control: bool = True  # the JSON control API under /sim/ on the HTTP port


SIP_MAX_CALLS = 64  # PJSUA_MAX_CALLS as scripts/build-pjsua2 compiles it


def split_hostport(text: str, where: str) -> tuple[str, int]:
    """`host`, `host:port`, `[v6]:port` or a `sip:` URI of one -> (host, port); port 5060 when not given."""
    value = text.strip()
    if value.lower().startswith("sip:"):
        value = value[4:]
    value = value.split(";", 1)[0]
    if "@" in value or not value or any(c.isspace() for c in value):
        raise ConfigError(f"'{where}' must be a host or host:port, got {text!r}")
    host, port = value, "5060"
    if value.startswith("["):
        host, _, rest = value[1:].partition("]")
        if rest:
            if not rest.startswith(":"):
                raise ConfigError(f"'{where}' must be a host or host:port, got {text!r}")
            port = rest[1:]
    elif value.count(":") == 1:
        host, port = value.split(":")
    if not host or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ConfigError(f"'{where}' must be a host or host:port (port 1-65535), got {text!r}")
    return host, int(port)


def _transport(text: str) -> str:
    params = text.split(";")[1:]
    for p in params:
        key, _, value = p.partition("=")
        if key.strip().lower() == "transport":
            return value.strip().lower()
    return "udp"


@dataclass(frozen=True)
class SipAccount:
    """A registered SIP trunk: the box registers `username` at `registrar` (host[:port], `;transport=tcp`)."""

    name: str
    registrar: str
    username: str
    password: str = ""
    expires: int = 300  # seconds a registration lasts; pjsua2 refreshes it before then

    def validate(self, path: str) -> None:
        _check_name(self.name, f"{path}.name")
        split_hostport(self.registrar, f"{path}.registrar")
        if _transport(self.registrar) not in ("udp", "tcp"):
            raise ConfigError(f"'{path}.registrar': transport must be udp or tcp")
        if not self.username or any(c in self.username for c in "@:; <>\"\t"):
            raise ConfigError(f"'{path}.username' must be a SIP user name (no @, :, ; or spaces), "
                              f"got {self.username!r}")
        if not 30 <= self.expires <= 86400:
            raise ConfigError(f"'{path}.expires' must be 30-86400 seconds, got {self.expires}")

    @property
    def host(self) -> str:
        return split_hostport(self.registrar, "registrar")[0]

    @property
    def port(self) -> int:
        return split_hostport(self.registrar, "registrar")[1]

    @property
    def transport(self) -> str:
        return _transport(self.registrar)


@dataclass(frozen=True)
class SipPeer:
    """An IP trunk: calls from `address` (host[:port]) are taken without registration; calls to it go there."""

    name: str
    address: str

    def validate(self, path: str) -> None:
        _check_name(self.name, f"{path}.name")
        split_hostport(self.address, f"{path}.address")
        if _transport(self.address) not in ("udp", "tcp"):
            raise ConfigError(f"'{path}.address': transport must be udp or tcp")

    @property
    def host(self) -> str:
        return split_hostport(self.address, "address")[0]

    @property
    def port(self) -> int:
        return split_hostport(self.address, "address")[1]

    @property
    def transport(self) -> str:
        return _transport(self.address)


@dataclass(frozen=True)
class SipConfig:
    """The SIP endpoint (pjsua2): where it listens (UDP and TCP), its call limit, its trunks."""

    enabled: bool = False
    listen: str = "127.0.0.1"
    port: int = 5060
    max_calls: int = 32
    accounts: list[SipAccount] = field(default_factory=list)
    peers: list[SipPeer] = field(default_factory=list)

    def validate(self, path: str) -> None:
        try:
            ipaddress.ip_address(self.listen)
        except ValueError as exc:
            raise ConfigError(f"'{path}.listen' must be an IP address, got {self.listen!r}") from exc
        if not 1 <= self.port <= 65535:
            raise ConfigError(f"'{path}.port' must be 1-65535, got {self.port}")
        if not 1 <= self.max_calls <= SIP_MAX_CALLS:
            raise ConfigError(f"'{path}.max_calls' must be 1-{SIP_MAX_CALLS}, got {self.max_calls}")
        seen: set[str] = set()
        for what, trunks in (("accounts", self.accounts), ("peers", self.peers)):
            for i, trunk in enumerate(trunks):
                if trunk.name in seen:
                    raise ConfigError(f"'{path}.{what}[{i}].name': duplicate trunk name {trunk.name!r}")
                seen.add(trunk.name)


def _check_name(name: str, where: str) -> None:
    if not name or not name.replace("-", "").replace("_", "").isalnum():
        raise ConfigError(f"'{where}' must be letters, digits, - or _, got {name!r}")


@dataclass(frozen=True)
class ApiExtension:
    """An API extension: the number apps use; its own notification URLs override [notifications]."""

    id: str = "9999"
    lines: list[str] = field(default_factory=list)  # GSM lines it may use; empty = all
    incoming_call_url: str = ""
    incoming_sms_url: str = ""
    call_changed_url: str = ""
    error_url: str = ""

    def validate(self, path: str) -> None:
        if not self.id:
            raise ConfigError(f"'{path}.id' must not be empty")


ANY_GSM = "gsm"     # a route's `to`: any free GSM line
REJECT = "reject"   # a route's `to`: refuse the call


@dataclass(frozen=True)
class RouteRule:
    """One rule of the dial plan ([[routes]], docs/sip.md): calls from `source` whose called number matches
    `match` go `to` a GSM line (or "gsm": any), a SIP account or peer, an API extension, or "reject".
    The number is rewritten first: `strip` characters removed from its front, then `prepend` put there."""

    to: str
    source: str = ""      # a GSM line, SIP account or peer, or API extension; "" = any
    match: str = ""       # a regular expression the whole called number must match; "" = any
    strip: int = 0
    prepend: str = ""

    def validate(self, path: str) -> None:
        if self.match:
            try:
                re.compile(self.match)
            except re.error as exc:
                raise ConfigError(f"'{path}.match' is not a valid regular expression: {exc}") from exc
        if self.strip < 0:
            raise ConfigError(f"'{path}.strip' must be 0 or more, got {self.strip}")
        if self.prepend and not all(c.isdigit() or c in "+*#" for c in self.prepend):
            raise ConfigError(f"'{path}.prepend' must be digits, +, * or #, got {self.prepend!r}")


def _known(name: str, names: list[str], where: str) -> None:
    if name not in names:
        close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
        hint = f"; did you mean '{close[0]}'?" if close else f"; known: {', '.join(names)}"
        raise ConfigError(f"'{where}': no line, SIP trunk or API extension named {name!r}{hint}")


@dataclass(frozen=True)
class NotificationsConfig:
    call_changed_url: str = ""
    incoming_call_url: str = ""
    incoming_sms_url: str = ""
    routing_interception_url: str = ""
    error_url: str = ""
    connect_timeout: float = 5.0
    read_timeout: float = 15.0
    retries: int = 2
    backoff: float = 0.5
    max_body: int = 1024 * 1024
    allow: list[str] = field(default_factory=list)
    deny: list[str] = field(default_factory=list)
    secret: str = ""

    def validate(self, path: str) -> None:
        _check_cidrs(self.allow, f"{path}.allow")
        _check_cidrs(self.deny, f"{path}.deny")
        if self.connect_timeout <= 0 or self.read_timeout <= 0:
            raise ConfigError(f"'{path}': timeouts must be > 0")
        if self.retries < 0:
            raise ConfigError(f"'{path}.retries' must be >= 0")


@dataclass(frozen=True)
class StorageConfig:
    data_dir: str = "data"  # relative paths are relative to the working directory
    content_dir: str = ""  # Play's local files; default <data_dir>/content


@dataclass(frozen=True)
class ControlConfig:
    """The local control socket of `pigate at` / `pigate status` (root and the daemon's group only)."""

    socket: str = "control.sock"  # relative paths are relative to data_dir; "" = no socket


@dataclass(frozen=True)
class CallsConfig:
    """The `[calls]` section: how long calls may ring (seconds)."""

    ring_time: int = 60       # a leg the box dials on its own (a route's bridge, a transfer, CallSetup)
    answer_time: int = 120    # an incoming call nobody answers (its app or route) is refused after this

    def validate(self, path: str) -> None:
        for key in ("ring_time", "answer_time"):
            if not 5 <= getattr(self, key) <= 600:
                raise ConfigError(f"'{path}.{key}' must be 5-600 seconds, got {getattr(self, key)}")


@dataclass(frozen=True)
class SmsConfig:
    """The SMS service's timers and limits (seconds), the `[sms]` section."""

    max_parts: int = 10
    concat_reference_bits: int = 8   # 8: 153/67 characters per part (usual); 16: 152/66
    max_attempts: int = 5            # per part, for temporary errors
    retry_base: float = 5.0          # doubles per attempt
    retry_cap: float = 600.0
    report_window: float = 48 * 3600.0
    reassembly_timeout: float = 300.0
    doubt_timeout: float = 600.0
    hook_attempts: int = 10
    hook_backoff: float = 5.0
    hook_backoff_cap: float = 3600.0
    ussd_timeout: float = 30.0
    sweep_interval: float = 300.0    # read the modem's storage this often, for an indication lost in transit

    def validate(self, path: str) -> None:
        if not 1 <= self.max_parts <= 255 or self.max_attempts < 1 or self.hook_attempts < 1:
            raise ConfigError(f"'{path}': max_parts must be 1-255, attempts >= 1")
        if self.concat_reference_bits not in (8, 16):
            raise ConfigError(f"'{path}.concat_reference_bits' must be 8 or 16")
        if self.sweep_interval < 1:
            raise ConfigError(f"'{path}.sweep_interval' must be at least 1 second")


@dataclass(frozen=True)
class EmailConfig:
    """The SMTP relay SendEmail goes through, the `[email]` section; no host = SendEmail answers 701."""

    host: str = ""
    port: int = 587
    starttls: bool = True             # upgrade the plain connection (port 587); false with tls = false: plain SMTP
    tls: bool = False                 # TLS from the first byte (SMTPS, port 465)
    username: str = ""                # no username: no AUTH
    password: str = ""
    sender: str = ""                  # From when the command names no Sender
    ca_file: str = ""                 # trust this CA bundle instead of the system's (a private relay)
    timeout: float = 30.0             # per SMTP conversation step
    max_attempts: int = 10            # per mail, on temporary errors (relay down, 4xx)
    retry_base: float = 30.0          # seconds, doubling per attempt
    retry_cap: float = 3600.0
    max_attachment_bytes: int = 10 * 1024 * 1024

    def validate(self, path: str) -> None:
        if not 0 < self.port <= 65535:
            raise ConfigError(f"'{path}.port' must be 1-65535, got {self.port}")
        if self.starttls and self.tls:
            raise ConfigError(f"'{path}': starttls and tls cannot both be true (tls is TLS from the start)")
        if self.host and "@" not in self.sender:
            raise ConfigError(f"'{path}.sender' must be an e-mail address when host is set, got {self.sender!r}")
        if self.password and not self.username:
            raise ConfigError(f"'{path}.password' is set without a username")
        if self.timeout <= 0 or self.retry_base <= 0 or self.retry_cap < self.retry_base or self.max_attempts < 1:
            raise ConfigError(f"'{path}': timeout and retry_base must be > 0, retry_cap >= retry_base, "
                              "max_attempts >= 1")


@dataclass(frozen=True)
class AddressBookConfig:
    """How the address book matches numbers, the `[addressbook]` section."""

    country_code: str = ""            # the box's country calling code, e.g. "1" or "36": national forms then match
    national_prefix: str = "0"        # dialled before an area code at home ("0"; "1" in North America)
    max_import_bytes: int = 8 * 1024 * 1024  # the largest file ImportAddressbook takes as a POST body

    def validate(self, path: str) -> None:
        if not 1024 <= self.max_import_bytes <= 256 * 1024 * 1024:
            raise ConfigError(f"'{path}.max_import_bytes' must be 1024 to 268435456, got {self.max_import_bytes}")
        if self.country_code and not (self.country_code.isdigit() and 1 <= len(self.country_code) <= 3):
            raise ConfigError(f"'{path}.country_code' must be 1-3 digits, got {self.country_code!r}")
        if self.national_prefix and not self.national_prefix.isdigit():
            raise ConfigError(f"'{path}.national_prefix' must be digits, got {self.national_prefix!r}")


BOARD_LEDS = ("power", "network", "activity")  # the status LEDs pigate.board.leds drives
GPIO_PINS = range(2, 28)  # BCM GPIO 2-27: the 40-pin header's GPIOs


def _check_gpio(pin: int, where: str) -> None:
    if pin not in GPIO_PINS:
        raise ConfigError(f"'{where}' must be a BCM GPIO number 2-27, got {pin}")


@dataclass(frozen=True)
class LedsConfig:
    """The status LEDs, and which pin backend the board uses (`gpio` on a Pi, `memory` anywhere)."""

    backend: Literal["memory", "gpio"] = "memory"
    pins: dict[str, int] = field(default_factory=lambda: {"power": 17, "network": 27, "activity": 22})

    def validate(self, path: str) -> None:
        seen: dict[int, str] = {}
        for name, pin in self.pins.items():
            if name not in BOARD_LEDS:
                close = difflib.get_close_matches(name, BOARD_LEDS, n=1, cutoff=0.6)
                hint = f"; did you mean '{close[0]}'?" if close else f"; the LEDs are {', '.join(BOARD_LEDS)}"
                raise ConfigError(f"unknown key '{path}.pins.{name}'{hint}")
            _check_gpio(pin, f"{path}.pins.{name}")
            if pin in seen:
                raise ConfigError(f"'{path}.pins': {seen[pin]} and {name} are both on pin {pin}")
            seen[pin] = name


@dataclass(frozen=True)
class BoardConfig:
    """The modem's power key (PWRKEY), pressed by the last rung of recovery; see pigate.board.power."""

    power_key_pin: int = 0             # BCM GPIO driving PWRKEY (through the HAT's transistor); 0 = none
    power_key_line: str = ""           # the modem line on that key; "" = the first [[modems]] entry
    press_seconds: float = 1.2         # the switch-on press
    off_press_seconds: float = 3.0     # the switch-off press (SIM7600 needs >= 2.5 s)
    off_wait_seconds: float = 30.0     # at most this long for the module to go off (less when its USB port vanishes)

    def validate(self, path: str) -> None:
        if self.power_key_pin:
            _check_gpio(self.power_key_pin, f"{path}.power_key_pin")
        if self.press_seconds <= 0 or self.off_press_seconds <= 0 or self.off_wait_seconds < 0:
            raise ConfigError(f"'{path}': press times must be > 0 and off_wait_seconds >= 0")
        if self.off_press_seconds >= 33:
            raise ConfigError(f"'{path}.off_press_seconds' must be under 33 s (a SIM800 switches on again)")


@dataclass(frozen=True)
class Config:
    http: HttpConfig = field(default_factory=HttpConfig)
    modems: list[ModemConfig] = field(default_factory=lambda: [ModemConfig()])
    simulator: SimulatorConfig = field(default_factory=SimulatorConfig)
    sip: SipConfig = field(default_factory=SipConfig)
    api_extensions: list[ApiExtension] = field(default_factory=lambda: [ApiExtension()])
    notifications: NotificationsConfig = field(default_factory=NotificationsConfig)
    storage: StorageConfig = field(default_factory=StorageConfig)
    control: ControlConfig = field(default_factory=ControlConfig)
    leds: LedsConfig = field(default_factory=LedsConfig)
    board: BoardConfig = field(default_factory=BoardConfig)
    sms: SmsConfig = field(default_factory=SmsConfig)
    calls: CallsConfig = field(default_factory=CallsConfig)
    email: EmailConfig = field(default_factory=EmailConfig)
    addressbook: AddressBookConfig = field(default_factory=AddressBookConfig)
    routes: list[RouteRule] = field(default_factory=list)
    log_level: Literal["debug", "info", "warning", "error"] = "info"

    def validate(self, path: str) -> None:
        for what, items, key in (("modems", self.modems, "name"), ("api_extensions", self.api_extensions, "id")):
            seen: set[str] = set()
            for item in items:
                value = getattr(item, key)
                if value in seen:
                    raise ConfigError(f"'{what}': duplicate {key} {value!r}")
                seen.add(value)
        names = {m.name for m in self.modems}
        for i, ext in enumerate(self.api_extensions):
            for line in ext.lines:
                if line not in names:
                    raise ConfigError(f"'api_extensions[{i}].lines': no modem named {line!r}")
        key = self.board.power_key_pin
        if key and key in self.leds.pins.values():
            raise ConfigError(f"'board.power_key_pin': pin {key} is already an LED in [leds] pins")
        if self.board.power_key_line and self.board.power_key_line not in names:
            raise ConfigError(f"'board.power_key_line': no modem named {self.board.power_key_line!r}")
        for trunk in [*self.sip.accounts, *self.sip.peers]:
            if trunk.name in names:
                raise ConfigError(f"'sip': trunk {trunk.name!r} has the name of a modem line")
        ends = [*names, *(t.name for t in [*self.sip.accounts, *self.sip.peers]), *(e.id for e in self.api_extensions)]
        for i, rule in enumerate(self.routes):
            if rule.source:
                _known(rule.source, ends, f"routes[{i}].source")
            if rule.to not in (ANY_GSM, REJECT):
                _known(rule.to, [*ends, ANY_GSM, REJECT], f"routes[{i}].to")

    @property
    def data_dir(self) -> Path:
        return Path(self.storage.data_dir)

    @property
    def control_socket(self) -> Path | None:
        return self.data_dir / self.control.socket if self.control.socket else None

    @property
    def content_dir(self) -> Path:
        return Path(self.storage.content_dir) if self.storage.content_dir else self.data_dir / "content"

    @property
    def recordings_dir(self) -> Path:
        return self.data_dir / "recordings"


def parse(text: str) -> Config:
    """Parse TOML text into a validated Config; errors are ConfigError naming the key (load() adds the file)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}") from exc
    return _schema.load(Config, data)


def path_of(path: str | os.PathLike[str] | None) -> Path | None:
    """The file `load(path)` reads: `path`, else /etc/pigate/pigate.toml when present, else None (defaults)."""
    if path is not None:
        return Path(path)
    return SYSTEM_CONFIG if SYSTEM_CONFIG.exists() else None


def load(path: str | os.PathLike[str] | None = None) -> Config:
    """Load `path`; without one, /etc/pigate/pigate.toml when present, else the built-in defaults."""
    path = path_of(path)
    if path is None:
        return Config()
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc
    try:
        return parse(text)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
