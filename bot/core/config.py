"""Settings: the one place that reads configuration (SPEC section 9).

`load_settings()` builds a frozen `Settings` from a mapping of variables
(normally `os.environ`, after the entry point has called `load_dotenv()` once,
so real environment variables win over `.env`). Every value is checked here;
an invalid one raises `ConfigError` naming the variable, the value and what
is allowed, before anything connects anywhere. Nothing is read at import time.

Variables beyond SPEC 9 (documented in `.env.example`):
- `PRIVACY_NOTICE_FILE`: the operator's privacy notice (Art. 13 DSGVO) file;
  the shipped default is `bot/privacy/datenschutz.<lang>.txt`.
- `LOG_LEVEL`: `DEBUG`, `INFO` (default), `WARNING` or `ERROR`.
- `MAIL_RATE`: how many e-mails a second the bot hands to `SMTP_URL`
  (default 5; a municipal relay often allows fewer).

E-mail (SPEC 15) is on when `SMTP_URL` and `MAIL_FROM` are both set; one
without the other is an error. Without `PUBLIC_URL` mails carry a code to send
back instead of links, and nothing is served.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import time, timedelta
from email.utils import parseaddr
from pathlib import Path
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

LANGUAGES = ("de", "en")
JOIN_POLICIES = ("approval", "open")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")

_OFFSET_UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1}


class ConfigError(ValueError):
    """An invalid configuration value; the message is meant for the operator."""

    def __init__(self, variable: str, value: str, allowed: str) -> None:
        self.variable = variable
        self.value = value
        self.allowed = allowed
        if value:
            super().__init__(f"{variable}={value!r} is invalid: {allowed}")
        else:
            super().__init__(f"{variable} is not set: {allowed}")


@dataclass(frozen=True)
class DigestSchedule:
    """The weekly digest time: weekday 0 (Monday) to 6 and a local time."""

    weekday: int
    at: time


@dataclass(frozen=True)
class SmtpServer:
    """`SMTP_URL`: `smtp://` (STARTTLS where the server offers it) or `smtps://` (TLS from the start)."""

    host: str
    port: int
    tls: bool
    user: str | None = None
    password: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Settings:
    """Validated configuration. The token and webhook secret stay out of `repr`."""

    telegram_bot_token: str | None = field(default=None, repr=False)
    telegram_api_url: str = "https://api.telegram.org"
    database_url: str = "sqlite:///kimbot.db"
    coordinator_ids: frozenset[int] = frozenset()
    timezone_name: str = "Europe/Berlin"
    default_language: str = "de"
    reminder_offsets: tuple[timedelta, ...] = (
        timedelta(days=7),
        timedelta(days=1),
        timedelta(hours=2),
    )
    digest_schedule: DigestSchedule | None = DigestSchedule(0, time(8, 0))
    agenda_deadline: timedelta = timedelta(0)
    minutes_review: timedelta = timedelta(days=7)
    join_policy: str = "approval"
    webhook_url: str | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443
    webhook_secret: str | None = field(default=None, repr=False)
    privacy_notice_file: Path | None = None
    log_level: str = "INFO"
    smtp: SmtpServer | None = field(default=None, repr=False)
    mail_from: str | None = None
    mail_rate: float = 5.0
    public_url: str | None = None
    web_listen: str | None = None
    web_port: int | None = None

    @property
    def mail_on(self) -> bool:
        """E-mail is a second channel (SPEC 15)."""
        return self.smtp is not None and self.mail_from is not None

    def web_address(self) -> tuple[str, int] | None:
        """Where `kimbot run` serves the pages of e-mail links: `WEB_LISTEN`/`WEB_PORT`,
        else the host and port of `PUBLIC_URL`; None without `PUBLIC_URL`."""
        if self.public_url is None:
            return None
        parts = urlsplit(self.public_url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        return (self.web_listen or parts.hostname or "127.0.0.1", self.web_port or port)

    @property
    def timezone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone_name)

    def require_token(self) -> str:
        """The bot token, or ConfigError when `kimbot run` has none."""
        if not self.telegram_bot_token:
            raise ConfigError("TELEGRAM_BOT_TOKEN", "", "required by 'kimbot run' (from @BotFather)")
        return self.telegram_bot_token


def load_settings(env: Mapping[str, str]) -> Settings:
    """Build `Settings` from `env`; empty values count as unset."""

    def get(name: str) -> str | None:
        value = env.get(name)
        if value is None or not value.strip():
            return None
        return value.strip()

    values: dict[str, object] = {}

    token = get("TELEGRAM_BOT_TOKEN")
    if token is not None:
        if not re.fullmatch(r"[^\s/]+", token):
            raise ConfigError(
                "TELEGRAM_BOT_TOKEN", "<hidden>", "a token like 123456789:AAE… from @BotFather, without spaces or '/'"
            )
        values["telegram_bot_token"] = token

    if (url := get("TELEGRAM_API_URL")) is not None:
        values["telegram_api_url"] = _http_url("TELEGRAM_API_URL", url).rstrip("/")

    if (url := get("DATABASE_URL")) is not None:
        values["database_url"] = _database_url(url)

    if (ids := get("COORDINATOR_IDS")) is not None:
        values["coordinator_ids"] = _coordinator_ids(ids)

    if (tz := get("TIMEZONE")) is not None:
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: TIMEZONE=Europe is a directory
            raise ConfigError("TIMEZONE", tz, "an IANA time zone name such as Europe/Berlin") from None
        values["timezone_name"] = tz

    if (lang := get("DEFAULT_LANGUAGE")) is not None:
        values["default_language"] = _choice("DEFAULT_LANGUAGE", lang.lower(), LANGUAGES)

    if (offsets := get("REMINDER_OFFSETS")) is not None:
        values["reminder_offsets"] = parse_offsets(offsets)

    if (deadline := get("AGENDA_DEADLINE")) is not None:
        values["agenda_deadline"] = parse_agenda_deadline(deadline)

    if (review := get("MINUTES_REVIEW")) is not None:
        values["minutes_review"] = parse_duration(
            review, "MINUTES_REVIEW", "a duration with unit d, h, m or s, e.g. 7d or 72h"
        )

    if (schedule := get("DIGEST_SCHEDULE")) is not None:
        values["digest_schedule"] = _digest_schedule(schedule)

    if (policy := get("JOIN_POLICY")) is not None:
        values["join_policy"] = _choice("JOIN_POLICY", policy.lower(), JOIN_POLICIES)

    if (url := get("WEBHOOK_URL")) is not None:
        # Telegram itself only delivers to https://; a local Bot API server may use http://.
        values["webhook_url"] = _http_url("WEBHOOK_URL", url)
    if (listen := get("WEBHOOK_LISTEN")) is not None:
        values["webhook_listen"] = listen
    if (port := get("WEBHOOK_PORT")) is not None:
        values["webhook_port"] = _port("WEBHOOK_PORT", port)
    if (secret := get("WEBHOOK_SECRET")) is not None:
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise ConfigError("WEBHOOK_SECRET", "<hidden>", "1 to 256 characters A-Z, a-z, 0-9, _ and -")
        values["webhook_secret"] = secret

    if (path := get("PRIVACY_NOTICE_FILE")) is not None:
        if not Path(path).is_file():
            raise ConfigError("PRIVACY_NOTICE_FILE", path, "the path of a readable text file")
        values["privacy_notice_file"] = Path(path)

    if (level := get("LOG_LEVEL")) is not None:
        values["log_level"] = _choice("LOG_LEVEL", level.upper(), LOG_LEVELS)

    _mail(get, values)

    settings = Settings(**values)  # type: ignore[arg-type]  # each value was checked against its field above
    pages = settings.web_address()
    if settings.webhook_url is not None and settings.mail_on and pages is not None:
        if pages[1] == settings.webhook_port:
            raise ConfigError(
                "WEB_PORT",
                str(pages[1]),
                "a port other than WEBHOOK_PORT: the pages of e-mail links and the webhook need their own",
            )
    return settings


MAIL_FROM_ALLOWED = "an e-mail address, e.g. kim@stadt.example.de or 'KIM-Bot <kim@stadt.example.de>'"
_ADDRESS = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+"
)


def is_address(text: str) -> bool:
    """A plain e-mail address as people write it (`name@stadt.example.de`), at most 254 characters."""
    return len(text) <= 254 and _ADDRESS.fullmatch(text) is not None and ".." not in text


def _mail(get: Callable[[str], str | None], values: dict[str, object]) -> None:
    """SMTP_URL, MAIL_FROM, MAIL_RATE, PUBLIC_URL, WEB_LISTEN, WEB_PORT (SPEC 9, 15)."""
    smtp_url, mail_from = get("SMTP_URL"), get("MAIL_FROM")
    if smtp_url is not None:
        values["smtp"] = _smtp_server(smtp_url)
        if mail_from is None:
            raise ConfigError("MAIL_FROM", "", f"required with SMTP_URL: {MAIL_FROM_ALLOWED}")
    if mail_from is not None:
        if smtp_url is None:
            raise ConfigError("SMTP_URL", "", "required with MAIL_FROM: smtp://[user:password@]host:port or smtps://…")
        _, address = parseaddr(mail_from)
        if not is_address(address):
            raise ConfigError("MAIL_FROM", mail_from, MAIL_FROM_ALLOWED)
        values["mail_from"] = mail_from
    if (rate := get("MAIL_RATE")) is not None:
        if not re.fullmatch(r"[0-9]{1,4}(\.[0-9]{1,3})?", rate) or not 0 < float(rate) <= 1000:
            raise ConfigError("MAIL_RATE", rate, "e-mails per second, a number above 0 up to 1000, e.g. 5 or 0.5")
        values["mail_rate"] = float(rate)
    if (url := get("PUBLIC_URL")) is not None:
        values["public_url"] = _http_url("PUBLIC_URL", url).rstrip("/")
    if (listen := get("WEB_LISTEN")) is not None:
        if not re.fullmatch(r"[A-Za-z0-9.:-]{1,253}|\[[0-9A-Fa-f:]+\]", listen):
            raise ConfigError("WEB_LISTEN", listen, "a host name or IP address to listen on, e.g. 127.0.0.1 or 0.0.0.0")
        values["web_listen"] = listen.strip("[]")
    if (port := get("WEB_PORT")) is not None:
        values["web_port"] = _port("WEB_PORT", port)


def _smtp_server(url: str) -> SmtpServer:
    shown = re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)  # never print a password
    allowed = "smtp://[user:password@]host:port (STARTTLS where offered) or smtps://[user:password@]host:port (TLS)"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # a port that is not a number
        raise ConfigError("SMTP_URL", shown, allowed) from None
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname or parts.path not in ("", "/") or parts.query:
        raise ConfigError("SMTP_URL", shown, allowed)
    tls = parts.scheme == "smtps"
    return SmtpServer(
        host=parts.hostname,
        port=port or (465 if tls else 587),
        tls=tls,
        user=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


def _port(variable: str, port: str) -> int:
    if not re.fullmatch(r"[0-9]+", port) or not 1 <= int(port) <= 65535:
        raise ConfigError(variable, port, "a port number from 1 to 65535")
    return int(port)


def parse_offsets(text: str, variable: str = "REMINDER_OFFSETS") -> tuple[timedelta, ...]:
    """`7d,1d,2h` -> lead times, longest first, without repeats."""
    allowed = "comma-separated lead times with units d, h, m, s, e.g. 7d,1d,2h"
    offsets: set[timedelta] = set()
    for part in text.split(","):
        match = re.fullmatch(r"\s*(\d{1,4})\s*([dhms])\s*", part)
        if not match or int(match.group(1)) == 0:
            raise ConfigError(variable, text, allowed)
        offsets.add(timedelta(seconds=int(match.group(1)) * _OFFSET_UNITS[match.group(2)]))
    return tuple(sorted(offsets, reverse=True))


def parse_agenda_deadline(text: str) -> timedelta:
    """`2d` -> how long before a session its agenda closes; `0` means no deadline."""
    if re.fullmatch(r"\s*0+\s*[dhms]?\s*", text):
        return timedelta(0)
    return parse_duration(
        text, "AGENDA_DEADLINE", "a lead time with unit d, h, m or s, e.g. 2d or 36h; 0 for no deadline"
    )


def parse_duration(text: str, variable: str, allowed: str) -> timedelta:
    """One duration with a unit, as in REMINDER_OFFSETS: `7d`, `36h`, `90m`, `30s` (not zero)."""
    match = re.fullmatch(r"\s*(\d{1,4})\s*([dhms])\s*", text)
    if not match or int(match.group(1)) == 0:
        raise ConfigError(variable, text, allowed)
    return timedelta(seconds=int(match.group(1)) * _OFFSET_UNITS[match.group(2)])


def _digest_schedule(text: str) -> DigestSchedule | None:
    if text.lower() == "off":
        return None
    match = re.fullmatch(r"([a-zA-Z]{3})\s+(\d{1,2}):(\d{2})", text)
    allowed = "'off' or a weekday and a time, e.g. 'mon 08:00' (mon tue wed thu fri sat sun)"
    if not match or match.group(1).lower() not in WEEKDAYS:
        raise ConfigError("DIGEST_SCHEDULE", text, allowed)
    hour, minute = int(match.group(2)), int(match.group(3))
    if hour > 23 or minute > 59:
        raise ConfigError("DIGEST_SCHEDULE", text, allowed)
    return DigestSchedule(WEEKDAYS.index(match.group(1).lower()), time(hour, minute))


def _coordinator_ids(text: str) -> frozenset[int]:
    ids = set()
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        if not re.fullmatch(r"[0-9]+", part):
            raise ConfigError(
                "COORDINATOR_IDS", text, "comma-separated numeric Telegram user ids, e.g. 11111111,22222222"
            )
        ids.add(int(part))
    return frozenset(ids)


def _database_url(url: str) -> str:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    shown = re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)  # never print a password

    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):  # ValueError: a non-numeric port
        raise ConfigError(
            "DATABASE_URL", shown, "a SQLAlchemy URL such as sqlite:///kimbot.db or postgresql://user@host/db"
        ) from None
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise ConfigError("DATABASE_URL", shown, "a sqlite:// or postgresql:// URL")
    return url


def _http_url(variable: str, url: str) -> str:
    if not re.fullmatch(r"https?://[^\s/]+(/\S*)?", url):
        raise ConfigError(variable, url, "an http:// or https:// URL")
    return url


def _choice(variable: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ConfigError(variable, value, "one of " + ", ".join(allowed))
    return value
