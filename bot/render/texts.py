"""Texts: the message catalogs and how to fill them.

The catalog of a language is `bot/render/locales/<lang>.toml` plus one file per
feature in `bot/render/locales/<lang>/` (`agenda.toml`, ...); a key defined twice
is an error.

Every text a person reads lives in a catalog, German first, English second;
handlers only name keys. `Texts.get(lang, key, **params)` fills `{name}`
placeholders and HTML-escapes every parameter, so user-supplied names and
organisations can never break or inject markup. A parameter that is itself
already-rendered HTML is passed wrapped in `Html(...)`. `Texts.plain` is for
places Telegram shows without HTML (button labels, pop-up notices, menus).

**Example dates are never in the past.** A text writes `{example_date}`
(`DD.MM.YYYY`), `{example_iso}` (`YYYY-MM-DD`) or another name of
`bot.core.dates.EXAMPLE_NAMES` where it shows an example date, and `get` /
`plain` fill them by themselves from the clock the catalogs were given
(`use_clock`: the bot's clock and `TIMEZONE`; real time in Europe/Berlin
until then). A caller may still pass one explicitly; that value wins.
`placeholders` names only what a caller must pass.
"""

from __future__ import annotations

import functools
import html
import string
import tomllib
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.core.dates import EXAMPLE_NAMES, examples

LOCALES = Path(__file__).parent / "locales"
LANGUAGES = ("de", "en")


class Html(str):
    """A string that is already safe HTML and must not be escaped again."""


def escape(value: object) -> Html:
    """Escape anything for Telegram's HTML parse mode (idempotent for `Html`)."""
    if isinstance(value, Html):
        return value
    return Html(html.escape(str(value), quote=False))


BERLIN = ZoneInfo("Europe/Berlin")
"""The time zone of the examples until `use_clock` gives the bot's (`TIMEZONE`)."""


def _real_time() -> datetime:
    return datetime.now(UTC)


@functools.cache
def _load(directory: Path) -> dict[str, dict[str, str]]:
    """The catalogs of every language in `directory`, read once per process:
    a digest, a report or an export takes its own `Texts` without reading them again."""
    catalogs: dict[str, dict[str, str]] = {}
    for lang in LANGUAGES:
        catalog: dict[str, str] = {}
        for path in [directory / f"{lang}.toml", *sorted((directory / lang).glob("*.toml"))]:
            with open(path, "rb") as handle:
                entries = _flatten(tomllib.load(handle))
            if twice := sorted(set(entries) & set(catalog)):
                raise ValueError(f"{path}: keys defined twice: {', '.join(twice)}")
            catalog.update(entries)
        catalogs[lang] = catalog
    return catalogs


class Texts:
    """The loaded catalogs of all languages."""

    def __init__(
        self,
        directory: Path = LOCALES,
        clock: Callable[[], datetime] = _real_time,
        timezone: ZoneInfo = BERLIN,
    ) -> None:
        self.clock = clock
        self.timezone = timezone
        self.catalogs = _load(directory)

    def use_clock(self, clock: Callable[[], datetime], timezone: ZoneInfo) -> None:
        """Compute the example dates from this clock, in this time zone (the bot's)."""
        self.clock, self.timezone = clock, timezone

    def examples(self) -> dict[str, str]:
        """The automatic example values (`bot.core.dates.examples`) at the clock's now."""
        return examples(self.clock(), self.timezone)

    def _template(self, lang: str, key: str, params: dict[str, object]) -> tuple[str, dict[str, object]]:
        catalog = self.catalogs.get(lang) or self.catalogs["de"]
        template = catalog.get(key) or self.catalogs["de"][key]
        if "{example_" in template:
            params = {**self.examples(), **params}
        return template, params

    def get(self, lang: str, key: str, **params: object) -> Html:
        template, values = self._template(lang, key, params)
        return Html(template.format(**{name: escape(value) for name, value in values.items()}))

    def plain(self, lang: str, key: str, **params: object) -> str:
        """A text for places without HTML: button labels, notices, the command menu."""
        template, values = self._template(lang, key, params)
        return template.format(**values)

    def placeholders(self, lang: str, key: str) -> set[str]:
        """The parameters a caller passes (the automatic example dates are not among them)."""
        names = {name for _, name, _, _ in string.Formatter().parse(self.catalogs[lang][key]) if name}
        return names - set(EXAMPLE_NAMES)


def plural(key: str, count: int) -> str:
    """The catalog key for `count` things: `<key>_one` for exactly one, else `<key>`
    (the one plural scheme of every catalog text; `{count}` in the text is the number)."""
    return f"{key}_one" if count == 1 else key


def _flatten(tree: dict[str, object], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for name, value in tree.items():
        key = f"{prefix}{name}"
        if isinstance(value, dict):
            flat.update(_flatten(value, key + "."))
        else:
            flat[key] = str(value)
    return flat
