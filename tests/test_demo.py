"""The sandbox's demo (`bot.dev.sandbox.demo`), on SQLite and PostgreSQL, without the bot.

`fill_demo` runs against an empty database for two moments: late November,
when the history lies in the running half-year, and mid-January, when most
of it lies in the previous one. What a coordinator would get from `/report`
and `/digest 30d` is then built with the core functions and checked for
meaning: members in every group, held sessions with Zusagen and topics, a
closed recommendation with its outcome, something to read for every group,
a held session with attendance, approved minutes, an open task and a deputy
in force (SPEC 13), a tracked recommendation in every state (SPEC 14; also
through `/track` on the real bot), and no message from the past history
still waiting to be sent. With e-mail on (SPEC 15), two personas have a
confirmed address, and Ana's invitations are queued as mails.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from bot.core import digest, reminders, report, report_period, steps, tracking
from bot.core.config import Settings
from bot.dev.emulator import Emulator
from bot.dev.sandbox.demo import EXTRA_MEMBERS, HISTORY_SKIPPED, MEMBERS, fill_demo
from bot.dev.sandbox.demo_data import CANCEL_REASON, DEPUTY, EMAIL, FOLLOWED_UP, GUEST, MINUTES, REPORT_NOTES, TASK
from bot.dev.sandbox.demo_tracking import DELAY_REASON
from bot.render import report_layout, report_markdown
from storage.attendance_repository import taken as attendance_taken
from storage.database import Database
from storage.followup_models import (
    Attendance,
    AttendanceStatus,
    Minutes,
    MinutesCorrection,
    MinutesItem,
    MinutesStatus,
    Task,
    TaskStatus,
)
from storage.mail_models import Mail, MailMode, MailPurpose
from storage.models import (
    Delivery,
    DeliveryKind,
    DeliveryStatus,
    MembershipStatus,
    Occurrence,
    RecommendationStatus,
    Rsvp,
    RsvpAnswer,
)
from storage.tracking_models import Tracking, TrackStatus
from storage.uow import UnitOfWork
from tests.harness import Clock, Person, make_settings, start_harness

NOVEMBER = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)  # Wed; the history is in 2026-H2
JANUARY = datetime(2027, 1, 14, 9, 0, tzinfo=UTC)  # Thu; 2027-H1 has just begun
PERSONAS = (  # as the chat page of the sandbox has them
    ("koordination", "Sabine", "Weber", "sabine_kim"),
    ("ana", "Ana", "Popescu", "ana_popescu"),
    ("mehmet", "Mehmet", "Yılmaz", "mehmet_y"),
    ("ioana", "Ioana", "Dumitru", "ioana_d"),
    ("lena", "Lena", "Hoffmann", "lena_h"),
    ("thomas", "Thomas", "Becker", "thomas_b"),
)
SLUGS = ("ak-eu", "ak-ehrenamt", "ak-arbeitsmarkt", "ag-soe", "lenkungskreis")


@dataclass
class Demo:
    db: Database
    users: dict[str, Any]
    settings: Settings
    now: datetime


@pytest.fixture(params=[NOVEMBER, JANUARY], ids=["november", "january"])
async def demo(request: pytest.FixtureRequest, emulator: Emulator, database_url: str) -> AsyncIterator[Demo]:
    users = {
        key: emulator.add_user(first, last_name=last, username=username, language_code="de")
        for key, first, last, username in PERSONAS
    }
    for person in EXTRA_MEMBERS:
        users[person.key] = emulator.add_user(
            person.first_name,
            last_name=person.last_name,
            username=person.username,
            language_code="de",
        )
    settings = make_settings(emulator, database_url, [users["koordination"].id])
    db = Database(database_url)
    try:
        await db.upgrade()
        await fill_demo(db, users, settings, request.param)
        yield Demo(db, users, settings, request.param)
    finally:
        await db.dispose()


async def test_people_are_in_every_group_and_the_guest_is_unknown(demo: Demo) -> None:
    async with demo.db.uow() as uow:
        groups = {g.slug: g for g in await uow.groups.active()}
        assert set(groups) == set(SLUGS)
        counts = await uow.digests.member_counts([g.id for g in groups.values()])
        assert all(4 <= counts[g.id] <= 8 for g in groups.values()), counts
        assert await uow.people.by_telegram_id(demo.users["thomas"].id) is None
        for key, (organisation, approved, pending) in MEMBERS.items():
            person = await uow.people.by_telegram_id(demo.users[key].id)
            assert person is not None and person.organisation == organisation
            memberships = await uow.memberships.of_person(person.id)
            by_status = {
                status: {m.group.slug for m in memberships if m.status is status}
                for status in (MembershipStatus.APPROVED, MembershipStatus.PENDING)
            }
            assert by_status == {
                MembershipStatus.APPROVED: set(approved),
                MembershipStatus.PENDING: set(pending),
            }
        assert len(await uow.memberships.with_status([MembershipStatus.PENDING])) == 2


async def test_every_group_held_sessions_with_zusagen(demo: Demo) -> None:
    async with demo.db.uow() as uow:
        held = (
            await uow.session.execute(
                select(Occurrence).where(Occurrence.starts_at < demo.now).options(selectinload(Occurrence.meeting))
            )
        ).scalars()
        sessions_of: dict[int, list[Occurrence]] = {}
        for occurrence in held:
            sessions_of.setdefault(occurrence.meeting.group_id, []).append(occurrence)
        groups = {g.id: g.slug for g in await uow.groups.active()}
        members = await uow.digests.member_counts(list(groups))
        assert {groups[g] for g, found in sessions_of.items() if len(found) >= 2} == set(SLUGS)
        for group_id, found in sessions_of.items():
            answers = await uow.meetings.rsvps(o.id for o in found)
            for occurrence in found:
                mine = [a for a in answers if a.occurrence_id == occurrence.id]
                yes = sum(1 for a in mine if a.answer is RsvpAnswer.YES)
                assert 0.4 <= yes / members[group_id] <= 0.9, (groups[group_id], yes)
                assert all(a.answered_at < occurrence.starts_at for a in mine)


async def test_the_report_has_sessions_topics_and_the_recommendations(demo: Demo) -> None:
    tz = demo.settings.timezone
    half = report_period.HalfYear(2026, 2)  # the running half-year in November, the last one in January
    async with demo.db.uow() as uow:
        built = await report.build(uow, half, demo.settings, demo.now)
        current = await report.build(uow, report_period.HalfYear.containing(demo.now, tz), demo.settings, demo.now)
    assert current.half.label == ("2026-H2" if demo.now == NOVEMBER else "2027-H1")
    assert [g.name for g in built.groups if g.held >= 2 and len(g.topics) >= 4] == [
        "Lenkungskreis Integration",
        "AK EU",
        "AK Ehrenamt",
        "AK Arbeitsmarktintegration",
        "AG Süd-Ost-Europa",
    ]
    assert all(line.confirmations >= 2 for g in built.groups for line in g.sessions)
    assert built.people_confirmed >= 15
    closed = [r for r in built.recommendations if r.closed_on is not None and "Clearingstelle" in (r.outcome or "")]
    assert len(closed) == 1
    assert [g.name for g in closed[0].by_group if g.agree + g.concerns + g.reject] == [
        "AK EU",
        "AK Arbeitsmarktintegration",
        "AG Süd-Ost-Europa",
    ]
    assert closed[0].respondents == 9 and len(closed[0].latest_comments) == 3
    assert "Clearingstelle Gesundheit als Modellprojekt" in report_markdown.to_markdown(report_layout.compose(built))
    # The open recommendation was published before now, so the running half-year shows it.
    (still_open,) = [r for r in current.recommendations if r.closed_on is None]
    assert (still_open.agree, still_open.concerns, still_open.everyone) == (3, 1, True)
    assert current.open_recommendations == 1
    # The coordination's notes on two groups are in the running half-year's report.
    remarks = {g.name: g.remark for g in current.groups if g.remark}
    assert remarks == {"AK EU": REPORT_NOTES["ak-eu"], "AK Ehrenamt": REPORT_NOTES["ak-ehrenamt"]}
    assert REPORT_NOTES["ak-eu"] in report_markdown.to_markdown(report_layout.compose(current))


async def test_what_the_coordinator_did_is_in_the_audit_log(demo: Demo) -> None:
    async with demo.db.uow() as uow:
        entries = await uow.audit.latest(500)
    actions = {entry.action for entry in entries}
    assert {"meeting.create", "meeting.cancel", "agenda.accept", "recommendation.publish"} <= actions
    assert {"recommendation.close", "announcement.send", "report_note.set", "tracking.set"} <= actions
    coordinator = demo.users["koordination"].id
    assert all(entry.actor is not None and entry.actor.telegram_id == coordinator for entry in entries)


async def test_the_digest_of_30_days_has_news_for_every_group(demo: Demo) -> None:
    tz = demo.settings.timezone
    async with demo.db.uow() as uow:
        groups = list(await uow.groups.active())
        period = digest.parse_period("30d", demo.now, tz)
        built = await digest.build(uow, groups, period, demo.now, demo.settings)
    by_slug = {g.slug: g for g in built.groups}
    assert all(g.news and g.held.total >= 1 and g.items.total >= 1 for g in built.groups)
    assert by_slug["ak-eu"].pending.total == 1 and by_slug["ag-soe"].pending.total == 1
    assert by_slug["ak-ehrenamt"].joined.total == 1
    assert by_slug["ak-arbeitsmarkt"].joined.total == 1
    coming = {slug: [s.title for s in g.coming.shown] for slug, g in by_slug.items()}
    assert coming["ak-eu"] == ["Wohnen und Anmeldung"]
    assert coming["ak-ehrenamt"] == ["Sprachcafés im Quartier"]
    assert coming["lenkungskreis"] == ["Sitzung des Lenkungskreises"]
    assert coming["ag-soe"][0] == "Jour fixe"
    assert [s.group for s in built.missing.without_agenda] == ["AK Ehrenamt"]
    assert [s.session.group for s in built.missing.few_confirmations] == ["AG Süd-Ost-Europa"]
    feedback = by_slug["lenkungskreis"].recommendations.shown
    assert len(feedback) == 1 and (feedback[0].agree, feedback[0].concerns) == (3, 1)
    assert built.new_feedback and not built.nothing_new


async def test_the_first_tick_sends_nothing_from_the_past(demo: Demo) -> None:
    """What the bot's delivery tick would send at `now`: only the invitations to the
    coming sessions, the open recommendation, the notice of the cancelled session and
    the announcement; the history's messages are skipped."""
    async with demo.db.uow() as uow:
        before = await _deliveries(uow)
        assert {d.error for d in before if d.status is DeliveryStatus.SKIPPED} == {
            HISTORY_SKIPPED,
            "recommendation closed",  # its messages and reminder, dropped when it was closed
        }
        await reminders.plan(uow, demo.settings, demo.now)
        due = await reminders.take_due(uow, demo.settings, demo.now)
        rows = {d.id: d for d in await _deliveries(uow)}
        sent = [rows[d.delivery_id] for d in due]
        # The deputy in force gets copies of her member's messages as they are sent:
        # made by that same round, sent by the next one.
        copies = [d for d in rows.values() if d.kind is DeliveryKind.DEPUTY_COPY]
        deputy = await uow.people.by_telegram_id(demo.users[DEPUTY[1]].id)
        assert deputy is not None and all(d.person_id == deputy.id for d in copies)
        assert all(rows[d.copy_of_id].id in {s.id for s in sent} for d in copies if d.copy_of_id)
        invitations = [d for d in sent if d.kind is DeliveryKind.INVITATION]
        recommended = [d for d in sent if d.kind is DeliveryKind.RECOMMENDATION]
        cancelled = [d for d in sent if d.kind is DeliveryKind.CANCELLED]
        announced = [d for d in sent if d.kind is DeliveryKind.ANNOUNCEMENT]
        assert len(invitations) + len(recommended) + len(cancelled) + len(announced) == len(sent)
        assert all(d.occurrence and d.occurrence.starts_at > demo.now for d in invitations)
        assert all(d.recommendation and d.recommendation.status is RecommendationStatus.OPEN for d in recommended)
        # 4 coming sessions to 6 + 6 + 5 + 6 members; the recommendation to all 24 members.
        assert len({(d.occurrence_id, d.person_id) for d in invitations}) == len(invitations) == 23
        assert len({d.person_id for d in recommended}) == len(recommended) == 24
        # The second session of AG Süd-Ost-Europa's series, cancelled with a reason: its 6 members.
        assert len({d.person_id for d in cancelled}) == len(cancelled) == 6
        assert {d.occurrence.cancel_reason for d in cancelled if d.occurrence} == {CANCEL_REASON}
        # The announcement to all groups: every member once.
        assert len({d.person_id for d in announced}) == len(announced) == 24
        # Nothing else is due; all that take_due skipped are reminders the invitation covers.
        assert {d.id for d in await uow.deliveries.due(demo.now)} == {d.id for d in sent} | {d.id for d in copies}
        assert {d.error for d in rows.values() if d.status is DeliveryStatus.SKIPPED} <= {
            HISTORY_SKIPPED,
            "recommendation closed",
            "covered by the invitation",
        }
        coming = await uow.session.execute(select(Rsvp).join(Occurrence).where(Occurrence.starts_at > demo.now))
        assert len(coming.scalars().all()) == 10


