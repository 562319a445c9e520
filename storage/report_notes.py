"""The coordinator's notes on the groups for one half-year report (no commits).

Part of `storage.report_repository.ReportRepository`. A note is kept per
(group, half-year), the half-year written as in /report (`2026-H2`); saving
again replaces it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, or_, select

from storage.admin_models import ReportNote
from storage.models import Group
from storage.repositories import _Repository


class NoteQueries(_Repository):
    """Read, save and delete the notes of one half-year."""

    async def notes(self, period: str) -> dict[int, str]:
        """The notes of `period`, by group id."""
        result = await self.session.execute(
            select(ReportNote.group_id, ReportNote.text).where(ReportNote.period == period)
        )
        return {group_id: text for group_id, text in result.all()}

    async def note(self, period: str, group_id: int) -> ReportNote | None:
        return await self.session.scalar(
            select(ReportNote).where(ReportNote.period == period, ReportNote.group_id == group_id)
        )

    async def delete_note(self, note: ReportNote) -> None:
        await self.session.execute(delete(ReportNote).where(ReportNote.id == note.id))

    async def groups_in(self, start: datetime) -> Sequence[Group]:
        """The groups a report from `start` on can be about: not archived before it, in id order."""
        result = await self.session.execute(
            select(Group).where(or_(Group.archived_at.is_(None), Group.archived_at >= start)).order_by(Group.id)
        )
        return result.scalars().all()
