"""Settings from the environment (SPEC 9): defaults, valid values, and one
clear ConfigError per invalid value, naming the variable, the value and what
is allowed."""

from __future__ import annotations

import re
from datetime import time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.core.config import ConfigError, DigestSchedule, Settings, SmtpServer, load_settings, parse_offsets
from storage.database import async_url

TOKEN = "123456789:AAEsecretTOKENvalue-for_tests"


def refused(env: dict[str, str]) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_settings(env)
    return info.value


# --- defaults ---------------------------------------------------------------


def test_defaults_with_an_empty_environment() -> None:
    settings = load_settings({})
    assert settings.telegram_bot_token is None
    assert settings.telegram_api_url == "https://api.telegram.org"
    assert settings.database_url == "sqlite:///kimbot.db"
    assert settings.coordinator_ids == frozenset()
    assert settings.timezone_name == "Europe/Berlin"
    assert settings.timezone == ZoneInfo("Europe/Berlin")
    assert settings.default_language == "de"
    assert settings.reminder_offsets == (timedelta(days=7), timedelta(days=1), timedelta(hours=2))
    assert settings.digest_schedule == DigestSchedule(weekday=0, at=time(8, 0))
    assert settings.join_policy == "approval"
    assert settings.webhook_url is None
    assert settings.webhook_listen == "127.0.0.1"
    assert settings.webhook_port == 8443
    assert settings.webhook_secret is None
    assert settings.privacy_notice_file is None
    assert settings.log_level == "INFO"
    assert settings.agenda_deadline == timedelta(0)


def test_empty_and_blank_values_count_as_unset() -> None:
    names = [
        "TELEGRAM_BOT_TOKEN",
        "TELEGRAM_API_URL",
        "DATABASE_URL",
        "COORDINATOR_IDS",
        "TIMEZONE",
        "DEFAULT_LANGUAGE",
        "REMINDER_OFFSETS",
        "DIGEST_SCHEDULE",
        "JOIN_POLICY",
        "WEBHOOK_URL",
        "WEBHOOK_LISTEN",
        "WEBHOOK_PORT",
        "WEBHOOK_SECRET",
        "PRIVACY_NOTICE_FILE",
        "LOG_LEVEL",
        "AGENDA_DEADLINE",
    ]
    assert load_settings({name: "" for name in names}) == load_settings({})
    assert load_settings({name: "   " for name in names}) == load_settings({})


def test_variables_that_are_not_ours_are_ignored() -> None:
    assert load_settings({"PATH": "/usr/bin", "HOME": "/root", "LANG": "fr_FR.UTF-8"}) == load_settings({})


# --- valid values -----------------------------------------------------------


def test_valid_values_of_every_variable(tmp_path: Path) -> None:
    notice = tmp_path / "datenschutz.txt"
    notice.write_text("Datenschutzhinweis", encoding="utf-8")
    settings = load_settings(
        {
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_URL": "http://127.0.0.1:8081/",
            "DATABASE_URL": "postgresql://kim:pw@db.example.org:5432/kimbot",
            "COORDINATOR_IDS": " 11111111, 22222222 ,,11111111",
            "TIMEZONE": "America/New_York",
            "DEFAULT_LANGUAGE": "EN",
            "REMINDER_OFFSETS": "2h, 30m,3d,2h",
            "DIGEST_SCHEDULE": "Fri 17:30",
            "JOIN_POLICY": "Open",
            "WEBHOOK_URL": "https://bot.example.org/kimbot/hook",
            "WEBHOOK_LISTEN": "0.0.0.0",
            "WEBHOOK_PORT": "8080",
            "WEBHOOK_SECRET": "s3cret_-value",
            "PRIVACY_NOTICE_FILE": str(notice),
            "LOG_LEVEL": "debug",
            "AGENDA_DEADLINE": "36h",
        }
    )
    assert settings.telegram_bot_token == TOKEN
    assert settings.require_token() == TOKEN
    assert settings.telegram_api_url == "http://127.0.0.1:8081"  # trailing slash removed
    assert settings.database_url == "postgresql://kim:pw@db.example.org:5432/kimbot"
    assert settings.coordinator_ids == frozenset({11111111, 22222222})
    assert settings.timezone == ZoneInfo("America/New_York")
    assert settings.default_language == "en"
    assert settings.reminder_offsets == (timedelta(days=3), timedelta(hours=2), timedelta(minutes=30))
    assert settings.digest_schedule == DigestSchedule(weekday=4, at=time(17, 30))
    assert settings.join_policy == "open"
    assert settings.webhook_url == "https://bot.example.org/kimbot/hook"
    assert settings.webhook_listen == "0.0.0.0"
    assert settings.webhook_port == 8080
    assert settings.webhook_secret == "s3cret_-value"
    assert settings.privacy_notice_file == notice
    assert settings.log_level == "DEBUG"
    assert settings.agenda_deadline == timedelta(hours=36)


