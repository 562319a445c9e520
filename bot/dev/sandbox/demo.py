"""Demo: a realistic example for `kimbot sandbox --demo`, in German.

`fill_demo(db, users, settings, now)` fills an empty database so that the
coordination gets meaningful answers at once from `/digest 30d` and from
`/report` on the current half-year (the data named here, in capitals, is in
`bot.dev.sandbox.demo_data`):

- People: the coordinator and the personas of the chat page (`MEMBERS`:
  Ana, Mehmet, Ioana, Lena; Thomas is a guest and stays unknown to the bot),
  and `EXTRA_MEMBERS`, fictional people of Wuppertal's integration work with
  their organisations (a volunteer has none). Every group has 5 or 6
  approved members, registered about 150 days ago; two joined in the last
  weeks, and two join requests wait (Mehmet's for AK EU, one for AG
  Süd-Ost-Europa).
- History (`PAST_SESSIONS`): 2 to 4 held sessions per group (AG
  Süd-Ost-Europa fortnightly), each with accepted topics and the members'
  Zusagen, Absagen and Vielleicht. Only the sessions of the last
  `_history_days` are made: since the start of the current half-year, but at
  least 63 and at most 120 days, so that most of them are in the report of
  the running half-year. A recommendation to AK EU, AK Arbeitsmarktintegration
  and AG Süd-Ost-Europa (`CLOSED_RECOMMENDATION`), answered by members of all
  three and closed as adopted with an outcome note 20 days ago; further
  recommendations of the Lenkungskreis, closed months ago, so that `/track`
  shows a tracked recommendation in every state (offen, in Arbeit, verzögert,
  überfällig, erledigt) and one was not adopted (`bot.dev.sandbox.demo_tracking`).
- After a held session (SPEC 13; `FOLLOWED_UP`, AK EU's latest): the
  attendance the coordination took (`ATTENDANCE`: present, excused and absent
  members, two check-ins, Katarzyna Nowak there through her deputy Petra
  Lange, and a guest), approved minutes with a result per topic, a decision,
  a correction proposed in review, and an open task for Ana (`TASK`, on her
  `/tasks`); the deputyship (`DEPUTY`) is still in force, so Petra Lange gets
  copies of Katarzyna Nowak's invitations. These are written as rows, as the
  commands store them; the task goes through `tasks.publish`, so its reminder
  is due two days before its date.
- Coming (`COMING_SESSIONS`): AK EU next week, the fortnightly series of AG
  Süd-Ost-Europa (few Zusagen so far), AK Ehrenamt (nothing on its agenda
  yet: the digest names it under "Was fehlt") and the Lenkungskreis in about
  two weeks; topics on the agendas, some accepted; answers of some extra members
  (the personas' answers are left to the person trying the sandbox); and an
  open recommendation to all groups with a deadline, which four members have
  answered.
- E-mail (SPEC 15, when it is on, as in the sandbox): Ana and Mehmet gave and
  confirmed an address (`EMAIL`); Ana gets everything also by e-mail, Mehmet
  only when Telegram cannot reach him (`bot.dev.sandbox.demo_email`).

Everything else goes through the core functions the commands use, each step
with its own time as `now`. The messages the history owed (its invitations, the
closed recommendation and its outcome) are marked skipped ("demo history"),
so the bot's first tick sends only the invitations to the coming sessions
and the open recommendation.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from bot.core import agenda, announcements, meetings, recommendation_closing, recommendations, report_notes, tasks
from bot.core.config import Settings
from bot.core.dates import local_datetime
from bot.core.report_period import HalfYear
from bot.dev.sandbox import demo_email, demo_tracking
from bot.dev.sandbox.demo_data import (
    AGENDA,
    ANNOUNCEMENT,
    ANSWERED_BEFORE,
    APPROVED_AFTER,
    ATTENDANCE,
    CANCEL_REASON,
    CANCELLED_SERIES,
    CHECKED_IN,
    CLOSED_DEADLINE,
    CLOSED_FEEDBACK,
    CLOSED_ON,
    CLOSED_PUBLISHED,
    CLOSED_RECOMMENDATION,
    COMING_ANSWERS,
    COMING_SESSIONS,
    CORRECTION,
    DEPUTY,
    DEPUTY_SINCE,
    DEPUTY_UNTIL,
    EXTRA_MEMBERS,
    FEEDBACK,
    FOLLOWED_UP,
    GUEST,
    JOINED_DAYS_AGO,
    MAYBE,
    MEMBERS,
    MINUTES,
    NO,
    OUTCOME,
    PAST_SESSIONS,
    PENDING_DAYS_AGO,
    PLACES,
    PREPARED_BEFORE,
    RECOMMENDATION,
    RECOMMENDATION_DAYS,
    REGISTERED_DAYS_AGO,
    REPORT_NOTES,
    SCHEDULED_BEFORE,
    TASK,
    WRITTEN_AFTER,
    YES,
)
from storage.database import Database
from storage.followup_models import (
    Attendance,
    AttendanceStatus,
    Deputy,
    Minutes,
    MinutesCorrection,
    MinutesDecision,
    MinutesItem,
    MinutesStatus,
)
from storage.models import (
    AgendaItem,
    Delivery,
    DeliveryStatus,
    Group,
    Membership,
    MembershipStatus,
    Occurrence,
    Person,
    RsvpAnswer,
)
from storage.tracking_models import RecommendationResult
from storage.uow import UnitOfWork

HISTORY_SKIPPED = "demo history"
"""The reason recorded on the messages the history owed."""


async def fill_demo(db: Database, users: dict[str, Any], settings: Settings, now: datetime) -> None:
    """Fill an empty database with the example (see the module docstring).

    `users` has an emulator user (`.id`, `.first_name`, `.last_name`,
    `.username`) for every key of MEMBERS and EXTRA_MEMBERS; the coordinator
    is "koordination". `now` is the sandbox's time (aware).
    """
    await _register(db, users, now)
    await demo_email.confirm_addresses(db, users, settings, now, HISTORY_SKIPPED)
    await _history(db, users, settings, now)
    await _coming(db, users, settings, now)


# --- people -------------------------------------------------------------------------------


def _registered() -> list[tuple[str, str | None, tuple[str, ...], tuple[str, ...]]]:
    """(key, organisation, approved groups, pending groups) of everyone the bot knows."""
    personas = [(key, *entry) for key, entry in MEMBERS.items()]
    return personas + [(p.key, p.organisation, p.groups, p.pending) for p in EXTRA_MEMBERS]


def _joined(key: str, now: datetime) -> datetime:
    return now - timedelta(days=JOINED_DAYS_AGO.get(key, REGISTERED_DAYS_AGO))


async def _register(db: Database, users: dict[str, Any], now: datetime) -> None:
    async with db.uow() as uow:
        groups = {g.slug: g for g in await uow.groups.active()}
        for key, organisation, approved, pending in _registered():
            user, joined = users[key], _joined(key, now)
            person = Person(
                telegram_id=user.id,
                username=user.username,
                display_name=f"{user.first_name} {user.last_name}",
                organisation=organisation,
                is_coordinator=False,
                privacy_acknowledged_at=joined,
                registered_at=joined,
                created_at=joined,
            )
            uow.people.add(person)
            await uow.people.flush()
            for slug in approved:
                uow.memberships.add(
                    Membership(
                        person_id=person.id,
                        group_id=groups[slug].id,
                        status=MembershipStatus.APPROVED,
                        requested_at=joined,
                        decided_at=joined + timedelta(hours=2),
                    )
                )
            for slug in pending:
                uow.memberships.add(
                    Membership(
                        person_id=person.id,
                        group_id=groups[slug].id,
                        status=MembershipStatus.PENDING,
                        requested_at=now - timedelta(days=PENDING_DAYS_AGO),
                    )
                )
        await uow.commit()


async def _people(uow: UnitOfWork, users: dict[str, Any]) -> dict[str, Person]:
    """The registered people, by key, in this unit of work."""
    keys = {user.id: key for key, user in users.items()}
    found = (await uow.session.execute(select(Person))).scalars()
    return {keys[p.telegram_id]: p for p in found if p.telegram_id in keys}


def _members(slug: str, at: datetime, now: datetime) -> list[str]:
    """The keys of the group's approved members at `at`."""
    return [key for key, _, approved, _ in _registered() if slug in approved and _joined(key, now) < at]


