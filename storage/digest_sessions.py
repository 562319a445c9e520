"""The digest's queries about sessions and agenda items: sessions held and coming,
their Zusagen and agendas, sessions with nothing on their agenda or with few
Zusagen, and the items proposed in a period (no commits).

What is "on an agenda" is `storage.agenda_repository.item_is_open`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, func, or_, select

from storage.agenda_repository import item_is_open
from storage.digest_rows import ItemRow, SessionRow, aware, counts, person_row, top
from storage.models import (
    AgendaItem,
    AgendaStatus,
    Meeting,
    Membership,
    MembershipStatus,
    Occurrence,
    OccurrenceStatus,
    Person,
    Rsvp,
    RsvpAnswer,
)
from storage.repositories import _Repository


def _by_time(group_id: Any) -> Any:
    """`group_id + 0`: sessions are found by their time (the index on `starts_at`),
    not by going through every session a group ever had; SQLite, without
    statistics, would otherwise start from the groups."""
    return group_id + 0


class SessionQueries(_Repository):
    """Sessions and agenda items per group, for the digest (part of `DigestRepository`)."""

    async def sessions(
        self, group_ids: Sequence[int], after: datetime, before: datetime, limit: int, latest_first: bool
    ) -> tuple[dict[int, int], dict[int, list[SessionRow]]]:
        """Scheduled sessions starting in (after, before]: how many per group, and
        `limit` per group (the latest or the earliest first)."""
        condition = and_(
            Occurrence.status == OccurrenceStatus.SCHEDULED,
            Occurrence.starts_at > after,
            Occurrence.starts_at <= before,
        )
        found_counts = await counts(
            self.session,
            select(Meeting.group_id, func.count())
            .join(Occurrence, Occurrence.meeting_id == Meeting.id)
            .where(_by_time(Meeting.group_id).in_(group_ids), condition)
            .group_by(Meeting.group_id),
        )
        order = (
            (Occurrence.starts_at.desc(), Occurrence.id.desc())
            if latest_first
            else (Occurrence.starts_at, Occurrence.id)
        )

        def per_group(group_id: int) -> Select[*tuple[Any, ...]]:
            return (
                select(Occurrence.id, Meeting.group_id, Meeting.title, Occurrence.starts_at, Meeting.timezone)
                .join(Meeting, Meeting.id == Occurrence.meeting_id)
                .where(_by_time(Meeting.group_id) == group_id, condition)
                .order_by(*order)
                .limit(limit)
            )

        lists: dict[int, list[SessionRow]] = {g: [] for g in group_ids}
        for row in await top(self.session, [g for g in group_ids if found_counts.get(g)], per_group):
            lists[row[1]].append(SessionRow(row[0], row[1], row[2], aware(row[3]), row[4]))  # type: ignore[arg-type]  # the column is NOT NULL, so aware() gets a datetime
        for rows in lists.values():
            rows.sort(key=lambda s: (s.starts_at, s.id), reverse=latest_first)
        return found_counts, lists

    async def rsvp_counts(self, occurrence_ids: Iterable[int]) -> dict[int, Counter[RsvpAnswer]]:
        ids = list(occurrence_ids)
        found: dict[int, Counter[RsvpAnswer]] = {i: Counter() for i in ids}
        if ids:
            result = await self.session.execute(
                select(Rsvp.occurrence_id, Rsvp.answer, func.count())
                .where(Rsvp.occurrence_id.in_(ids))
                .group_by(Rsvp.occurrence_id, Rsvp.answer)
            )
            for occurrence_id, answer, count in result.all():
                found[occurrence_id][RsvpAnswer(answer)] = int(count)
        return found

    async def agenda_counts(self, occurrence_ids: Iterable[int]) -> dict[int, int]:
        """Items on each session's agenda (open ones: proposed or accepted)."""
        ids = list(occurrence_ids)
        found = dict.fromkeys(ids, 0)
        if ids:
            found.update(
                await counts(
                    self.session,
                    select(AgendaItem.occurrence_id, func.count())
                    .where(AgendaItem.occurrence_id.in_(ids), item_is_open())
                    .group_by(AgendaItem.occurrence_id),
                )
            )
        return found

    def _no_agenda(self) -> Any:
        return ~(select(AgendaItem.id).where(AgendaItem.occurrence_id == Occurrence.id, item_is_open()).exists())

    async def without_agenda(
        self, group_ids: Sequence[int], after: datetime, until: datetime, limit: int
    ) -> tuple[int, list[SessionRow]]:
        """Scheduled sessions starting in (after, until] with nothing on their agenda: how many, the first `limit`."""
        condition = and_(
            _by_time(Meeting.group_id).in_(group_ids),
            Occurrence.status == OccurrenceStatus.SCHEDULED,
            Occurrence.starts_at > after,
            Occurrence.starts_at <= until,
            self._no_agenda(),
        )
        query = (
            select(
                Occurrence.id,
                Meeting.group_id,
                Meeting.title,
                Occurrence.starts_at,
                Meeting.timezone,
                func.count().over().label("total"),
            )
            .join(Meeting, Meeting.id == Occurrence.meeting_id)
            .where(condition)
            .order_by(Occurrence.starts_at, Occurrence.id)
            .limit(limit)
        )
        rows = (await self.session.execute(query)).all()
        sessions = [SessionRow(r[0], r[1], r[2], aware(r[3]), r[4]) for r in rows]  # type: ignore[arg-type]  # the column is NOT NULL, so aware() gets a datetime
        return (int(rows[0][5]) if rows else 0), sessions

    async def few_confirmations(
        self, group_ids: Sequence[int], after: datetime, until: datetime, limit: int
    ) -> tuple[int, list[tuple[SessionRow, int, int]]]:
        """Scheduled sessions starting in (after, until] with fewer Zusagen than a third of
        their group's approved members (and at least one): how many, and the first `limit`
        with (session, Zusagen, members)."""
        members = (
            select(Membership.group_id.label("group_id"), func.count().label("members"))
            .where(Membership.group_id.in_(group_ids), Membership.status == MembershipStatus.APPROVED)
            .group_by(Membership.group_id)
            .subquery()
        )
        yes = (
            select(func.count())
            .where(Rsvp.occurrence_id == Occurrence.id, Rsvp.answer == RsvpAnswer.YES)
            .correlate(Occurrence)
            .scalar_subquery()
        )
        sessions = (
            select(
                Occurrence.id.label("id"),
                Meeting.group_id.label("group_id"),
                Meeting.title.label("title"),
                Occurrence.starts_at.label("starts_at"),
                Meeting.timezone.label("timezone"),
                yes.label("yes"),
                func.coalesce(members.c.members, 0).label("members"),
            )
            .join(Meeting, Meeting.id == Occurrence.meeting_id)
            .outerjoin(members, members.c.group_id == Meeting.group_id)
            .where(
                _by_time(Meeting.group_id).in_(group_ids),
                Occurrence.status == OccurrenceStatus.SCHEDULED,
                Occurrence.starts_at > after,
                Occurrence.starts_at <= until,
            )
            .subquery()
        )
        query = (
            select(sessions, func.count().over().label("total"))
            .where(or_(sessions.c.yes * 3 < sessions.c.members, sessions.c.yes < 1))
            .order_by(sessions.c.starts_at, sessions.c.id)
            .limit(limit)
        )
        rows = (await self.session.execute(query)).all()
        found = [
            (SessionRow(r.id, r.group_id, r.title, aware(r.starts_at), r.timezone), int(r.yes), int(r.members))  # type: ignore[arg-type]  # the column is NOT NULL, so aware() gets a datetime
            for r in rows
        ]
        return (int(rows[0].total) if rows else 0), found

    # --- agenda items -----------------------------------------------------------

    async def new_items(
        self, group_ids: Sequence[int], start: datetime, end: datetime, limit: int
    ) -> tuple[dict[int, int], dict[int, list[ItemRow]]]:
        """Items proposed in (start, end] and not withdrawn: how many per group, the newest `limit`."""
        condition = and_(
            AgendaItem.created_at > start,
            AgendaItem.created_at <= end,
            AgendaItem.status != AgendaStatus.WITHDRAWN,
        )
        found_counts = await counts(
            self.session,
            select(AgendaItem.group_id, func.count())
            .where(AgendaItem.group_id.in_(group_ids), condition)
            .group_by(AgendaItem.group_id),
        )

        def per_group(group_id: int) -> Select[*tuple[Any, ...]]:
            return (
                select(
                    AgendaItem.id,
                    AgendaItem.group_id,
                    AgendaItem.text,
                    AgendaItem.status,
                    AgendaItem.created_at,
                    AgendaItem.author_id,
                    Person.display_name,
                    Person.username,
                    Person.organisation,
                    Person.telegram_id,
                    AgendaItem.late,
                )
                .outerjoin(Person, Person.id == AgendaItem.author_id)
                .where(AgendaItem.group_id == group_id, condition)
                .order_by(AgendaItem.created_at.desc(), AgendaItem.id.desc())
                .limit(limit)
            )

        lists: dict[int, list[ItemRow]] = {g: [] for g in group_ids}
        for r in await top(self.session, [g for g in group_ids if found_counts.get(g)], per_group):
            author = None if r[5] is None else person_row(r[6], r[7], r[8], r[9])
            lists[r[1]].append(ItemRow(r[0], r[1], r[2], AgendaStatus(r[3]), aware(r[4]), author, bool(r[10])))  # type: ignore[arg-type]  # the column is NOT NULL, so aware() gets a datetime
        for rows in lists.values():
            rows.sort(key=lambda i: (i.created_at, i.id), reverse=True)
        return found_counts, lists
