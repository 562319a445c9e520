"""The queries of the digest: counts and tallies grouped in SQL (no commits).

Every number is a COUNT with GROUP BY in the database; every list is a
LIMITed query per group (one UNION ALL statement for all groups), so the
cost of a digest grows with what it shows, not with the size of the tables.
Nothing returns ORM objects: rows come back as small frozen dataclasses
(`storage.digest_rows`). A period is (start, end]: consecutive weekly
digests neither overlap nor leave a gap, and `/digest` includes what
happened at the very moment asked.

`DigestRepository` is one class made of one part per concept:

- `storage.digest_members`: members, joined, departed, pending, unreachable;
- `storage.digest_sessions`: sessions held and coming, their Zusagen and
  agendas, sessions without an agenda or with few Zusagen, new agenda items;
- `storage.digest_feedback`: open recommendations, their feedback and latest
  comments, deadlines, who has not answered;
- `storage.digest_followup`: held sessions without attendance or approved minutes;
- here: which scheduled digests are already planned.

Indexes these queries rely on (models and migration 0004):
`memberships (group_id, status)`, `agenda_items (group_id, created_at)`,
`agenda_items (occurrence_id, status)`, `comments (recommendation_id,
created_at)`, `stances (recommendation_id, value)` and `rsvps (occurrence_id,
answer)`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from storage.digest_feedback import FeedbackQueries
from storage.digest_followup import FollowUpQueries
from storage.digest_members import MemberQueries
from storage.digest_sessions import SessionQueries
from storage.models import Delivery, DeliveryKind


class DigestRepository(MemberQueries, SessionQueries, FeedbackQueries, FollowUpQueries):
    """Aggregates per group over a period, for /digest and `kimbot digest`."""

    async def planned(self, scheduled_for: datetime) -> set[int]:
        """Ids of the people who have a scheduled digest record for this time (any status)."""
        result = await self.session.execute(
            select(Delivery.person_id).where(
                Delivery.scheduled_for == scheduled_for, Delivery.kind == DeliveryKind.DIGEST
            )
        )
        return set(result.scalars().all())