# --- dates --------------------------------------------------------------------------------


def _history_days(now: datetime, settings: Settings) -> int:
    """How far back the history goes: since the current half-year began, 63 to 120 days."""
    today = now.astimezone(settings.timezone).date()
    half_began = date(today.year, 1 if today.month <= 6 else 7, 1)
    return min(120, max(63, (today - half_began).days))


def _workday(day: date, step: int) -> date:
    """The day, or the first working day before it (step -1) or after it (step 1)
    when it falls on a weekend or between Christmas Eve and New Year's Day."""
    while day.weekday() >= 5 or (day.month, day.day) >= (12, 24) or (day.month, day.day) == (1, 1):
        day += timedelta(days=step)
    return day


def _request(slug: str, day: date, title: str) -> meetings.MeetingRequest:
    """`/meeting <group> <day> <time> <title> | <location> [| <recurrence>]`."""
    at, location = PLACES[slug]
    title, *recurrence = title.split(" | ")
    rest = " | ".join([title, location, *recurrence])
    return meetings.parse_meeting_command(f"{slug} {day:%d.%m.%Y} {at} {rest}")


# --- history ------------------------------------------------------------------------------


async def _history(db: Database, users: dict[str, Any], settings: Settings, now: datetime) -> None:
    back = _history_days(now, settings)
    today = now.astimezone(settings.timezone).date()
    for (slug, days_ago, title), topics in PAST_SESSIONS.items():
        if days_ago <= back:
            day = _workday(today - timedelta(days=days_ago), -1)
            followed_up = (slug, days_ago, title) == FOLLOWED_UP
            await _past_session(db, users, settings, _request(slug, day, title), topics, now, followed_up)
    await _closed_recommendation(db, users, settings, now)
    await demo_tracking.more_recommendations(db, users, settings, now)
    async with db.uow() as uow:
        await uow.session.execute(
            update(Delivery)
            .where(Delivery.status == DeliveryStatus.PENDING, Delivery.due_at < now)
            .values(status=DeliveryStatus.SKIPPED, error=HISTORY_SKIPPED)
        )
        await uow.commit()