def test_agenda_deadline_zero_means_none() -> None:
    assert load_settings({"AGENDA_DEADLINE": "0"}).agenda_deadline == timedelta(0)


def test_values_are_trimmed() -> None:
    settings = load_settings({"TIMEZONE": "  Europe/Berlin\n", "JOIN_POLICY": " open ", "WEBHOOK_PORT": " 443 "})
    assert settings.timezone_name == "Europe/Berlin"
    assert settings.join_policy == "open"
    assert settings.webhook_port == 443


@pytest.mark.parametrize(
    ("text", "weekday", "at"),
    [("mon 08:00", 0, time(8, 0)), ("sun 23:59", 6, time(23, 59)), ("WED 7:05", 2, time(7, 5))],
)
def test_digest_schedule_values(text: str, weekday: int, at: time) -> None:
    assert load_settings({"DIGEST_SCHEDULE": text}).digest_schedule == DigestSchedule(weekday, at)


@pytest.mark.parametrize("text", ["off", "OFF", "Off"])
def test_digest_schedule_off(text: str) -> None:
    assert load_settings({"DIGEST_SCHEDULE": text}).digest_schedule is None


def test_parse_offsets_sorts_longest_first_and_drops_repeats() -> None:
    assert parse_offsets("1d,7d,2h,1d") == (timedelta(days=7), timedelta(days=1), timedelta(hours=2))
    assert parse_offsets(" 45 s , 15m ") == (timedelta(minutes=15), timedelta(seconds=45))
    assert parse_offsets("24h,1d") == (timedelta(days=1),)


def test_parse_offsets_names_the_variable_it_is_given() -> None:
    with pytest.raises(ConfigError) as info:
        parse_offsets("soon", variable="OFFSETS_FOR_A_GROUP")
    assert info.value.variable == "OFFSETS_FOR_A_GROUP"
    assert "OFFSETS_FOR_A_GROUP" in str(info.value)


@pytest.mark.parametrize("port", ["1", "443", "65535"])
def test_webhook_port_range_edges_accepted(port: str) -> None:
    assert load_settings({"WEBHOOK_PORT": port}).webhook_port == int(port)


@pytest.mark.parametrize("url", ["sqlite:///kimbot.db", "sqlite:////var/lib/kimbot/kimbot.db", "sqlite://"])
def test_sqlite_urls_accepted_as_written(url: str) -> None:
    assert load_settings({"DATABASE_URL": url}).database_url == url


# --- invalid values ---------------------------------------------------------