async def test_a_held_session_with_attendance_minutes_a_task_and_a_deputy(demo: Demo) -> None:
    """SPEC 13 in the demo: AK EU's latest session, its attendance taken, its minutes
    approved with a decision and an open task for Ana, and a deputy in force."""
    today = demo.now.astimezone(demo.settings.timezone).date()
    async with demo.db.uow() as uow:
        (minutes,) = (
            await uow.session.execute(
                select(Minutes).options(
                    selectinload(Minutes.occurrence).selectinload(Occurrence.meeting),
                    selectinload(Minutes.items).selectinload(MinutesItem.decisions),
                )
            )
        ).scalars()
        occurrence = minutes.occurrence
        assert occurrence.meeting.title == FOLLOWED_UP[2] and occurrence.starts_at < demo.now
        assert minutes.status is MinutesStatus.APPROVED and minutes.approved_at is not None
        assert minutes.approved_at < demo.now and minutes.approved_by_id is not None
        assert [i.title for i in minutes.items] == list(MINUTES) and all(i.result for i in minutes.items)
        assert [d.text for i in minutes.items for d in i.decisions] == [
            d for _, decisions in MINUTES.values() for d in decisions
        ]
        assert len((await uow.session.execute(select(MinutesCorrection))).scalars().all()) == 1

        rows = (await uow.session.execute(select(Attendance).options(selectinload(Attendance.person)))).scalars().all()
        assert {a.occurrence_id for a in rows} == {occurrence.id}
        taken = (await uow.session.execute(select(Occurrence.id).where(attendance_taken()))).scalars().all()
        assert taken == [occurrence.id], "attendance taken for that session only"
        members = [a for a in rows if a.person is not None]
        statuses = sorted(str(a.status) for a in members)
        assert statuses == ["absent", "excused", "present", "present", "present", "present"]
        assert all(a.organisation == a.person.organisation for a in members if a.person), "copied"
        (guest,) = [a for a in rows if a.person_id is None]
        assert (guest.guest_name, guest.organisation) == GUEST and guest.status is AttendanceStatus.PRESENT
        member_id = demo.users[DEPUTY[0]].id
        (represented,) = [a for a in members if a.deputy_id is not None]
        assert represented.person is not None and represented.person.telegram_id == member_id
        assert represented.checked_in_at is not None and represented.status is AttendanceStatus.PRESENT

        (task,) = (await uow.session.execute(select(Task).options(selectinload(Task.owner)))).scalars().all()
        assert task.status is TaskStatus.OPEN and task.due_on > today and task.text == TASK[2]
        assert task.owner is not None and task.owner.telegram_id == demo.users[TASK[1]].id
        assert task.occurrence_id == occurrence.id and task.minutes_item_id in {i.id for i in minutes.items}
        told = (await uow.session.execute(select(Delivery).where(Delivery.task_id == task.id))).scalars().all()
        assert {(d.kind, d.status) for d in told} == {
            (DeliveryKind.TASK_ASSIGNED, DeliveryStatus.SKIPPED),  # told when approved: history
            (DeliveryKind.TASK_DUE, DeliveryStatus.PENDING),
        }
        assert all(d.due_at > demo.now for d in told if d.kind is DeliveryKind.TASK_DUE)

        member = await uow.people.by_telegram_id(member_id)
        deputy = await uow.people.by_telegram_id(demo.users[DEPUTY[1]].id)
        assert member is not None and deputy is not None
        in_force = await uow.deputies.in_force_for_members([member.id], today)
        assert in_force[member.id].deputy_id == deputy.id == represented.deputy_id
        assert [d.member_id for d in await uow.deputies.in_force_of_deputy(deputy.id, today)] == [member.id]