async def _past_session(
    db: Database,
    users: dict[str, Any],
    settings: Settings,
    request: meetings.MeetingRequest,
    topics: tuple[tuple[str, str], ...],
    now: datetime,
    followed_up: bool = False,
) -> None:
    """Plan it three weeks before, put its topics on it, and record the members' answers
    (and, for the `FOLLOWED_UP` session, what came after it)."""
    start = local_datetime(request.day, request.at, settings.timezone)
    async with db.uow() as uow:
        people = await _people(uow, users)
        coordinator = people["koordination"]
        planned = await meetings.schedule(uow, coordinator, request, settings, start - SCHEDULED_BEFORE)
        group = planned.meeting.group
        proposed_at = start - settings.agenda_deadline - timedelta(days=1)
        items = []
        for key, text in topics:
            placed = await agenda.propose(uow, people[key], group, text, settings, proposed_at)
            accepted_at = proposed_at + timedelta(hours=20)
            await agenda.accept(uow, coordinator, placed.item.id, settings, accepted_at)
            items.append(placed.item)
        first_answer = start - ANSWERED_BEFORE
        answers = _answers(_members(group.slug, first_answer, now), f"{group.slug} {request.day}")
        for index, (key, answer) in enumerate(answers.items()):
            answered_at = first_answer + timedelta(hours=5 * index)
            await meetings.answer(uow, people[key], planned.occurrences[0].id, answer, settings, answered_at)
        if followed_up:
            await _after_the_session(uow, people, group, planned.occurrences[0], items, start, settings, now)
        await uow.commit()


