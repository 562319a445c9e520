"""Profile: a registered person corrects their display name and organisation
(SPEC 3 `/profile`; SPEC 8, the right to rectification the privacy notice promises).

- `/profile` (alias `/profil`) shows what is stored, with buttons: change the
  name, change the organisation, and remove the organisation when one is
  stored. A change button asks for the new text (a guided step:
  `Step.PROFILE_NAME`, `Step.PROFILE_ORGANISATION`); a command ends it.
- One line acts at once: `/profile name <Name>`, `/profile organisation
  <Organisation>` (also `org`, `organization`); `/profile organisation -`
  (or `keine`, `none`) removes the organisation. The answer says old and new.
- The same rules as at registration: name and organisation cleaned, not
  empty, at most `NAME_MAX` / `ORGANISATION_MAX` characters.
- Only registered people have a profile; others are sent to `/start`.
- Not written to the audit log: the log records what the coordination does
  to groups, sessions and other people's rights (SPEC 2); a correction of
  one's own name is one's own data, and shows in `/mydata`.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core import steps
from bot.core.errors import Refusal
from bot.core.membership import require_registered
from bot.core.steps import Step
from bot.core.text import field_text
from storage.models import NAME_MAX, ORGANISATION_MAX, Person
from storage.uow import UnitOfWork

FIELDS = {"name": "name", "organisation": "organisation", "organization": "organisation", "org": "organisation"}
"""The first word of a one-line `/profile`, and the field it names."""
NONE_WORDS = frozenset({"-", "keine", "none"})
"""`/profile organisation -`: no organisation."""
STEPS = {"name": Step.PROFILE_NAME, "organisation": Step.PROFILE_ORGANISATION}
BUTTONS = ("name", "organisation", "no-organisation")
"""What a button under `/profile` may ask for (`ChangeProfile.field`)."""


@dataclass(frozen=True)
class Changed:
    """What a correction changed: `field` is `name` or `organisation`."""

    field: str
    old: str | None
    new: str | None


def show(person: Person) -> Person:
    """`/profile` alone: the person's profile (registered people only)."""
    require_registered(person)
    return person


async def command(uow: UnitOfWork, person: Person, text: str) -> Changed | None:
    """`/profile [name|organisation <text>]`; None when there is nothing to change
    (the guided form shows the profile)."""
    require_registered(person)
    words = text.split(maxsplit=1)
    if not words:
        return None
    field = FIELDS.get(words[0].casefold())
    if field is None or len(words) < 2:
        raise Refusal("profile.usage")
    return await change(uow, person, field, words[1])


async def button(uow: UnitOfWork, person: Person, choice: str) -> Changed | str:
    """A button under `/profile`: the field whose new text the bot now waits for,
    or, for `no-organisation`, what removing it changed."""
    require_registered(person)
    if choice not in BUTTONS:
        raise Refusal("buttons.stale")
    if choice == "no-organisation":
        if person.organisation is None:
            raise Refusal("profile.no_organisation")
        return await change(uow, person, "organisation", None)
    steps.ask(person, STEPS[choice])
    await uow.flush()
    return choice


async def submit(uow: UnitOfWork, person: Person, text: str) -> Changed:
    """The text after a change button: the new name or organisation."""
    step = steps.current(person)
    field = next((name for name, asked in STEPS.items() if asked is step), None)
    if field is None:
        raise Refusal("buttons.stale")
    return await change(uow, person, field, text)


async def change(uow: UnitOfWork, person: Person, field: str, text: str | None) -> Changed:
    """Set the name, or the organisation (None, `-`: none), and end the step."""
    require_registered(person)
    old: str | None
    new: str | None
    if field == "name":
        old, new = person.display_name, field_text(text or "", NAME_MAX, "registration.name")
        person.display_name = new
    else:
        old = person.organisation
        blank = text is None or text.strip().casefold() in NONE_WORDS
        new = None if blank else field_text(text or "", ORGANISATION_MAX, "registration.organisation")
        person.organisation = new
    if steps.current(person) in STEPS.values():
        steps.end(person)
    await uow.flush()
    return Changed(field, old, new)
