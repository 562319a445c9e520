"""The queries of tasks from the minutes (SPEC 13): add a draft, remove the
drafts of one item, the drafts of a minutes (to publish them), one task with
its group and owner, a person's open tasks, the open tasks of groups (one
query for a whole timer run), and what the timer needs to screen and render
task messages (no commits; the unit of work commits)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import selectinload

from storage.followup_models import MinutesItem, Task, TaskStatus
from storage.models import TASK_KINDS, Delivery, DeliveryStatus, Occurrence
from storage.repositories import _Repository, is_id, rowcount


def _loaded() -> tuple[Any, ...]:
    return (
        selectinload(Task.group),
        selectinload(Task.owner),
    )


class TaskRepository(_Repository):
    """Tasks with their group and owner loaded."""

    async def get(self, task_id: int) -> Task | None:
        if not is_id(task_id):
            return None
        result = await self.session.execute(select(Task).where(Task.id == task_id).options(*_loaded()))
        return result.scalar_one_or_none()

    async def remove_drafts_of_item(self, item_id: int) -> int:
        """Delete the DRAFT tasks of one item of the minutes; the number deleted."""
        result = await self.session.execute(
            delete(Task).where(Task.minutes_item_id == item_id, Task.status == TaskStatus.DRAFT)
        )
        return rowcount(result)

    async def of_minutes(self, minutes_id: int, status: TaskStatus | None = None) -> Sequence[Task]:
        """The tasks of the items of one minutes (in the order they were written)."""
        query = (
            select(Task)
            .join(MinutesItem, MinutesItem.id == Task.minutes_item_id)
            .where(MinutesItem.minutes_id == minutes_id)
            .options(*_loaded())
            .order_by(MinutesItem.position, Task.id)
        )
        if status is not None:
            query = query.where(Task.status == status)
        return (await self.session.execute(query)).scalars().all()

    async def of_items(self, item_ids: Iterable[int]) -> Sequence[Task]:
        """The tasks of these items of minutes (any status), in the order written."""
        ids = sorted(set(item_ids))
        if not ids:
            return []
        result = await self.session.execute(
            select(Task).where(Task.minutes_item_id.in_(ids)).options(*_loaded()).order_by(Task.id)
        )
        return result.scalars().all()

    async def open_of_owner(self, person_id: int) -> Sequence[Task]:
        """A person's OPEN tasks, the one due first first."""
        result = await self.session.execute(
            select(Task)
            .where(Task.owner_id == person_id, Task.status == TaskStatus.OPEN)
            .options(*_loaded())
            .order_by(Task.due_on, Task.id)
        )
        return result.scalars().all()

    async def open_of_groups(self, group_ids: Iterable[int]) -> Sequence[Task]:
        """The OPEN tasks of these groups, by group, the one due first first."""
        ids = sorted(set(group_ids))
        if not ids:
            return []
        result = await self.session.execute(
            select(Task)
            .where(Task.group_id.in_(ids), Task.status == TaskStatus.OPEN)
            .options(*_loaded())
            .order_by(Task.group_id, Task.due_on, Task.id)
        )
        return result.scalars().all()

    async def sessions(self, occurrence_ids: Iterable[int]) -> dict[int, Occurrence]:
        """The sessions tasks came from, by id (with their meeting)."""
        ids = sorted(set(occurrence_ids))
        if not ids:
            return {}
        result = await self.session.execute(
            select(Occurrence).where(Occurrence.id.in_(ids)).options(selectinload(Occurrence.meeting))
        )
        return {o.id: o for o in result.scalars().all()}

    async def pending_deliveries(self, now: datetime) -> dict[int, int]:
        """Task id by delivery id, for the task messages due and not sent yet (the
        timer renders a whole run with this one query)."""
        result = await self.session.execute(
            select(Delivery.id, Delivery.task_id).where(
                Delivery.kind.in_(TASK_KINDS),
                Delivery.status == DeliveryStatus.PENDING,
                Delivery.task_id.is_not(None),
                Delivery.due_at <= now,
            )
        )
        return {delivery_id: task_id for delivery_id, task_id in result.all() if task_id}

    async def of_deliveries(self, delivery_ids: Iterable[int]) -> dict[int, int]:
        """Task id by delivery id, for the task messages named."""
        ids = sorted(set(delivery_ids))
        if not ids:
            return {}
        result = await self.session.execute(
            select(Delivery.id, Delivery.task_id).where(Delivery.id.in_(ids), Delivery.task_id.is_not(None))
        )
        return {delivery_id: task_id for delivery_id, task_id in result.all() if task_id}

    async def by_ids(self, task_ids: Iterable[int]) -> dict[int, Task]:
        ids = sorted({i for i in task_ids if is_id(i)})
        if not ids:
            return {}
        result = await self.session.execute(select(Task).where(Task.id.in_(ids)).options(*_loaded()))
        return {task.id: task for task in result.scalars().all()}