async def _after_the_session(
    uow: UnitOfWork,
    people: dict[str, Person],
    group: Group,
    occurrence: Occurrence,
    items: list[AgendaItem],
    start: datetime,
    settings: Settings,
    now: datetime,
) -> None:
    """SPEC 13, written as rows (what `/deputy`, `/here`, `/attendance` and `/minutes`
    store): the deputy, in force since before the session and still now; the
    attendance the coordination took (pre-filled check-ins, one member there
    through her deputy, a guest); the approved minutes with results, a decision,
    a correction an attendee proposed, and a task, published as approving does
    (`tasks.publish`: it is open, and its reminder will come)."""
    coordinator = people["koordination"]
    member, deputy = (people[key] for key in DEPUTY)
    asked = start - timedelta(days=DEPUTY_SINCE)
    until = now.astimezone(settings.timezone).date() + timedelta(days=DEPUTY_UNTIL)
    uow.session.add(
        Deputy(
            member_id=member.id,
            deputy_id=deputy.id,
            until=until,
            created_at=asked,
            accepted_at=asked + timedelta(hours=3),
        )
    )
    recorded_at = start + timedelta(hours=2)
    checked_in_at = start - timedelta(minutes=10)
    for key, status in ATTENDANCE.items():
        person = people[key]
        uow.session.add(
            Attendance(
                occurrence_id=occurrence.id,
                person_id=person.id,
                organisation=person.organisation,
                status=status,
                checked_in_at=checked_in_at if key in CHECKED_IN else None,
                deputy_id=deputy.id if person is member else None,
                recorded_by_id=coordinator.id,
                recorded_at=recorded_at,
            )
        )
    guest, organisation = GUEST
    uow.session.add(
        Attendance(
            occurrence_id=occurrence.id,
            guest_name=guest,
            organisation=organisation,
            status=AttendanceStatus.PRESENT,
            recorded_by_id=coordinator.id,
            recorded_at=recorded_at,
        )
    )
    written, approved = start + WRITTEN_AFTER, start + APPROVED_AFTER
    minutes = Minutes(
        occurrence_id=occurrence.id,
        status=MinutesStatus.APPROVED,
        created_by_id=coordinator.id,
        created_at=written,
        updated_at=approved,
        circulated_at=written,
        review_until=written + settings.minutes_review,
        approved_at=approved,
        approved_by_id=coordinator.id,
    )
    minutes.items = [
        MinutesItem(
            agenda_item_id=item.id,
            title=item.text,
            result=MINUTES[item.text][0],
            position=position,
            decisions=[MinutesDecision(text=text, position=n) for n, text in enumerate(MINUTES[item.text][1])],
        )
        for position, item in enumerate(items)
    ]
    uow.session.add(minutes)
    await uow.flush()
    key, text = CORRECTION
    uow.session.add(
        MinutesCorrection(
            minutes_id=minutes.id, person_id=people[key].id, text=text, created_at=written + timedelta(days=2)
        )
    )
    item_text, owner, text, due_in = TASK
    (under,) = [i for i in minutes.items if i.title == item_text]
    due_on = _workday(now.astimezone(settings.timezone).date() + timedelta(days=due_in), 1)
    draft = tasks.TaskDraft(text, people[owner], due_on)
    await tasks.add_draft(uow, draft, group, occurrence, under, coordinator, written)
    await tasks.publish(uow, minutes, approved, settings)


