"""The coordinator's notes on the groups for a half-yearly report (SPEC 7).

Before generating the report for the committee, the coordination may add a
short note per group for that half-year ("Der AK hat sich neu aufgestellt
…"). The report prints it in the state of the groups, under "Anmerkungen
der Koordination", beside the figures.

Decisions written down here:

- A note belongs to one group and one half-year (`ReportNote`, unique per
  group and `period` `2026-H2`); saving again replaces it, so the
  coordinator can correct it until the report is handed over. It is plain
  text of 1 to `NOTE_MAX` characters, lines kept.
- The commands: `/report 2026-H2 note <group> <text>` saves at once (also
  `notiz`); `/report 2026-H2 note <group>` asks for the text; `/report
  2026-H2 note <group> -` deletes it; `/report 2026-H2 notes` lists the
  notes with a button per group; without the half-year (`/report note
  ak-eu …`) the current one is meant. The guided `/report` has a "Notizen"
  button beside each half-year (handlers.report).
- Only coordinators; the half-year must be one a report can be made for
  (`report_period.period`: begun, with data). A note may be written for a
  group archived during that half-year (the report still shows it), not for
  one archived before it: `groups.require_active` does not apply, since a
  note adds nothing to the group itself, only to the report about its past.
- Every save and deletion is in the audit log: `report_note.set`,
  `report_note.delete` (object: the group; detail: `period`, `name`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.core import audit, steps
from bot.core.config import Settings
from bot.core.errors import Refusal
from bot.core.groups import leading_group, resolve_group
from bot.core.people import require_coordinator
from bot.core.report import STEERING_SLUG
from bot.core.report_period import HalfYear, period
from bot.core.steps import Step
from bot.core.text import free_text
from storage.admin_models import ReportNote
from storage.models import Group, Person
from storage.uow import UnitOfWork

NOTE_MAX = 800
"""A short note: a paragraph in the report."""
DELETE = "-"
"""The text that deletes a note in the one-line form."""


@dataclass(frozen=True)
class GroupNote:
    group: Group
    text: str | None


@dataclass(frozen=True)
class Saved:
    group: Group
    text: str | None
    """The note now; None when it was deleted."""
    previous: str | None


async def _groups(uow: UnitOfWork, half: HalfYear, settings: Settings, now: datetime) -> Sequence[Group]:
    """The groups the report on `half` is about (refused as `period` refuses), in the
    report's order: the steering circle first."""
    span = await period(uow, half, settings, now)
    groups = await uow.reports.groups_in(span.start)
    return sorted(groups, key=lambda group: group.slug != STEERING_SLUG)


async def overview(
    uow: UnitOfWork, person: Person, settings: Settings, half: HalfYear, now: datetime
) -> list[GroupNote]:
    """Every group of the report with its note (None: none yet)."""
    require_coordinator(person, settings)
    groups = await _groups(uow, half, settings, now)
    notes = await uow.reports.notes(half.label)
    return [GroupNote(group, notes.get(group.id)) for group in groups]


async def find_group(
    uow: UnitOfWork, person: Person, settings: Settings, half: HalfYear, text: str, now: datetime
) -> GroupNote:
    """The group `text` names among the report's groups, with its note."""
    require_coordinator(person, settings)
    groups = await _groups(uow, half, settings, now)
    group = resolve_group(groups, text)
    note = await uow.reports.note(half.label, group.id)
    return GroupNote(group, note.text if note else None)


async def find_group_and_text(
    uow: UnitOfWork, person: Person, settings: Settings, half: HalfYear, text: str, now: datetime
) -> tuple[GroupNote, str]:
    """`ak-eu Der AK hat …`: the group the first words name (slug, name or a prefix),
    and the rest as the note's text (empty: the text is still to be asked for)."""
    require_coordinator(person, settings)
    groups = await _groups(uow, half, settings, now)
    found = leading_group(groups, text)
    if found is None:
        resolve_group(groups, text.split()[0] if text.split() else text)  # raises the refusal that says why
        raise Refusal("groups.unknown", text=text)
    group, rest, _ = found
    note = await uow.reports.note(half.label, group.id)
    return GroupNote(group, note.text if note else None), rest.strip()


async def group_by_id(
    uow: UnitOfWork, person: Person, settings: Settings, half: HalfYear, group_id: int, now: datetime
) -> GroupNote:
    """A group from a button (checked again: the data may be forged)."""
    require_coordinator(person, settings)
    groups = await _groups(uow, half, settings, now)
    group = next((g for g in groups if g.id == group_id), None)
    if group is None:
        raise Refusal("report.note_no_group")
    note = await uow.reports.note(half.label, group.id)
    return GroupNote(group, note.text if note else None)


async def save(
    uow: UnitOfWork, person: Person, settings: Settings, half: HalfYear, group: Group, text: str, now: datetime
) -> Saved:
    """Save (or replace) the note; `DELETE` as the whole text deletes it."""
    require_coordinator(person, settings)
    if text.strip() == DELETE:
        return await delete(uow, person, settings, half, group, now)
    value = free_text(text, NOTE_MAX, "report.note")
    note = await uow.reports.note(half.label, group.id)
    previous = note.text if note else None
    if note is None:
        uow.reports.add(
            ReportNote(group_id=group.id, period=half.label, text=value, updated_at=now, updated_by_id=person.id)
        )
    else:
        note.text, note.updated_at, note.updated_by_id = value, now, person.id
    audit.record(uow, person, "report_note.set", "group", group.id, now, period=half.label, name=group.name)
    await uow.reports.flush()
    return Saved(group, value, previous)


async def delete(
    uow: UnitOfWork, person: Person, settings: Settings, half: HalfYear, group: Group, now: datetime
) -> Saved:
    """Delete the note (refused when there is none)."""
    require_coordinator(person, settings)
    note = await uow.reports.note(half.label, group.id)
    if note is None:
        raise Refusal("report.note_none", name=group.name, half=half.label)
    previous = note.text
    await uow.reports.delete_note(note)
    if steps.current(person) == Step.REPORT_NOTE:
        steps.end(person)  # "Notiz löschen" under the question answers it
    audit.record(uow, person, "report_note.delete", "group", group.id, now, period=half.label, name=group.name)
    return Saved(group, None, previous)


def ask_text(person: Person, settings: Settings, half: HalfYear, group: Group) -> None:
    """The person's next text is the note on `group` for `half` (a guided step)."""
    require_coordinator(person, settings)
    steps.ask(person, Step.REPORT_NOTE, {"year": half.year, "half": half.half, "group": group.id})


async def answered(
    uow: UnitOfWork, person: Person, settings: Settings, text: str, now: datetime
) -> tuple[HalfYear, Saved]:
    """The text of a guided note: saved, the step ended. An empty or too long text
    is refused and the step stays, so the coordinator can simply write again."""
    require_coordinator(person, settings)
    year, number = steps.recall(person, "year"), steps.recall(person, "half")
    try:
        half = HalfYear.of(year if isinstance(year, int) else 0, number if isinstance(number, int) else 0)
        found = await group_by_id(uow, person, settings, half, steps.recall_id(person, "group"), now)
    except Refusal as refusal:
        raise refusal.ending_step() from None  # the group is gone: asking again would not help
    saved = await save(uow, person, settings, half, found.group, text, now)
    steps.end(person)
    return half, saved
