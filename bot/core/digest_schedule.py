"""The scheduled digest (DIGEST_SCHEDULE): when it is due, who is owed it, and
which owed ones are no longer sent.

Scheduled digests are delivery records (`DeliveryKind.DIGEST`) sent by the
same timer and sender as reminders: `plan` owes every coordinator who has
written to the bot one record for the next DIGEST_SCHEDULE time (at or after
now, as UTC; written in the day before it; unique per coordinator and time,
so a second tick adds nothing), and `screen_due` drops a due record when digests are switched
off, when the schedule changed so that its time is no longer a schedule
time, when it is more than a day late (the next one comes), or when the
person is no longer a coordinator. What it contains: `bot.core.digest_build.for_schedule`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.core import people
from bot.core.config import DigestSchedule, Settings
from bot.core.dates import normalize
from storage.models import Delivery, DeliveryKind, DeliveryStatus
from storage.uow import UnitOfWork

STALE_AFTER = timedelta(days=1)
"""A scheduled digest more than this late is skipped; the next one comes."""
PLAN_AHEAD = timedelta(days=1)
"""The record of a scheduled digest is written this long before its time (the
timer runs at least every 15 minutes, so it is there well before it is due)."""


def schedule_time(schedule: DigestSchedule, day: date, tz: ZoneInfo) -> datetime:
    """The digest time on `day` (local wall time in `tz`) as UTC."""
    return normalize(datetime.combine(day, schedule.at), tz).astimezone(UTC)


def next_schedule_time(settings: Settings, now: datetime) -> datetime | None:
    """The first DIGEST_SCHEDULE time at or after `now`, as UTC; None when digests are off."""
    schedule = settings.digest_schedule
    if schedule is None:
        return None
    tz = settings.timezone
    today = now.astimezone(tz).date()
    ahead = (schedule.weekday - today.weekday()) % 7
    for day in (today + timedelta(days=ahead), today + timedelta(days=ahead + 7)):
        at = schedule_time(schedule, day, tz)
        if at >= now:
            return at
    raise AssertionError("a weekly time comes within eight days")


def is_schedule_time(settings: Settings, moment: datetime) -> bool:
    """Whether `moment` is a DIGEST_SCHEDULE time under the current settings."""
    schedule = settings.digest_schedule
    if schedule is None:
        return False
    tz = settings.timezone
    day = moment.astimezone(tz).date()
    return day.weekday() == schedule.weekday and schedule_time(schedule, day, tz) == moment.astimezone(UTC)


async def plan(uow: UnitOfWork, settings: Settings, now: datetime) -> None:
    """Owe every coordinator the scheduled digest (DIGEST_SCHEDULE). Does not commit.

    Within `PLAN_AHEAD` of the next schedule time (at or after now): one PENDING
    record per coordinator with a Telegram id for that time, due then, so the
    timer wakes exactly at that time. A record written in time and sent late
    (the bot was down, Telegram failed) is still sent within `STALE_AFTER`; a
    schedule time that passed with no record written (a coordinator who first
    wrote to the bot after it) is not caught up: the next one comes.
    """
    at = next_schedule_time(settings, now)
    if at is None or at - now > PLAN_AHEAD:
        return
    coordinators = [p for p in await uow.people.coordinators(settings.coordinator_ids) if p.telegram_id is not None]
    if not coordinators:
        return
    planned = await uow.digests.planned(at)
    await uow.deliveries.insert_many(
        [
            {
                "person_id": person.id,
                "kind": DeliveryKind.DIGEST,
                "scheduled_for": at,
                "due_at": at,
                "status": DeliveryStatus.PENDING,
                "attempts": 0,
                "lead_seconds": 0,
                "revision": 0,
                "occurrence_id": None,
            }
            for person in coordinators
            if person.id not in planned
        ]
    )


async def screen_due(uow: UnitOfWork, rows: Sequence[Delivery], settings: Settings, now: datetime) -> dict[int, str]:
    """For due DIGEST deliveries: the ones not to send, by delivery id, with the reason."""
    reasons: dict[int, str] = {}
    for row in rows:
        if settings.digest_schedule is None:
            reasons[row.id] = "digests are off"
        elif row.scheduled_for is None or not is_schedule_time(settings, row.scheduled_for):
            reasons[row.id] = "not a schedule time any more"
        elif now - row.scheduled_for > STALE_AFTER:
            reasons[row.id] = "more than a day late"
        elif not people.is_coordinator(row.person, settings):
            reasons[row.id] = "no longer a coordinator"
    return reasons