def _answers(members: list[str], seed: str) -> dict[str, RsvpAnswer]:
    """Half to most of the members say yes, one no, one maybe (the same for the same seed)."""
    rng = random.Random(seed)
    order = rng.sample(members, len(members))
    yes = max(1, round(len(order) * rng.uniform(0.5, 0.85)))
    answers = dict.fromkeys(order[:yes], YES)
    answers.update(zip(order[yes:], (NO, MAYBE), strict=False))
    return answers


async def _closed_recommendation(db: Database, users: dict[str, Any], settings: Settings, now: datetime) -> None:
    published_at = now - timedelta(days=CLOSED_PUBLISHED)
    deadline = (now - timedelta(days=CLOSED_DEADLINE)).astimezone(settings.timezone)
    async with db.uow() as uow:
        people = await _people(uow, users)
        coordinator = people["koordination"]
        text = f"{CLOSED_RECOMMENDATION} | {deadline:%d.%m.%Y}"
        published = await recommendations.recommend(uow, coordinator, text, settings, published_at)
        assert isinstance(published, recommendations.Published)
        rid = published.recommendation.id
        for days, (key, (stance, comment)) in enumerate(CLOSED_FEEDBACK.items(), 1):
            answered_at = published_at + timedelta(days=days, hours=3)
            await recommendations.give_stance(uow, people[key], rid, stance, answered_at)
            if comment:
                await recommendations.add_comment(uow, people[key], rid, comment, answered_at)
        await recommendation_closing.choose_result(uow, coordinator, rid, RecommendationResult.ADOPTED, settings)
        closed_at = now - timedelta(days=CLOSED_ON)
        await recommendation_closing.close(uow, coordinator, OUTCOME, settings, closed_at)
        await demo_tracking.track_closed(uow, coordinator, rid, settings, now)
        await uow.commit()


# --- what is coming -----------------------------------------------------------------------


async def _coming(db: Database, users: dict[str, Any], settings: Settings, now: datetime) -> None:
    """Sessions, topics, answers and the open recommendation, made PREPARED_BEFORE now."""
    today = now.astimezone(settings.timezone).date()
    at = now - PREPARED_BEFORE
    async with db.uow() as uow:
        people = await _people(uow, users)
        coordinator = people["koordination"]
        for slug, days, title in COMING_SESSIONS:
            request = _request(slug, _workday(today + timedelta(days=days), 1), title)
            planned = await meetings.schedule(uow, coordinator, request, settings, at)
            session_id = planned.occurrences[0].id
            for key, answer in COMING_ANSWERS.get(slug, {}).items():
                await meetings.answer(uow, people[key], session_id, answer, settings, at)
            if slug == CANCELLED_SERIES:
                later = planned.occurrences[1].id
                await meetings.cancel(uow, coordinator, later, settings, at, reason=CANCEL_REASON)
        for key, slug, text, accepted in AGENDA:
            group = await uow.groups.by_slug(slug)
            assert group is not None
            placed = await agenda.propose(uow, people[key], group, text, settings, at)
            if accepted:
                await agenda.accept(uow, coordinator, placed.item.id, settings, at)
        deadline = (now + timedelta(days=RECOMMENDATION_DAYS)).astimezone(settings.timezone)
        text = f"{RECOMMENDATION} | {deadline:%d.%m.%Y}"
        published = await recommendations.recommend(uow, coordinator, text, settings, at)
        assert isinstance(published, recommendations.Published)
        rid = published.recommendation.id
        for key, (stance, comment) in FEEDBACK.items():
            await recommendations.give_stance(uow, people[key], rid, stance, at)
            if comment:
                await recommendations.add_comment(uow, people[key], rid, comment, at)
        await announcements.announce(uow, coordinator, ANNOUNCEMENT, settings, at)
        half = HalfYear.containing(now, settings.timezone)
        for slug, note in REPORT_NOTES.items():
            group = await uow.groups.by_slug(slug)
            assert group is not None
            await report_notes.save(uow, coordinator, settings, half, group, note, at)
        await uow.commit()
