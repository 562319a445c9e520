"""What one mail row says: a delivery record rendered by its feature's renderer
and turned into a mail (`bot.mail.compose`), or the confirmation of an address.

A record's buttons that can work from a mailbox become signed links
(`bot.core.mail_links`): Zusage / Absage / Vielleicht while the session has
not started, the stances while the recommendation is open. The calendar
button becomes the attached `.ics`; a document is attached as it is.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.core import mail_links, meetings, people
from bot.core.dates import format_when
from bot.core.errors import Refusal
from bot.core.reminders import due_of
from bot.mail.compose import Attachment, Body, Button, compose
from bot.render.ics import session_file
from handlers import payloads as p
from handlers.common import Runtime
from handlers.outbox import Batch, Document, Message, Renderer
from storage.mail_models import Mail, MailPurpose
from storage.models import DeliveryKind, OccurrenceStatus, Person, RecommendationStatus
from storage.uow import UnitOfWork

FetchFile = Callable[[str], Awaitable[bytes]]
"""Downloads a file Telegram has (a document the coordination attached)."""


class Skip(Exception):
    """The mail is no longer owed (the address was withdrawn, replaced or forgotten)."""


async def letter(
    runtime: Runtime,
    uow: UnitOfWork,
    batch: Batch,
    mail: Mail,
    renderers: Mapping[DeliveryKind, Renderer],
    fetch_file: FetchFile | None,
) -> object:
    """The `EmailMessage` of one mail row; `Skip` when it is not owed any more."""
    settings = runtime.settings
    assert settings.mail_from is not None
    person = await uow.people.get(mail.person_id)
    entry = await uow.mail.address_of(mail.person_id)
    if person is None or person.telegram_id is None or entry is None:
        raise Skip("address withdrawn")
    lang = people.language_of(person, None, settings)
    texts = runtime.texts
    if mail.purpose is MailPurpose.CONFIRM:
        if entry.pending_address != mail.address or entry.pending_since is None:
            raise Skip("confirmation replaced")
        confirm = mail_links.Confirm(person.id, mail.address, entry.pending_since)
        link = mail_links.url(settings, confirm)
        code = mail_links.code(settings, person.id, mail.address, entry.pending_since)
        key = "mail.confirm_body" if link else "mail.confirm_body_code"
        text = texts.get(lang, key, address=mail.address, link=link or "", code=code)
        return compose(
            [Body(text)],
            sender=settings.mail_from,
            to=mail.address,
            mail_id=mail.id,
            lang=lang,
            footer=texts.plain(lang, "mail.confirm_footer"),
            subject=texts.plain(lang, "mail.confirm_subject"),
        )
    if entry.usable != mail.address or mail.delivery_id is None:
        raise Skip("address withdrawn")
    row = await uow.deliveries.get(mail.delivery_id)
    if row is None:
        raise Skip("record gone")
    parts = await renderers[row.kind](runtime, uow, due_of(row, person.telegram_id), lang, batch)
    bodies: list[Body] = []
    attachments: list[Attachment] = []
    chat_only = False
    now = runtime.clock()
    for part in parts:
        if isinstance(part, Document):
            data = part.data
            if part.file_id is not None:
                if fetch_file is None:
                    chat_only = True
                    continue
                data = await fetch_file(part.file_id)
            mime = mimetypes.guess_type(part.filename)[0] or "application/octet-stream"
            attachments.append(Attachment(data, part.filename, mime))
            if part.caption:
                bodies.append(Body(part.caption))
            continue
        assert isinstance(part, Message)
        rows: list[tuple[Button, ...]] = []
        for row_buttons in part.rows:
            links: list[Button] = []
            for label, payload in row_buttons:
                made = await _link(runtime, uow, person, payload, label, now, attachments)
                if made is None:
                    chat_only = True
                elif isinstance(made, Button):
                    links.append(made)
            if links:
                rows.append(tuple(links))
        bodies.append(Body(part.text, tuple(rows)))
    footer = texts.plain(lang, "mail.footer")
    if chat_only or settings.public_url is None:
        footer = texts.plain(lang, "mail.chat_only") + "\n" + footer
    return compose(
        bodies,
        sender=settings.mail_from,
        to=mail.address,
        mail_id=mail.id,
        lang=lang,
        footer=footer,
        attachments=attachments,
        subject=await _session_subject(runtime, uow, row.kind, row.occurrence_id, lang),
    )


SUBJECTS = {
    DeliveryKind.INVITATION: "mail.subject_invitation",
    DeliveryKind.REMINDER: "mail.subject_reminder",
    DeliveryKind.MOVED: "mail.subject_moved",
    DeliveryKind.CANCELLED: "mail.subject_cancelled",
}
"""A message about a session is named by the session in the subject (a mailbox lists
subjects); any other takes its first line (`bot.mail.compose.subject_of`)."""


async def _session_subject(
    runtime: Runtime, uow: UnitOfWork, kind: DeliveryKind, occurrence_id: int | None, lang: str
) -> str | None:
    key = SUBJECTS.get(kind)
    if key is None or occurrence_id is None:
        return None
    occurrence = await uow.meetings.occurrence(occurrence_id)
    if occurrence is None:
        return None
    meeting = occurrence.meeting
    when = format_when(occurrence.starts_at, ZoneInfo(meeting.timezone), lang)
    return runtime.texts.plain(lang, key, title=meeting.title, group=meeting.group.name, when=when)


async def _link(
    runtime: Runtime,
    uow: UnitOfWork,
    person: Person,
    payload: p.Payload,
    label: str,
    now: datetime,
    attachments: list[Attachment],
) -> Button | bool | None:
    """A button as a link (`Button`), as an attachment (True), or only in the chat (None)."""
    settings = runtime.settings
    if isinstance(payload, (p.Answer, p.CardAnswer)):
        occurrence = await uow.meetings.occurrence(payload.occurrence_id)
        if occurrence is None or occurrence.status is OccurrenceStatus.CANCELLED or occurrence.starts_at <= now:
            return False
        url = mail_links.url(settings, mail_links.Rsvp(person.id, occurrence.id, payload.answer, occurrence.starts_at))
        return Button(label, url) if url else None
    if isinstance(payload, p.GiveStance):
        recommendation = await uow.recommendations.get(payload.recommendation_id)
        if recommendation is None or recommendation.status is not RecommendationStatus.OPEN:
            return False
        expires = recommendation.deadline or now + mail_links.STANCE_VALID
        if expires <= now:
            return False
        url = mail_links.url(settings, mail_links.Stance(person.id, recommendation.id, payload.stance, expires))
        return Button(label, url) if url else None
    if isinstance(payload, p.CalendarFile):
        try:
            entry = await meetings.calendar_entry(uow, person, payload.occurrence_id, settings)
        except Refusal:
            return False
        data, name = session_file(entry)
        if not any(a.filename == name for a in attachments):
            attachments.append(Attachment(data, name, "text/calendar"))
        return True
    return None