async def _deliveries(uow: UnitOfWork) -> list[Delivery]:
    result = await uow.session.execute(
        select(Delivery).options(selectinload(Delivery.occurrence), selectinload(Delivery.recommendation))
    )
    return list(result.scalars().all())


def test_extra_members_fill_every_group() -> None:
    """The table alone: 4 to 8 approved members per group, and unique keys."""
    keys = [p.key for p in EXTRA_MEMBERS]
    assert len(keys) == len(set(keys)) and not set(keys) & set(MEMBERS)
    for slug in SLUGS:
        personas = [k for k, (_, approved, _) in MEMBERS.items() if slug in approved]
        extras = [p.key for p in EXTRA_MEMBERS if slug in p.groups]
        assert 4 <= len(personas) + len(extras) <= 8, slug


# --- tracking the steering circle's recommendations (SPEC 14) -------------------------------


async def test_a_tracked_recommendation_in_every_state(demo: Demo) -> None:
    """What `/track` lists: offen, in Arbeit, verzögert (with its reason), erledigt, and one
    overdue; red first, the finished one last; one not adopted is not on the list; the
    coordinator is not left in a question; review reminders wait for their dates."""
    today = tracking.local_today(demo.now, demo.settings)
    async with demo.db.uow() as uow:
        coordinator = await uow.people.by_telegram_id(demo.users["koordination"].id)
        assert coordinator is not None
        items = await tracking.tracking_list(uow, coordinator, demo.settings, demo.now)
        rows = (await uow.session.execute(select(Tracking))).scalars().all()
        reviews = (
            (await uow.session.execute(select(Delivery).where(Delivery.kind == DeliveryKind.REVIEW_DUE)))
            .scalars()
            .all()
        )
        assert steps.current(coordinator) is None
    assert {item.tracking.status for item in items} == set(TrackStatus)
    assert [item.light for item in items] == [
        tracking.Light.RED,
        tracking.Light.YELLOW,
        tracking.Light.GREEN,
        tracking.Light.GREEN,
        tracking.Light.DONE,
    ]
    red, delayed, *_, done = items
    assert red.tracking.due_on is not None and red.tracking.due_on < today
    assert delayed.tracking.status is TrackStatus.DELAYED and delayed.tracking.delay_reason == DELAY_REASON
    assert done.tracking.done_at is not None and 20 <= (demo.now - done.tracking.done_at).days <= 40
    assert all(item.tracking.responsible for item in items)
    assert [item.tracking.due_on for item in items if item.tracking.status is TrackStatus.OPEN] == [None]
    (clearing,) = [item for item in items if "Clearingstelle" in item.tracking.recommendation.text]
    assert clearing.tracking.status is TrackStatus.IN_PROGRESS and clearing.light is tracking.Light.GREEN
    assert clearing.tracking.review_on == today + timedelta(days=14)
    assert sorted(str(row.result) for row in rows) == ["adopted"] * 5 + ["rejected"]
    assert reviews and all(d.status is DeliveryStatus.PENDING and d.due_at > demo.now for d in reviews)
    assert {d.tracking_id for d in reviews} == {i.id for i in items if i.tracking.review_on is not None}


