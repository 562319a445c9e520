"""The report's query on the tasks of approved minutes (no commits).

Part of `storage.report_repository.ReportRepository`. Which minutes the
report holds is `bot.core.minutes.approved_between` (SPEC 13: approved
minutes are part of the report); here are their tasks with their state. No
person is named (the report is a public document): a task's owner appears by
organisation only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select

from storage.followup_models import Task, TaskStatus
from storage.models import Person
from storage.repositories import _Repository


@dataclass(frozen=True)
class TaskRow:
    text: str
    organisation: str | None
    """The owner's organisation (None: none given, or the owner is gone)."""
    due_on: date
    status: TaskStatus
    done_at: datetime | None


class MinutesQueries(_Repository):
    """The tasks of approved minutes (part of `ReportRepository`)."""

    async def minutes_tasks(self, item_ids: Sequence[int]) -> dict[int, list[TaskRow]]:
        """The published tasks (open or done, not drafts) of these minutes items, by item id,
        soonest due first."""
        tasks: dict[int, list[TaskRow]] = {}
        if not item_ids:
            return tasks
        result = await self.session.execute(
            select(Task.minutes_item_id, Task.text, Person.organisation, Task.due_on, Task.status, Task.done_at)
            .outerjoin(Person, Person.id == Task.owner_id)
            .where(Task.minutes_item_id.in_(item_ids), Task.status != TaskStatus.DRAFT)
            .order_by(Task.due_on, Task.id)
        )
        for item_id, text, organisation, due_on, status, done_at in result.all():
            if item_id is None:  # never: the query selects by item
                continue
            tasks.setdefault(item_id, []).append(TaskRow(text, organisation, due_on, TaskStatus(status), done_at))
        return tasks
