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
"""

from __future__ import annotations

import html
import string
import tomllib
from pathlib import Path

LOCALES = Path(__file__).parent / "locales"
LANGUAGES = ("de", "en")


class Html(str):
    """A string that is already safe HTML and must not be escaped again."""


def escape(value: object) -> Html:
    """Escape anything for Telegram's HTML parse mode (idempotent for `Html`)."""
    if isinstance(value, Html):
        return value
    return Html(html.escape(str(value), quote=False))


class Texts:
    """The loaded catalogs of all languages."""

    def __init__(self, directory: Path = LOCALES) -> None:
        self.catalogs: dict[str, dict[str, str]] = {}
        for lang in LANGUAGES:
            catalog: dict[str, str] = {}
            for path in [directory / f"{lang}.toml", *sorted((directory / lang).glob("*.toml"))]:
                with open(path, "rb") as handle:
                    entries = _flatten(tomllib.load(handle))
                if twice := sorted(set(entries) & set(catalog)):
                    raise ValueError(f"{path}: keys defined twice: {', '.join(twice)}")
                catalog.update(entries)
            self.catalogs[lang] = catalog

    def get(self, lang: str, key: str, **params: object) -> Html:
        catalog = self.catalogs.get(lang) or self.catalogs["de"]
        template = catalog.get(key) or self.catalogs["de"][key]
        return Html(template.format(**{name: escape(value) for name, value in params.items()}))

    def plain(self, lang: str, key: str, **params: object) -> str:
        """A text for places without HTML: button labels, notices, the command menu."""
        catalog = self.catalogs.get(lang) or self.catalogs["de"]
        template = catalog.get(key) or self.catalogs["de"][key]
        return template.format(**params)

    def placeholders(self, lang: str, key: str) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(self.catalogs[lang][key]) if name}


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