async def test_track_on_the_demo_shows_every_state(demo: Demo, emulator: Emulator) -> None:
    """The coordinator's `/track` on the real bot, at the demo's time: every light and state."""
    clock = Clock()
    clock.set(demo.now)
    harness, context = await start_harness(emulator, demo.settings, clock)
    try:
        coordinator = Person(harness, demo.users["koordination"])
        text = "\n".join(reply.text or "" for reply in await coordinator.send("/track"))
    finally:
        await context.__aexit__(None, None, None)
    for word in ("🔴", "🟡", "🟢", "✅", "offen", "in Arbeit", "verzögert", "erledigt", "Jobcenter Wuppertal"):
        assert word in text, word
    assert text.index("🔴") < text.index("🟡") < text.index("🟢") < text.index("✅")
    assert "Fahrtkosten" not in text, "not adopted: not tracked"


# --- e-mail beside Telegram (SPEC 15) -----------------------------------------------------


@pytest.fixture
async def mail_demo(emulator: Emulator, database_url: str) -> AsyncIterator[Demo]:
    """The demo with e-mail on, as the sandbox runs it (no mail is sent here)."""
    users = {
        key: emulator.add_user(first, last_name=last, username=username, language_code="de")
        for key, first, last, username in PERSONAS
    }
    for person in EXTRA_MEMBERS:
        users[person.key] = emulator.add_user(person.first_name, last_name=person.last_name, language_code="de")
    mail = {
        "SMTP_URL": "smtp://127.0.0.1:2525",
        "MAIL_FROM": "kim@stadt.example.de",
        "PUBLIC_URL": "http://127.0.0.1:8081",
    }
    settings = make_settings(emulator, database_url, [users["koordination"].id], **mail)
    db = Database(database_url)
    try:
        await db.upgrade()
        await fill_demo(db, users, settings, NOVEMBER)
        yield Demo(db, users, settings, NOVEMBER)
    finally:
        await db.dispose()


