"""Signed links of e-mails (SPEC 15): what a link says, and whether it holds.

A link carries its meaning (confirm this address; this person answers this
session "Zusage"; this person's stance on this recommendation) and when it
expires, signed with a key derived from the bot's token (`itsdangerous`), so
a changed character makes it worthless and nothing about it needs storing.
Every process of one bot derives the same key; a new token voids old links.

- confirmation of an address: valid 24 hours from the request;
- an answer to a session: until the session starts;
- a stance: until the recommendation's deadline, 30 days without one.

Whether the answer may still be given is decided again when it is saved (the
core's `meetings.answer`, `recommendations.give_stance`): a link is never
more than a button pressed by e-mail.

The code in a confirmation mail (six digits, for people who would rather type
it into the chat) is derived the same way.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from itsdangerous import BadSignature, URLSafeSerializer

from bot.core.config import Settings

CONFIRM_VALID = timedelta(hours=24)
STANCE_VALID = timedelta(days=30)
"""A stance link without a deadline."""
CODE_TRIES = 3
"""Wrong codes after which the address must be given again."""
PATH = "m"
"""Links are `<PUBLIC_URL>/m/<token>`."""


@dataclass(frozen=True)
class Confirm:
    person_id: int
    address: str
    asked_at: datetime

    @property
    def expires(self) -> datetime:
        return self.asked_at + CONFIRM_VALID


@dataclass(frozen=True)
class Rsvp:
    person_id: int
    occurrence_id: int
    answer: str
    """A value of `RsvpAnswer`."""
    expires: datetime


@dataclass(frozen=True)
class Stance:
    person_id: int
    recommendation_id: int
    stance: str
    """A value of `StanceValue`."""
    expires: datetime


Link = Confirm | Rsvp | Stance


class BadLink(Exception):
    """A link that was changed, is not one of ours, or expired (`expired`)."""

    def __init__(self, expired: bool = False) -> None:
        super().__init__("expired" if expired else "invalid")
        self.expired = expired


def _key(settings: Settings) -> bytes:
    token = (settings.telegram_bot_token or "kimbot-without-token").encode()
    return hmac.new(token, b"kimbot e-mail links", hashlib.sha256).digest()


def _serializer(settings: Settings) -> URLSafeSerializer:
    return URLSafeSerializer(_key(settings), salt="kimbot-mail")


def _seconds(at: datetime) -> int:
    return int(at.timestamp())


def _at(seconds: object) -> datetime:
    if not isinstance(seconds, int):
        raise BadLink()
    return datetime.fromtimestamp(seconds, UTC)


def token(settings: Settings, link: Link) -> str:
    if isinstance(link, Confirm):
        data: list[object] = ["c", link.person_id, link.address, _seconds(link.asked_at)]
    elif isinstance(link, Rsvp):
        data = ["r", link.person_id, link.occurrence_id, link.answer, _seconds(link.expires)]
    else:
        data = ["s", link.person_id, link.recommendation_id, link.stance, _seconds(link.expires)]
    return str(_serializer(settings).dumps(data))


def url(settings: Settings, link: Link) -> str | None:
    """The link's address under `PUBLIC_URL` (None without it: the mail says to answer in the chat)."""
    if settings.public_url is None:
        return None
    return f"{settings.public_url}/{PATH}/{token(settings, link)}"


def read(settings: Settings, text: str, now: datetime) -> Link:
    """What a token says; `BadLink` when it was changed or has expired."""
    try:
        data = _serializer(settings).loads(text)
    except BadSignature:
        raise BadLink() from None
    link = _parse(data)
    expires = link.expires
    if now >= expires:
        raise BadLink(expired=True)
    return link


def _parse(data: object) -> Link:
    if not isinstance(data, list) or not data:
        raise BadLink()
    kind, *rest = data
    try:
        if kind == "c":
            person_id, address, asked = rest
            if isinstance(person_id, int) and isinstance(address, str):
                return Confirm(person_id, address, _at(asked))
        elif kind == "r":
            person_id, occurrence_id, answer, expires = rest
            if isinstance(person_id, int) and isinstance(occurrence_id, int) and isinstance(answer, str):
                return Rsvp(person_id, occurrence_id, answer, _at(expires))
        elif kind == "s":
            person_id, recommendation_id, stance, expires = rest
            if isinstance(person_id, int) and isinstance(recommendation_id, int) and isinstance(stance, str):
                return Stance(person_id, recommendation_id, stance, _at(expires))
    except ValueError:  # a wrong number of fields
        pass
    raise BadLink()


def code(settings: Settings, person_id: int, address: str, asked_at: datetime) -> str:
    """The six digits of a confirmation mail for this request."""
    message = f"code:{person_id}:{address.lower()}:{_seconds(asked_at)}".encode()
    digest = hmac.new(_key(settings), message, hashlib.sha256).digest()
    return f"{int.from_bytes(digest[:8], 'big') % 1_000_000:06d}"


def codes_match(settings: Settings, person_id: int, address: str, asked_at: datetime, typed: str) -> bool:
    return hmac.compare_digest(code(settings, person_id, address, asked_at), typed)
