"""What is stored about one person, and erasing it (SPEC 8): `/mydata` and `/forget`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.admin_models import AuditEntry
from storage.followup_models import Attendance, Deputy, Minutes, MinutesCorrection, Task
from storage.mail_models import EmailAddress, Mail
from storage.models import (
    AgendaItem,
    Comment,
    Delivery,
    DeliveryStatus,
    Group,
    Meeting,
    Membership,
    Occurrence,
    Person,
    Rsvp,
    Stance,
)


def _at(value: datetime | None) -> datetime | None:
    """Times stay datetimes here: the JSON file writes them in ISO 8601 with the
    offset of `TIMEZONE`, the readable document in local German style."""
    return value


class PrivacyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def export(self, person: Person) -> dict[str, Any]:
        """Every row about `person`, as plain data (lists and dicts; times as aware datetimes)."""
        pid = person.id
        memberships = await self.session.execute(
            select(
                Group.name,
                Membership.status,
                Membership.requested_at,
                Membership.decided_at,
                Membership.left_at,
            )
            .join(Group, Group.id == Membership.group_id)
            .where(Membership.person_id == pid)
            .order_by(Membership.requested_at)
        )
        rsvps = await self.session.execute(
            select(
                Occurrence.id,
                Group.name,
                Meeting.title,
                Occurrence.starts_at,
                Rsvp.answer,
                Rsvp.answered_at,
            )
            .join(Occurrence, Occurrence.id == Rsvp.occurrence_id)
            .join(Meeting, Meeting.id == Occurrence.meeting_id)
            .join(Group, Group.id == Meeting.group_id)
            .where(Rsvp.person_id == pid)
            .order_by(Occurrence.starts_at)
        )
        items = await self.session.execute(
            select(AgendaItem.id, Group.name, AgendaItem.text, AgendaItem.status, AgendaItem.created_at)
            .join(Group, Group.id == AgendaItem.group_id)
            .where(AgendaItem.author_id == pid)
            .order_by(AgendaItem.created_at)
        )
        stances = await self.session.execute(
            select(Stance.recommendation_id, Stance.value, Stance.answered_at)
            .where(Stance.person_id == pid)
            .order_by(Stance.answered_at)
        )
        comments = await self.session.execute(
            select(Comment.recommendation_id, Comment.text, Comment.created_at)
            .where(Comment.person_id == pid)
            .order_by(Comment.created_at)
        )
        deliveries = await self.session.execute(
            select(Delivery.kind, Delivery.status, Delivery.due_at, Delivery.sent_at)
            .where(Delivery.person_id == pid)
            .order_by(Delivery.due_at, Delivery.id)
        )
        followup = await self._export_followup(pid)
        email = await self._export_email(pid)
        return {
            "person": {
                "telegram_id": person.telegram_id,
                "username": person.username,
                "display_name": person.display_name,
                "organisation": person.organisation,
                "language": person.language,
                "coordinator": person.is_coordinator,
                "privacy_acknowledged_at": _at(person.privacy_acknowledged_at),
                "registered_at": _at(person.registered_at),
                "unreachable_since": _at(person.unreachable_since),
                "first_contact_at": _at(person.created_at),
            },
            "memberships": [
                {
                    "group": g,
                    "status": str(s),
                    "requested_at": _at(r),
                    "decided_at": _at(d),
                    "left_at": _at(left),
                }
                for g, s, r, d, left in memberships.all()
            ],
            "rsvps": [
                {
                    "session": i,
                    "group": g,
                    "title": t,
                    "starts_at": _at(at),
                    "answer": str(a),
                    "answered_at": _at(when),
                }
                for i, g, t, at, a, when in rsvps.all()
            ],
            "agenda_items": [
                {"id": i, "group": g, "text": t, "status": str(s), "created_at": _at(at)}
                for i, g, t, s, at in items.all()
            ],
            "stances": [{"recommendation": r, "stance": str(v), "answered_at": _at(at)} for r, v, at in stances.all()],
            "comments": [{"recommendation": r, "text": t, "created_at": _at(at)} for r, t, at in comments.all()],
            **followup,
            **email,
            "messages_from_the_bot": [
                {"kind": str(k), "status": str(s), "due_at": _at(due), "sent_at": _at(sent)}
                for k, s, due, sent in deliveries.all()
            ],
        }

    async def _export_email(self, pid: int) -> dict[str, Any]:
        """SPEC 15: the e-mail address (confirmed, pending, the choice, a bounce) and the mails."""
        entry = await self.session.get(EmailAddress, pid)
        mails = await self.session.execute(
            select(Mail.purpose, Mail.address, Mail.status, Mail.created_at, Mail.sent_at)
            .where(Mail.person_id == pid)
            .order_by(Mail.created_at, Mail.id)
        )
        return {
            "email": None
            if entry is None
            else {
                "address": entry.address,
                "confirmed_at": _at(entry.confirmed_at),
                "mode": str(entry.mode),
                "bounced_at": _at(entry.bounced_at),
                "pending_address": entry.pending_address,
                "pending_since": _at(entry.pending_since),
            },
            "mails_from_the_bot": [
                {"purpose": str(p), "address": a, "status": str(s), "created_at": _at(c), "sent_at": _at(sent)}
                for p, a, s, c, sent in mails.all()
            ],
        }

    async def _export_followup(self, pid: int) -> dict[str, Any]:
        """What follows a session (SPEC 13): attendance (their own, and where they
        stood in for a member), corrections they proposed, tasks they own, and
        their deputyships as member and as deputy."""
        member, deputy = aliased(Person), aliased(Person)
        attendance = await self.session.execute(
            select(
                Occurrence.id,
                Group.name,
                Meeting.title,
                Occurrence.starts_at,
                Attendance.person_id,
                Attendance.status,
                Attendance.checked_in_at,
                Attendance.organisation,
                member.display_name,
                deputy.display_name,
            )
            .join(Occurrence, Occurrence.id == Attendance.occurrence_id)
            .join(Meeting, Meeting.id == Occurrence.meeting_id)
            .join(Group, Group.id == Meeting.group_id)
            .outerjoin(member, member.id == Attendance.person_id)
            .outerjoin(deputy, deputy.id == Attendance.deputy_id)
            .where(or_(Attendance.person_id == pid, Attendance.deputy_id == pid))
            .order_by(Occurrence.starts_at, Attendance.id)
        )
        corrections = await self.session.execute(
            select(Occurrence.id, Group.name, Meeting.title, MinutesCorrection.text, MinutesCorrection.created_at)
            .join(Minutes, Minutes.id == MinutesCorrection.minutes_id)
            .join(Occurrence, Occurrence.id == Minutes.occurrence_id)
            .join(Meeting, Meeting.id == Occurrence.meeting_id)
            .join(Group, Group.id == Meeting.group_id)
            .where(MinutesCorrection.person_id == pid)
            .order_by(MinutesCorrection.created_at, MinutesCorrection.id)
        )
        tasks = await self.session.execute(
            select(Task.id, Group.name, Task.occurrence_id, Task.text, Task.due_on, Task.status, Task.done_at)
            .join(Group, Group.id == Task.group_id)
            .where(Task.owner_id == pid)
            .order_by(Task.due_on, Task.id)
        )
        deputyships = await self.session.execute(
            select(
                Deputy.member_id,
                member.display_name,
                deputy.display_name,
                Deputy.until,
                Deputy.created_at,
                Deputy.accepted_at,
                Deputy.ended_at,
            )
            .join(member, member.id == Deputy.member_id)
            .join(deputy, deputy.id == Deputy.deputy_id)
            .where(or_(Deputy.member_id == pid, Deputy.deputy_id == pid))
            .order_by(Deputy.created_at, Deputy.id)
        )
        return {
            "attendance": [
                {
                    "session": i,
                    "group": g,
                    "title": t,
                    "starts_at": _at(at),
                    "status": str(status),
                    "checked_in_at": _at(checked),
                    "as": "member" if person_id == pid else "deputy",
                    "organisation": organisation if person_id == pid else None,
                    "as_deputy_for": member_name if person_id != pid else None,
                    "represented_by": deputy_name if person_id == pid else None,
                }
                for i, g, t, at, person_id, status, checked, organisation, member_name, deputy_name in attendance.all()
            ],
            "minutes_corrections": [
                {"session": i, "group": g, "title": t, "text": text, "created_at": _at(at)}
                for i, g, t, text, at in corrections.all()
            ],
            "tasks": [
                {
                    "id": i,
                    "group": g,
                    "session": o,
                    "text": text,
                    "due_on": due,
                    "status": str(status),
                    "done_at": _at(done),
                }
                for i, g, o, text, due, status, done in tasks.all()
            ],
            "deputyships": [
                {
                    "role": "member" if member_id == pid else "deputy",
                    "member": member_name,
                    "deputy": deputy_name,
                    "until": until,
                    "asked_at": _at(asked),
                    "accepted_at": _at(accepted),
                    "ended_at": _at(ended),
                }
                for member_id, member_name, deputy_name, until, asked, accepted, ended in deputyships.all()
            ],
        }

    async def erase(self, person: Person, former: str) -> None:
        """Erase the person's data; keep an empty row so counts of the past stay right.

        Name, username, organisation, language, Telegram id and any half-typed
        input go; memberships are deleted; agenda items, stances and comments
        lose their author (they show as "ehemaliges Mitglied"); messages still
        owed to the person are skipped. RSVPs and sent delivery records stay
        with the empty row: they name nobody. The audit log keeps what was
        done, not who it was done to: the person's name, username,
        organisation and Telegram id in its details become `former`; their
        own entries lose their actor. What follows a session: `_erase_followup`.
        """
        pid = person.id
        await self._anonymise_audit(person, former)
        await self.session.execute(delete(Membership).where(Membership.person_id == pid))
        await self.session.execute(update(AgendaItem).where(AgendaItem.author_id == pid).values(author_id=None))
        await self.session.execute(update(Stance).where(Stance.person_id == pid).values(person_id=None))
        await self.session.execute(update(Comment).where(Comment.person_id == pid).values(person_id=None))
        await self._erase_followup(pid)
        await self.session.execute(delete(Mail).where(Mail.person_id == pid))  # the address is in each (SPEC 15)
        await self.session.execute(
            update(Delivery)
            .where(Delivery.person_id == pid, Delivery.status == DeliveryStatus.PENDING)
            .values(status=DeliveryStatus.SKIPPED, error="person forgotten")
        )
        person.telegram_id = None
        person.username = None
        person.display_name = None
        person.organisation = None
        person.language = None
        person.is_coordinator = False
        person.privacy_acknowledged_at = None
        person.registered_at = None
        person.unreachable_since = None
        person.awaiting = None
        person.awaiting_data = None

    async def _erase_followup(self, pid: int) -> None:
        """SPEC 13. Attendance is evidence for the funding report: the person's rows
        stay without them (the organisation copied into the row stays, so they
        show as "ehemaliges Mitglied" of it), and where they stood in for a
        member the row loses only the deputy. Their corrections and the tasks
        they own stay without them; their deputyships (either side) are deleted,
        and copies of their messages still owed to their deputy are skipped.
        What they did as coordination (recorded attendance, wrote or approved
        minutes) keeps pointing to the empty row, which names nobody: attendance
        taken stays taken."""
        await self.session.execute(update(Attendance).where(Attendance.person_id == pid).values(person_id=None))
        await self.session.execute(update(Attendance).where(Attendance.deputy_id == pid).values(deputy_id=None))
        await self.session.execute(
            update(MinutesCorrection).where(MinutesCorrection.person_id == pid).values(person_id=None)
        )
        await self.session.execute(update(Task).where(Task.owner_id == pid).values(owner_id=None))
        await self.session.execute(delete(Deputy).where(or_(Deputy.member_id == pid, Deputy.deputy_id == pid)))
        theirs = select(Delivery.id).where(Delivery.person_id == pid)
        await self.session.execute(
            update(Delivery)
            .where(Delivery.copy_of_id.in_(theirs), Delivery.status == DeliveryStatus.PENDING)
            .values(status=DeliveryStatus.SKIPPED, error="person forgotten")
        )

    async def _anonymise_audit(self, person: Person, former: str) -> None:
        traces = [
            trace
            for trace in (
                person.display_name,
                f"@{person.username}" if person.username else None,
                person.username,
                person.organisation,
                str(person.telegram_id) if person.telegram_id is not None else None,
            )
            if trace
        ]
        await self.session.execute(update(AuditEntry).where(AuditEntry.actor_id == person.id).values(actor_id=None))
        if not traces:
            return
        entries = await self.session.execute(select(AuditEntry).where(AuditEntry.detail.is_not(None)))
        for entry in entries.scalars():
            detail = dict(entry.detail or {})
            changed = False
            for key, value in detail.items():
                text = str(value) if isinstance(value, str | int) and not isinstance(value, bool) else None
                if text is None or not any(trace in text for trace in traces):
                    continue
                for trace in traces:
                    text = text.replace(trace, former)
                detail[key], changed = text, True
            if changed:
                entry.detail = detail  # a new dict: the JSON column sees the change