async def test_two_personas_confirmed_an_address_and_the_invitations_go_to_ana_by_mail(mail_demo: Demo) -> None:
    """Ana gets everything also by e-mail, Mehmet only when Telegram cannot reach him; both
    confirmed with the code, as in the chat. The old confirmation mails are history; the
    first round queues Ana's invitations, the recommendation and the announcement as mails."""
    demo = mail_demo
    async with demo.db.uow() as uow:
        people = {key: await uow.people.by_telegram_id(demo.users[key].id) for key in EMAIL}
        ids = {key: person.id for key, person in people.items() if person is not None}
        entries = await uow.mail.addresses_of(ids.values())
        assert {key: (entries[i].usable, entries[i].mode) for key, i in ids.items()} == {
            "ana": (EMAIL["ana"][0], MailMode.ALL),
            "mehmet": (EMAIL["mehmet"][0], MailMode.FALLBACK),
        }
        assert all(e.pending_address is None and e.confirmed_at < demo.now for e in entries.values())  # type: ignore[operator]
        assert all(steps.current(p) is None for p in people.values() if p is not None)
        old = (await uow.session.execute(select(Mail))).scalars().all()
        assert {(m.purpose, m.status, m.error) for m in old} == {
            (MailPurpose.CONFIRM, DeliveryStatus.SKIPPED, HISTORY_SKIPPED)
        }
        actions = [(e.action, e.actor_id) for e in await uow.audit.latest(500) if e.action.startswith("email.")]
        assert sorted(actions) == sorted(
            [("email.request", ids["ana"]), ("email.confirm", ids["ana"])]
            + [("email.request", ids["mehmet"]), ("email.confirm", ids["mehmet"]), ("email.mode", ids["mehmet"])]
        )

        await reminders.plan(uow, demo.settings, demo.now)
        due = await reminders.take_due(uow, demo.settings, demo.now)
        rows = {d.id: d for d in await _deliveries(uow)}
        mails = (await uow.session.execute(select(Mail).where(Mail.status == DeliveryStatus.PENDING))).scalars().all()
        assert {m.address for m in mails} == {EMAIL["ana"][0]}
        kinds = sorted(str(rows[m.delivery_id].kind) for m in mails if m.delivery_id is not None)
        assert kinds == sorted(["invitation", "invitation", "recommendation", "announcement", "cancelled"])
        assert {m.delivery_id for m in mails} <= {d.delivery_id for d in due}, "Telegram too (she is reachable)"
