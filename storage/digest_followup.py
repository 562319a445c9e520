"""The digest's query about what a held session still lacks (SPEC 13): attendance
not taken, minutes not approved (no commits).

Part of `storage.digest_repository.DigestRepository`. When attendance counts as
taken is `storage.attendance_repository.taken`; minutes are *missing* for a
session when there are none, when they are still a draft, or when they are in
review and their review period is over (waiting for approval). Minutes in
review before `review_until` are on their way and not missing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, func, not_, or_, select

from storage.attendance_repository import taken
from storage.digest_rows import aware, counts, top
from storage.followup_models import Minutes, MinutesStatus
from storage.models import Meeting, Occurrence, OccurrenceStatus
from storage.repositories import _Repository


@dataclass(frozen=True)
class FollowUpRow:
    """A held session that lacks its attendance, its approved minutes, or both."""

    id: int
    group_id: int
    title: str
    starts_at: datetime
    timezone: str
    attendance_taken: bool
    minutes: MinutesStatus | None
    """The state of its minutes (None: none written); never APPROVED here."""


def minutes_done(now: datetime) -> ColumnElement[bool]:
    """The session's minutes are approved, or in review with time left for corrections."""
    return exists(
        select(Minutes.id).where(
            Minutes.occurrence_id == Occurrence.id,
            or_(
                Minutes.status == MinutesStatus.APPROVED,
                and_(Minutes.status == MinutesStatus.REVIEW, Minutes.review_until > now),
            ),
        )
    )


class FollowUpQueries(_Repository):
    """Held sessions without attendance or approved minutes, per group (part of `DigestRepository`)."""

    async def without_followup(
        self, group_ids: Sequence[int], after: datetime, before: datetime, now: datetime, limit: int
    ) -> tuple[dict[int, int], dict[int, list[FollowUpRow]]]:
        """Scheduled sessions that started in (after, before] and lack attendance or
        approved minutes at `now`: how many per group, and the `limit` latest per group."""
        condition = and_(
            Occurrence.status == OccurrenceStatus.SCHEDULED,
            Occurrence.starts_at > after,
            Occurrence.starts_at <= before,
            or_(not_(taken()), not_(minutes_done(now))),
        )
        found = await counts(
            self.session,
            select(Meeting.group_id, func.count())
            .join(Occurrence, Occurrence.meeting_id == Meeting.id)
            .where(Meeting.group_id.in_(group_ids), condition)
            .group_by(Meeting.group_id),
        )
        state = select(Minutes.status).where(Minutes.occurrence_id == Occurrence.id).scalar_subquery()

        def per_group(group_id: int) -> Select[*tuple[Any, ...]]:
            return (
                select(
                    Occurrence.id,
                    Meeting.group_id,
                    Meeting.title,
                    Occurrence.starts_at,
                    Meeting.timezone,
                    taken().label("taken"),
                    state.label("minutes"),
                )
                .join(Meeting, Meeting.id == Occurrence.meeting_id)
                .where(Meeting.group_id == group_id, condition)
                .order_by(Occurrence.starts_at.desc(), Occurrence.id.desc())
                .limit(limit)
            )

        lists: dict[int, list[FollowUpRow]] = {g: [] for g in group_ids}
        for row in await top(self.session, [g for g in group_ids if found.get(g)], per_group):
            starts_at = aware(row[3])
            assert starts_at is not None  # the column is NOT NULL
            lists[row[1]].append(
                FollowUpRow(
                    row[0], row[1], row[2], starts_at, row[4], bool(row[5]), MinutesStatus(row[6]) if row[6] else None
                )
            )
        for rows in lists.values():
            rows.sort(key=lambda s: (s.starts_at, s.id), reverse=True)
        return found, lists
