"""Guided steps: the one question a person's next text answers.

When the bot asks a person for a text (their name, a session's details, an
agenda item's text, a comment …), it notes on their row which answer it waits
for (`Person.awaiting`, one of the `Step`s) and what that answer needs
(`Person.awaiting_data`, a small dict: the chosen group, the item …). The next
plain text the person sends is routed by the step. Kept on the row, a restart
of the bot, or a second bot process, continues the same conversation.

Every module reads and writes the step through this one: `ask` starts a step,
`current` and `recall` read it, `remember` replaces what it keeps, `end` ends
it. A command ends any step but registration's (`end_by_command`), and so
does a refusal raised `ending_step()` (see `bot.core.errors`).
"""

from __future__ import annotations

import enum

from storage.models import Person


class Step(enum.StrEnum):
    """What the bot waits for; the value is what `Person.awaiting` stores."""

    NAME = "name"
    """Registration: the display name."""
    ORGANISATION = "organisation"
    """Registration: the organisation (or the button to skip it)."""
    PROFILE_NAME = "profile_name"
    """/profile: the person's corrected display name."""
    PROFILE_ORGANISATION = "profile_organisation"
    """/profile: the person's corrected organisation."""
    MEETING = "meeting"
    """Guided /meeting: the draft of a new session (`group`: its id, `stage`: day, time,
    title, location or preview, and what was chosen so far; `bot.core.session_flows`)."""
    RESCHEDULE = "reschedule"
    """Guided /reschedule: a typed day or time for session `occurrence` (`stage`, `day`, `time`)."""
    CANCEL_REASON = "cancel_reason"
    """Guided /cancel: the reason for cancelling session `occurrence` (then `reason`)."""
    AGENDA_GROUP = "agenda_group"
    """The group of a new agenda item (`text`: the item's text, if already given)."""
    AGENDA_TEXT = "agenda_text"
    """A new agenda item's text (`group`: the group's id)."""
    AGENDA_EDIT = "agenda_edit"
    """The author's new text of agenda item `item`."""
    AGENDA_REASON = "agenda_reason"
    """A coordinator's reason for rejecting agenda item `item`."""
    REJECT_REASON = "reject_reason"
    """A coordinator's optional reason for rejecting join request `membership` (`reason`: the one typed)."""
    GROUP_NEW = "group_new"
    """Guided /addgroup: the new group's name (or slug and name)."""
    GROUP_RENAME = "group_rename"
    """Guided /renamegroup: the new name of group `group`."""
    RECOMMENDATION_TEXT = "recommendation_text"
    """Guided /recommend: the recommendation's text (`all`, `groups`: the targets)."""
    RECOMMENDATION_COMMENT = "recommendation_comment"
    """A comment on recommendation `recommendation`."""
    EMAIL_CODE = "email_code"
    """/email: the six-digit code from the confirmation mail (SPEC 15)."""
    RECOMMENDATION_OUTCOME = "recommendation_outcome"
    """The outcome note that closes recommendation `recommendation` with `result` (SPEC 14)."""
    REPORT_NOTE = "report_note"
    """The coordinator's note on group `group` for the report on half-year `year`-H`half`."""
    RECOMMENDATION_DEADLINE = "recommendation_deadline"
    """A new deadline for recommendation `recommendation` (`remind`: the silent are reminded at once)."""
    ANNOUNCEMENT_TEXT = "announcement_text"
    """Guided /announce: the text and an optional document (`all`, `groups`, `text`, `file_id`, `file_name`)."""
    ATTENDANCE_GUEST = "attendance_guest"
    """/attendance: a guest's "Name, Organisation" for session `occurrence`."""
    MINUTES_RESULT = "minutes_result"
    """/minutes: the result (with decisions and tasks) of item `item` of minutes `minutes`."""
    MINUTES_TITLE = "minutes_title"
    """/minutes: the title of a new item of minutes `minutes`."""
    MINUTES_CORRECTION = "minutes_correction"
    """A correction proposed to the draft minutes `minutes`."""
    TRACK_FIELD = "track_field"
    """/track: the text for `field` (responsible, due, review, reason) of recommendation
    `recommendation`; `guided`: the questions right after closing it as adopted."""


REGISTRATION = frozenset({Step.NAME, Step.ORGANISATION})
"""Registration's steps: a command does not end them."""


def ask(person: Person, step: Step, data: dict[str, object] | None = None, *, keep: bool = False) -> None:
    """From now on the person's next text answers `step`; `data` is what the
    answer needs (replacing what was kept), or, with `keep`, what was kept stays
    (registration keeps an invite through its steps)."""
    person.awaiting = step.value
    if not keep:
        person.awaiting_data = dict(data or {})


def remember(person: Person, data: dict[str, object]) -> None:
    """Replace what the current step keeps; the step itself stays."""
    person.awaiting_data = dict(data)


def current(person: Person) -> Step | None:
    """The step the person is in; None when the bot waits for no text."""
    try:
        return Step(person.awaiting) if person.awaiting is not None else None
    except ValueError:
        return None  # a name no longer in use: no step


def recall(person: Person, name: str, default: object = None) -> object:
    """One value the current step keeps (`default` when it keeps none of that name)."""
    return (person.awaiting_data or {}).get(name, default)


def recall_id(person: Person, name: str) -> int:
    """An id the current step keeps; 0 (no row has it) when there is none."""
    value = recall(person, name)
    return value if isinstance(value, int) else 0


def waiting(person: Person) -> bool:
    """Whether the row notes any step at all (registration's included)."""
    return person.awaiting is not None


def end(person: Person) -> None:
    """The bot waits for no text any more; what the step kept is dropped. Sets only
    what changes: a row set to what it holds still counts as changed, and the next
    flush would look at it."""
    if person.awaiting is not None:
        person.awaiting = None
    if person.awaiting_data is not None:
        person.awaiting_data = None


def end_by_command(person: Person) -> bool:
    """A command ends any guided step the person was in (a session's details, an
    item's text, a comment …), but not registration's. True if one ended."""
    if person.awaiting is None or person.awaiting in REGISTRATION:
        return False
    end(person)
    return True
