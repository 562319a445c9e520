"""Payloads of `/email` (SPEC 15): the choice of what comes by e-mail and
erasing the address. Encoded and decoded as every payload (`handlers.payloads`)."""

from __future__ import annotations

from dataclasses import dataclass

from handlers.payloads import Payload


@dataclass(frozen=True)
class ChooseMailMode(Payload, prefix="ml"):
    """ "Alles auch per E-Mail" (`all`) or "Nur wenn Telegram mich nicht erreicht" (`fallback`)."""

    mode: str


@dataclass(frozen=True)
class RemoveAddress(Payload, prefix="mr"):
    """ "Adresse löschen": `ask` (asks first), then `yes` (erase) or `no` (keep it)."""

    step: str