# (variable, value, words of what is allowed that the message must contain)
INVALID = [
    ("TIMEZONE", "Mars/Olympus", ["Europe/Berlin"]),
    ("TIMEZONE", "Europe", ["Europe/Berlin"]),  # a directory of the time zone database
    ("TIMEZONE", "europe/berlin", ["Europe/Berlin"]),
    ("TIMEZONE", "../../etc/passwd", ["Europe/Berlin"]),
    ("DEFAULT_LANGUAGE", "fr", ["de", "en"]),
    ("REMINDER_OFFSETS", "7x", ["d, h, m, s", "7d,1d,2h"]),
    ("REMINDER_OFFSETS", "0h", ["d, h, m, s", "7d,1d,2h"]),
    ("REMINDER_OFFSETS", "7d,,2h", ["d, h, m, s", "7d,1d,2h"]),
    ("REMINDER_OFFSETS", "7d,", ["d, h, m, s", "7d,1d,2h"]),
    ("REMINDER_OFFSETS", "-2h", ["d, h, m, s"]),
    ("REMINDER_OFFSETS", "2 hours", ["d, h, m, s"]),
    ("AGENDA_DEADLINE", "2 days", ["d, h, m or s", "2d"]),
    ("AGENDA_DEADLINE", "-1d", ["d, h, m or s"]),
    ("AGENDA_DEADLINE", "2d,1d", ["d, h, m or s"]),
    ("DIGEST_SCHEDULE", "monday 25:00", ["off", "mon 08:00"]),
    ("DIGEST_SCHEDULE", "mon 25:00", ["off", "mon 08:00"]),
    ("DIGEST_SCHEDULE", "mon 08:60", ["off", "mon 08:00"]),
    ("DIGEST_SCHEDULE", "mon", ["off", "mon 08:00"]),
    ("DIGEST_SCHEDULE", "xyz 08:00", ["off", "mon 08:00"]),
    ("DIGEST_SCHEDULE", "daily", ["off", "mon 08:00"]),
    ("JOIN_POLICY", "maybe", ["approval", "open"]),
    ("COORDINATOR_IDS", "12,abc", ["numeric"]),
    ("COORDINATOR_IDS", "-12", ["numeric"]),
    ("COORDINATOR_IDS", "@maria_s", ["numeric"]),
    ("COORDINATOR_IDS", "12,\u00b2", ["numeric"]),  # superscript two counts as a digit for str.isdigit
    ("DATABASE_URL", "mysql://x", ["sqlite://", "postgresql://"]),
    ("DATABASE_URL", "nonsense", ["sqlite:///kimbot.db", "postgresql://"]),
    ("DATABASE_URL", "postgresql://kim@db:port/kimbot", ["postgresql://"]),
    ("DATABASE_URL", "postgres://kim@db/kimbot", ["postgresql://"]),
    ("WEBHOOK_URL", "bot.example.org/hook", ["https://"]),
    ("WEBHOOK_URL", "https://", ["https://"]),
    ("WEBHOOK_PORT", "70000", ["1", "65535"]),
    ("WEBHOOK_PORT", "0", ["1", "65535"]),
    ("WEBHOOK_PORT", "-1", ["1", "65535"]),
    ("WEBHOOK_PORT", "https", ["1", "65535"]),
    ("WEBHOOK_PORT", "\u00b2", ["1", "65535"]),
    ("TELEGRAM_API_URL", "ftp://x", ["http://", "https://"]),
    ("TELEGRAM_API_URL", "api.telegram.org", ["http://", "https://"]),
    ("TELEGRAM_API_URL", "http://", ["http://", "https://"]),
    ("LOG_LEVEL", "LOUD", ["DEBUG", "INFO", "WARNING", "ERROR"]),
]


@pytest.mark.parametrize(("variable", "value", "allowed"), INVALID, ids=[f"{v}={x}" for v, x, _ in INVALID])
def test_invalid_value_names_variable_value_and_what_is_allowed(variable: str, value: str, allowed: list[str]) -> None:
    error = refused({variable: value})
    message = str(error)
    assert error.variable == variable
    assert variable in message
    assert f"{variable}={value!r} is invalid" in message
    for word in allowed:
        assert word in message, f"{message!r} does not say {word!r} is allowed"
    assert message.index(variable) < message.index(allowed[0])


def test_config_error_is_the_only_exception_for_bad_values() -> None:
    # Anything else would escape the command line's handler as a traceback.
    for variable, value, _ in INVALID:
        try:
            load_settings({variable: value})
        except ConfigError:
            continue
        pytest.fail(f"{variable}={value!r} was accepted")


def test_the_first_invalid_value_stops_loading_even_when_others_are_valid() -> None:
    error = refused({"TELEGRAM_BOT_TOKEN": TOKEN, "TIMEZONE": "Europe/Berlin", "JOIN_POLICY": "maybe"})
    assert error.variable == "JOIN_POLICY"


