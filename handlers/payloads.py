"""Payloads: the typed callback data behind every inline button.

Each button's data is one small frozen dataclass with a short prefix,
encoded as `prefix:field:field` (at most 64 bytes, Telegram's limit) and
decoded strictly: unknown prefixes, wrong field counts or malformed values
give `None`. A decoded payload only says what the person pressed; whether
they may do it is decided by the core from the database.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import ClassVar, get_type_hints

MAX_BYTES = 64
_TOKEN = re.compile(r"[a-z0-9-]{1,32}")
_INT = re.compile(r"0|[1-9][0-9]{0,17}")


@dataclass(frozen=True)
class Payload:
    prefix: ClassVar[str]
    registry: ClassVar[dict[str, type[Payload]]] = {}

    def __init_subclass__(cls, prefix: str, **kwargs: object) -> None:
        super().__init_subclass__()
        if prefix in Payload.registry:
            raise ValueError(f"callback prefix {prefix!r} used twice")
        cls.prefix = prefix
        Payload.registry[prefix] = cls

    def encode(self) -> str:
        parts = [self.prefix]
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            parts.append(str(int(value)) if isinstance(value, bool) else str(value))
        data = ":".join(parts)
        if len(data.encode()) > MAX_BYTES:
            raise ValueError(f"callback data too long: {data!r}")
        return data

    @staticmethod
    def decode(data: str | None) -> Payload | None:
        if not data or len(data.encode()) > MAX_BYTES:
            return None
        prefix, *values = data.split(":")
        cls = Payload.registry.get(prefix)
        if cls is None:
            return None
        fields = _fields(cls)
        if len(values) != len(fields):
            return None
        converted: dict[str, object] = {}
        for (name, kind), raw in zip(fields, values, strict=True):
            if kind is bool and raw in ("0", "1"):
                converted[name] = raw == "1"
            elif kind is int and _INT.fullmatch(raw):
                converted[name] = int(raw)
            elif kind is str and _TOKEN.fullmatch(raw):
                converted[name] = raw
            else:
                return None
        return cls(**converted)


_FIELDS: dict[str, tuple[tuple[str, type], ...]] = {}


def _fields(cls: type[Payload]) -> tuple[tuple[str, type], ...]:
    """A payload's fields with their types, in order; worked out once per class
    (resolving the annotations costs more than the rest of a press's decoding)."""
    found = _FIELDS.get(cls.prefix)
    if found is None:
        hints = get_type_hints(cls)
        found = _FIELDS[cls.prefix] = tuple((f.name, hints[f.name]) for f in dataclasses.fields(cls))
    return found


@dataclass(frozen=True)
class AcknowledgePrivacy(Payload, prefix="pv"):
    pass


@dataclass(frozen=True)
class UseTelegramName(Payload, prefix="nm"):
    pass


@dataclass(frozen=True)
class ConfirmForget(Payload, prefix="fg"):
    """/forget: yes (erase) or no (keep everything)."""

    erase: bool


@dataclass(frozen=True)
class SkipOrganisation(Payload, prefix="os"):
    pass


@dataclass(frozen=True)
class ChangeProfile(Payload, prefix="pf"):
    """/profile: `name`, `organisation` (asks for the new text) or `no-organisation`."""

    field: str


@dataclass(frozen=True)
class JoinGroup(Payload, prefix="jn"):
    group_id: int


@dataclass(frozen=True)
class LeaveGroup(Payload, prefix="lv"):
    group_id: int


@dataclass(frozen=True)
class DecideRequest(Payload, prefix="dr"):
    membership_id: int
    approve: bool


@dataclass(frozen=True)
class RejectRequest(Payload, prefix="rj"):
    """After "Ablehnen" on a join request: `skip` (no reason), `yes` (reject now), `no` (keep it open)."""

    membership_id: int
    action: str


# --- administration (handlers.administration) ---


@dataclass(frozen=True)
class AdminGroup(Payload, prefix="gx"):
    """A group chosen in the guided /renamegroup, /archivegroup or /remove (`action`)."""

    group_id: int
    action: str


@dataclass(frozen=True)
class ConfirmArchive(Payload, prefix="ga"):
    """/archivegroup's confirmation: yes (archive) or no (keep the group)."""

    group_id: int
    archive: bool


@dataclass(frozen=True)
class RemoveMember(Payload, prefix="mx"):
    """The guided /remove: `ask` (a member chosen), `yes` (remove), `no` (keep)."""

    membership_id: int
    action: str


@dataclass(frozen=True)
class SetCoordinator(Payload, prefix="pc"):
    """The guided /promote (promote) and /demote (not promote): the person chosen."""

    person_id: int
    promote: bool


@dataclass(frozen=True)
class MenuCommand(Payload, prefix="mu"):
    """A button of the menu for unexpected text (handlers.general): run `/<command>`
    as if typed without arguments."""

    command: str


@dataclass(frozen=True)
class ChooseLanguage(Payload, prefix="lg"):
    language: str


@dataclass(frozen=True)
class InviteToGroup(Payload, prefix="iv"):
    group_id: int


@dataclass(frozen=True)
class Answer(Payload, prefix="rs"):
    occurrence_id: int
    answer: str


@dataclass(frozen=True)
class CalendarFile(Payload, prefix="ic"):
    occurrence_id: int


@dataclass(frozen=True)
class OpenSession(Payload, prefix="so"):
    """A session in the /meetings list: show its card."""

    occurrence_id: int


@dataclass(frozen=True)
class CardAnswer(Payload, prefix="ra"):
    """Zusage / Absage / Vielleicht on a session's card from /meetings (the card is redrawn)."""

    occurrence_id: int
    answer: str


@dataclass(frozen=True)
class MeetingForGroup(Payload, prefix="mg"):
    group_id: int


# --- the coordinator's sessions (handlers.sessions) ---


@dataclass(frozen=True)
class MeetingDay(Payload, prefix="md"):
    """A day for a new session of the group (`day`: `20261210`)."""

    group_id: int
    day: int


@dataclass(frozen=True)
class MeetingTime(Payload, prefix="mt"):
    """A time for a new session (`time`: `1430`)."""

    group_id: int
    day: int
    time: int


@dataclass(frozen=True)
class MeetingNoPlace(Payload, prefix="mn"):
    """ "Ohne Ort" in the guided /meeting: on to the preview."""


@dataclass(frozen=True)
class SendMeeting(Payload, prefix="ms"):
    """ "Senden" under the preview of a new session."""


@dataclass(frozen=True)
class DropSessionDraft(Payload, prefix="sa"):
    """ "Abbrechen" under a session's draft, move or cancellation: nothing changes."""


@dataclass(frozen=True)
class MoveSession(Payload, prefix="vs"):
    """A session chosen in /reschedule."""

    occurrence_id: int


@dataclass(frozen=True)
class MoveDay(Payload, prefix="vd"):
    occurrence_id: int
    day: int


@dataclass(frozen=True)
class MoveTime(Payload, prefix="vt"):
    occurrence_id: int
    day: int
    time: int


@dataclass(frozen=True)
class ConfirmMove(Payload, prefix="vc"):
    """ "Verschieben": move the session to this day and time."""

    occurrence_id: int
    day: int
    time: int


@dataclass(frozen=True)
class CancelSession(Payload, prefix="xs"):
    """A session chosen in /cancel: the reason is asked next."""

    occurrence_id: int


@dataclass(frozen=True)
class CancelNoReason(Payload, prefix="xn"):
    """ "Ohne Grund" when cancelling a session."""

    occurrence_id: int


@dataclass(frozen=True)
class ConfirmCancel(Payload, prefix="xc"):
    """ "Ja, absagen"; `reason`: with the reason the coordinator typed (kept by the step)."""

    occurrence_id: int
    reason: bool


# --- agenda items (handlers.agenda) ---


@dataclass(frozen=True)
class ProposeItem(Payload, prefix="ap"):
    """ "Thema vorschlagen" under an agenda; group 0: the person chooses."""

    group_id: int


@dataclass(frozen=True)
class ItemForGroup(Payload, prefix="ag"):
    """The group for an item whose text the bot holds (or will ask for)."""

    group_id: int


@dataclass(frozen=True)
class OpenItem(Payload, prefix="ai"):
    item_id: int


@dataclass(frozen=True)
class ItemAction(Payload, prefix="ia"):
    """edit, withdraw (author); accept, reject, defer, up, down (coordination).
    The card's defer button names the session it was shown for (`defer-12`), so a
    second press of it defers no further."""

    item_id: int
    action: str


# --- recommendations (handlers.recommendations) ---


@dataclass(frozen=True)
class RecommendTo(Payload, prefix="rt"):
    """The target of a new recommendation in the guided /recommend; group 0: all groups."""

    group_id: int


@dataclass(frozen=True)
class GiveStance(Payload, prefix="st"):
    """Zustimmung / Bedenken / Ablehnung: agree, concerns, reject."""

    recommendation_id: int
    stance: str


@dataclass(frozen=True)
class WriteComment(Payload, prefix="cm"):
    recommendation_id: int


@dataclass(frozen=True)
class OpenRecommendation(Payload, prefix="ro"):
    recommendation_id: int


@dataclass(frozen=True)
class CloseRecommendation(Payload, prefix="rc"):
    recommendation_id: int


@dataclass(frozen=True)
class RecommendationPreview(Payload, prefix="rv"):
    """Under the preview of a guided /recommend: `send` or `cancel` what the coordinator
    prepared; `version`: which preview (an older one, replaced by a new text, sends nothing)."""

    action: str
    version: int


@dataclass(frozen=True)
class AfterDeadline(Payload, prefix="rd"):
    """Under the message after a deadline: `remind` (the silent, with a new deadline) or `extend`."""

    recommendation_id: int
    action: str


@dataclass(frozen=True)
class NewDeadline(Payload, prefix="rn"):
    """A new deadline `days` days from today (end of that day); `remind`: remind the silent at once."""

    recommendation_id: int
    days: int
    remind: bool


# --- announcements (handlers.announcements) ---


@dataclass(frozen=True)
class AnnounceTo(Payload, prefix="an"):
    """The target of a guided /announce; group 0: all groups."""

    group_id: int


@dataclass(frozen=True)
class AnnouncementPreview(Payload, prefix="av"):
    """Under the preview of a guided /announce: `send` or `cancel`; `version`: which preview."""

    action: str
    version: int


# --- digests and reports (handlers.digest, handlers.report) ---


@dataclass(frozen=True)
class ReportFor(Payload, prefix="rp"):
    """The half-year chosen in the guided /report: `half` 1 or 2."""

    year: int
    half: int


@dataclass(frozen=True)
class ReportNotes(Payload, prefix="bn"):
    """The notes on the groups for a half-year's report (handlers.report)."""

    year: int
    half: int


@dataclass(frozen=True)
class ReportNoteFor(Payload, prefix="bg"):
    """Write the note on group `group_id` for a half-year's report."""

    year: int
    half: int
    group_id: int


@dataclass(frozen=True)
class ReportNoteDelete(Payload, prefix="bx"):
    """Delete the note on group `group_id` for a half-year's report."""

    year: int
    half: int
    group_id: int