def test_privacy_notice_file_must_exist(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.txt"
    error = refused({"PRIVACY_NOTICE_FILE": str(missing)})
    assert "PRIVACY_NOTICE_FILE" in str(error)
    assert str(missing) in str(error)
    assert "file" in error.allowed
    error = refused({"PRIVACY_NOTICE_FILE": str(tmp_path)})  # a directory is not a file
    assert "PRIVACY_NOTICE_FILE" in str(error)


# --- secrets ----------------------------------------------------------------


def test_token_is_not_in_repr_or_str() -> None:
    settings = load_settings({"TELEGRAM_BOT_TOKEN": TOKEN, "WEBHOOK_SECRET": "webhook-secret-42"})
    for shown in (repr(settings), str(settings), f"{settings}", f"{settings!r}"):
        assert TOKEN not in shown
        assert "AAEsecret" not in shown
        assert "webhook-secret-42" not in shown


@pytest.mark.parametrize("token", ["123 456:abc", "123456:abc/def", "1234\t5:abc"])
def test_malformed_token_is_refused_without_showing_it(token: str) -> None:
    error = refused({"TELEGRAM_BOT_TOKEN": token})
    assert error.variable == "TELEGRAM_BOT_TOKEN"
    assert token not in str(error)
    assert "abc" not in str(error)
    assert "@BotFather" in str(error)


def test_malformed_webhook_secret_is_refused_without_showing_it() -> None:
    error = refused({"WEBHOOK_SECRET": "has spaces and $ymbols"})
    assert error.variable == "WEBHOOK_SECRET"
    assert "$ymbols" not in str(error)
    assert "A-Z" in str(error)


def test_require_token_without_token_names_the_variable() -> None:
    with pytest.raises(ConfigError) as info:
        load_settings({}).require_token()
    assert info.value.variable == "TELEGRAM_BOT_TOKEN"
    assert "TELEGRAM_BOT_TOKEN" in str(info.value)
    assert "kimbot run" in str(info.value)


def test_settings_are_frozen() -> None:
    settings = load_settings({})
    with pytest.raises(AttributeError):
        settings.join_policy = "open"  # type: ignore[misc]
    assert isinstance(settings, Settings)


# --- database URLs ----------------------------------------------------------


def test_postgresql_url_is_accepted_as_written_and_mapped_to_asyncpg() -> None:
    written = "postgresql://kim:p%40ss@db.example.org:5433/kimbot?sslmode=require"
    settings = load_settings({"DATABASE_URL": written})
    assert settings.database_url == written
    url = async_url(settings.database_url)
    assert url.drivername == "postgresql+asyncpg"
    assert url.host == "db.example.org"
    assert url.port == 5433
    assert url.database == "kimbot"
    assert url.username == "kim"
    assert url.password == "p@ss"
    assert url.query == {"sslmode": "require"}


def test_postgresql_url_with_a_sync_driver_is_mapped_to_asyncpg() -> None:
    settings = load_settings({"DATABASE_URL": "postgresql+psycopg2://kim@db/kimbot"})
    assert async_url(settings.database_url).drivername == "postgresql+asyncpg"


@pytest.mark.parametrize(
    ("written", "database"),
    [("sqlite:///kimbot.db", "kimbot.db"), ("sqlite:////var/lib/kimbot.db", "/var/lib/kimbot.db"), ("sqlite://", None)],
)
def test_sqlite_url_is_mapped_to_aiosqlite(written: str, database: str | None) -> None:
    url = async_url(load_settings({"DATABASE_URL": written}).database_url)
    assert url.drivername == "sqlite+aiosqlite"
    assert url.database == database


def test_async_url_refuses_other_databases() -> None:
    with pytest.raises(ValueError):
        async_url("mysql://x")


# --- .env.example -------------------------------------------------------------

REPO = Path(__file__).resolve().parents[1]


def _example_lines() -> dict[str, str]:
    text = (REPO / ".env.example").read_text(encoding="utf-8")
    found: dict[str, str] = {}
    for line in text.splitlines():
        match = re.fullmatch(r"#?\s*([A-Z][A-Z0-9_]*)=(.*)", line.strip())
        if match:
            found[match.group(1)] = match.group(2).strip()
    return found


def test_env_example_documents_every_variable_the_settings_read() -> None:
    source = (REPO / "bot" / "core" / "config.py").read_text(encoding="utf-8")
    read = set(re.findall(r'\bget\("([A-Z][A-Z0-9_]*)"\)', source))
    assert {"TELEGRAM_BOT_TOKEN", "DATABASE_URL", "WEBHOOK_SECRET", "LOG_LEVEL"} <= read
    documented = set(_example_lines())
    assert read == documented, f"undocumented: {sorted(read - documented)}; unknown: {sorted(documented - read)}"


def test_env_example_shows_the_real_defaults() -> None:
    examples = {
        name: value
        for name, value in _example_lines().items()
        # values without a default are shown as examples only
        if name
        not in {
            "TELEGRAM_BOT_TOKEN",
            "WEBHOOK_URL",
            "WEBHOOK_SECRET",
            "PRIVACY_NOTICE_FILE",
            *("SMTP_URL", "MAIL_FROM", "PUBLIC_URL", "WEB_LISTEN", "WEB_PORT"),
        }
    }
    assert load_settings(examples) == load_settings({})


def test_an_invalid_database_url_never_shows_its_password() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({"DATABASE_URL": "mysql://kim:geheim@db/kimbot"})
    assert "geheim" not in str(caught.value)
    assert "mysql://kim:***@db/kimbot" in str(caught.value)


# --- e-mail (SPEC 15) ---------------------------------------------------------

MAIL = {"SMTP_URL": "smtp://mail.stadt.example.de:25", "MAIL_FROM": "kim@stadt.example.de"}


def test_mail_is_off_without_smtp_url_and_mail_from() -> None:
    settings = load_settings({})
    assert settings.smtp is None and settings.mail_from is None and not settings.mail_on
    assert settings.mail_rate == 5.0 and settings.public_url is None and settings.web_address() is None


def test_valid_mail_variables() -> None:
    settings = load_settings(
        {
            "SMTP_URL": "smtp://kim%40stadt.example.de:ge%2Fheim%40@mail.stadt.example.de:587",
            "MAIL_FROM": "KIM-Bot <kim@stadt.example.de>",
            "MAIL_RATE": "0.5",
            "PUBLIC_URL": "https://bot.stadt.example.de/kimbot/",
            "WEB_LISTEN": "127.0.0.1",
            "WEB_PORT": "8090",
        }
    )
    assert settings.smtp == SmtpServer("mail.stadt.example.de", 587, False, "kim@stadt.example.de", "ge/heim@")
    assert settings.mail_on and settings.mail_from == "KIM-Bot <kim@stadt.example.de>"
    assert settings.mail_rate == 0.5
    assert settings.public_url == "https://bot.stadt.example.de/kimbot"
    assert settings.web_address() == ("127.0.0.1", 8090)


@pytest.mark.parametrize(
    ("url", "server"),
    [
        ("smtp://relay.stadt.example.de:25", SmtpServer("relay.stadt.example.de", 25, False)),
        ("smtp://relay.stadt.example.de", SmtpServer("relay.stadt.example.de", 587, False)),
        ("smtps://mail.stadt.example.de", SmtpServer("mail.stadt.example.de", 465, True)),
        ("smtps://kim:pw@mail.stadt.example.de:2465", SmtpServer("mail.stadt.example.de", 2465, True, "kim", "pw")),
    ],
)
def test_smtp_url_forms(url: str, server: SmtpServer) -> None:
    assert load_settings({**MAIL, "SMTP_URL": url}).smtp == server


@pytest.mark.parametrize(
    ("public_url", "address"),
    [
        ("http://127.0.0.1:8090", ("127.0.0.1", 8090)),
        ("https://bot.stadt.example.de/kimbot", ("bot.stadt.example.de", 443)),
        ("http://bot.stadt.example.de", ("bot.stadt.example.de", 80)),
    ],
)
def test_the_pages_listen_on_public_url_without_web_listen_and_web_port(
    public_url: str, address: tuple[str, int]
) -> None:
    assert load_settings({**MAIL, "PUBLIC_URL": public_url}).web_address() == address


# (variable, value, words of what is allowed); loaded beside a valid SMTP_URL and MAIL_FROM
INVALID_MAIL = [
    ("SMTP_URL", "http://mail.stadt.example.de", ["smtp://", "smtps://"]),
    ("SMTP_URL", "mail.stadt.example.de:25", ["smtp://", "smtps://"]),
    ("SMTP_URL", "smtp://", ["smtp://", "smtps://"]),
    ("SMTP_URL", "smtp://mail.stadt.example.de:port", ["smtp://", "smtps://"]),
    ("SMTP_URL", "smtp://mail.stadt.example.de:25/path", ["smtp://", "smtps://"]),
    ("SMTP_URL", "smtp://mail.stadt.example.de:25?tls=1", ["smtp://", "smtps://"]),
    ("MAIL_FROM", "kim", ["kim@stadt.example.de"]),
    ("MAIL_FROM", "KIM-Bot", ["kim@stadt.example.de"]),
    ("MAIL_FROM", "kim@", ["kim@stadt.example.de"]),
    ("MAIL_FROM", "KIM-Bot <kim@stadt>", ["kim@stadt.example.de"]),
    ("MAIL_RATE", "0", ["above 0", "1000"]),
    ("MAIL_RATE", "-1", ["above 0", "1000"]),
    ("MAIL_RATE", "1001", ["above 0", "1000"]),
    ("MAIL_RATE", "fast", ["above 0", "1000"]),
    ("MAIL_RATE", "1e3", ["above 0", "1000"]),
    ("PUBLIC_URL", "bot.stadt.example.de", ["http://", "https://"]),
    ("PUBLIC_URL", "ftp://bot.stadt.example.de", ["http://", "https://"]),
    ("PUBLIC_URL", "https://", ["http://", "https://"]),
    ("WEB_LISTEN", "0.0.0.0; rm", ["127.0.0.1", "0.0.0.0"]),
    ("WEB_LISTEN", "bot stadt", ["127.0.0.1", "0.0.0.0"]),
    ("WEB_PORT", "0", ["1", "65535"]),
    ("WEB_PORT", "70000", ["1", "65535"]),
    ("WEB_PORT", "http", ["1", "65535"]),
]


@pytest.mark.parametrize(("variable", "value", "allowed"), INVALID_MAIL, ids=[f"{v}={x}" for v, x, _ in INVALID_MAIL])
def test_invalid_mail_value_names_variable_value_and_what_is_allowed(
    variable: str, value: str, allowed: list[str]
) -> None:
    error = refused({**MAIL, variable: value})
    message = str(error)
    assert error.variable == variable
    assert f"{variable}={value!r} is invalid" in message
    for word in allowed:
        assert word in message, f"{message!r} does not say {word!r} is allowed"


def test_smtp_url_and_mail_from_go_together() -> None:
    error = refused({"SMTP_URL": MAIL["SMTP_URL"]})
    assert error.variable == "MAIL_FROM" and "MAIL_FROM is not set" in str(error) and "SMTP_URL" in str(error)
    error = refused({"MAIL_FROM": MAIL["MAIL_FROM"]})
    assert error.variable == "SMTP_URL" and "SMTP_URL is not set" in str(error) and "MAIL_FROM" in str(error)


@pytest.mark.parametrize(
    "url",
    [
        "smtp://kim:geheim@mail.stadt.example.de:port",
        "http://kim:geheim@mail.stadt.example.de:25",
        "smtp://kim:geheim@mail.stadt.example.de:25/path",
    ],
)
def test_an_invalid_smtp_url_never_shows_its_password(url: str) -> None:
    error = refused({**MAIL, "SMTP_URL": url})
    assert error.variable == "SMTP_URL"
    assert "geheim" not in str(error) and "geheim" not in error.value
    assert "kim:***@mail.stadt.example.de" in str(error)


def test_the_smtp_password_is_not_in_repr() -> None:
    settings = load_settings({**MAIL, "SMTP_URL": "smtps://kim:geheim@mail.stadt.example.de"})
    assert settings.smtp is not None and settings.smtp.password == "geheim"
    assert "geheim" not in repr(settings) and "geheim" not in repr(settings.smtp)


def test_the_pages_of_mail_links_may_not_take_the_webhooks_port() -> None:
    mail = {"SMTP_URL": "smtp://relay:25", "MAIL_FROM": "kim@stadt.example.de"}
    webhook = {"WEBHOOK_URL": "https://bot.example.org/hook", "WEBHOOK_PORT": "8443"}
    with pytest.raises(ConfigError) as caught:
        load_settings({**mail, **webhook, "PUBLIC_URL": "https://bot.example.org:8443"})
    assert caught.value.variable == "WEB_PORT" and "WEBHOOK_PORT" in str(caught.value)
    with pytest.raises(ConfigError):
        load_settings({**mail, **webhook, "PUBLIC_URL": "https://bot.example.org", "WEB_PORT": "8443"})
    settings = load_settings({**mail, **webhook, "PUBLIC_URL": "https://bot.example.org", "WEB_PORT": "8090"})
    assert settings.web_address() == ("bot.example.org", 8090)
