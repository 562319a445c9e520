"""What the half-yearly report for the council committee contains (SPEC 7; `/report`, `kimbot report`).

The *Integrationsausschuss* receives a report on the steering circle
(Lenkungskreis Integration) and the working groups every half-year: the
sessions held with their participation, the topics of the agendas, the
recommendations with the groups' feedback and outcome, the state of each
group, an outlook. This module decides which figures and lists the report
holds; which half-year it is about is `bot.core.report_period`, and how it
reads (German, the council's structure, Markdown and Word) is
`bot.render.report`; the coordinator's notes per group are
`bot.core.report_notes`, the state of the recommendations `bot.core.report_tracking`.

Rules that live here:

- Only coordinators get a report. A half-year is refused as
  `report_period.period` refuses. The running half-year is marked with the
  day of the report (`Report.as_of`, "Stand: <date>") and counts what
  happened until now.
- Everything is counted up to `until`, the end of the half-year or, while
  it runs, now: a session counts when it started before then, a stance or a
  comment when it was given before then, an outcome when the recommendation
  was closed before then. So a report on a past half-year says the same
  whenever it is made, except the waiting join requests and the outlook.
- Every topic of the half-year is named (SPEC 7): each item accepted on a
  session held in the period, under that session, and each other item
  submitted in the period as a topic of its group with what became of it
  (on a coming session, waiting for one, not yet decided, rejected,
  withdrawn; *nachgereicht* when it came after the agenda deadline).
  `TOPICS_LISTED` per group is only a safety limit; the rest is counted.
- A short note per group by the coordinator (`bot.core.report_notes`,
  `/report <half-year> note <group> <text>`) is part of the group's state.
- Participation (SPEC 13): per held session the Zusagen "x von n
  eingeladenen Mitgliedern" (every member of the group at the session's
  start is invited), and where attendance was taken
  (`storage.attendance_repository.taken`) "anwesend: x von n Mitgliedern"
  over the members on the coordination's list, guests beside; a no-show is
  a Zusage recorded absent. Rates have their own denominators: the response
  rate is over the invitations, the attendance rate only over the sessions
  where attendance was taken. Approved minutes
  (`bot.core.minutes.approved_between`: by the session's time, so minutes
  approved after the half-year still appear under their session) are shown
  under their session, tasks with their state (done before `until`).
- No person is named: the report is a public council document. Comments
  are quoted with the author's organisation, when they gave one.
- The figures come from grouped queries (`storage.report_repository`) and
  every list is limited there; `build` turns them into a `Report` of plain
  values in local dates, with control characters removed from user text.
  Groups are listed with the steering circle first, the rest in id order; a
  group archived before the half-year, or created after it with nothing in
  the period, is left out.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from bot.core import minutes as minutes_of
from bot.core.config import Settings
from bot.core.people import require_coordinator
from bot.core.recommendation_screening import before_deadline
from bot.core.report_followup import MinutesReport, SessionAttendance, minutes_report, participation_totals
from bot.core.report_period import HalfYear, parse_half_year, period
from bot.core.report_tracking import TrackingReport
from bot.core.report_tracking import build as tracking_report
from storage.models import AgendaStatus, OccurrenceStatus, Person, StanceValue
from storage.report_sessions import TopicLineRow
from storage.uow import UnitOfWork

STEERING_SLUG = "lenkungskreis"

TOPICS_LISTED = 300
"""Topics named per group: every topic of a half-year, with this as a safety limit
(the rest is counted); a working group has a few dozen in a half-year."""
RECOMMENDATIONS_LISTED = 25
COMMENTS_LISTED = 3
"""The newest comments quoted per recommendation."""
UPCOMING_LISTED = 3
"""The next sessions named per group in the outlook."""

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


# --- the report as plain values ------------------------------------------------------------


@dataclass(frozen=True)
class SessionLine:
    day: date
    title: str
    location: str | None
    confirmations: int
    invited: int = 0
    """Members of the group when the session began (all are invited)."""
    confirmed_members: int = 0
    """Zusagen of those members: "x von n eingeladenen Mitgliedern"."""
    attendance: SessionAttendance | None = None
    """None: attendance was not taken."""
    minutes: MinutesReport | None = None
    """The approved minutes, if any."""


class TopicState:
    """What became of a topic (`TopicLine.state`)."""

    HANDLED = "handled"
    """Accepted on a session held in the period: listed under that session."""
    PLANNED = "planned"
    """Open, on a session still to come."""
    WAITING = "waiting"
    """Open, no session planned for it yet."""
    PENDING = "pending"
    """Open, on a session that is over or cancelled: not decided, goes to the next one."""
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


@dataclass(frozen=True)
class TopicLine:
    """A topic the report names (every topic of the half-year, SPEC 7)."""

    text: str
    submitted: date
    state: str
    """One of `TopicState`."""
    late: bool
    """*nachgereicht*: sent after the agenda deadline of its session."""
    accepted: bool
    session_day: date | None = None
    """The session it is on (for HANDLED: the session that handled it)."""
    session_title: str | None = None


@dataclass(frozen=True)
class GroupReport:
    name: str
    note: str | None
    steering: bool
    ended_on: date | None
    held: int = 0
    cancelled: int = 0
    confirmations: int = 0
    people: int = 0
    sessions: tuple[SessionLine, ...] = ()
    """Every held session, in time order (the table shows the first ones)."""
    topics: tuple[TopicLine, ...] = ()
    """Handled topics in session order, then the rest in the order they came."""
    topics_total: int = 0
    """How many topics the report names in all (`topics` may be cut)."""
    discussed: int = 0
    submitted: int = 0
    accepted: int = 0
    rejected: int = 0
    withdrawn: int = 0
    undecided: int = 0
    members: int = 0
    organisations: int = 0
    joined: int = 0
    left: int = 0
    pending: int = 0
    upcoming: tuple[tuple[date, str], ...] = ()
    upcoming_total: int = 0
    remark: str | None = None
    """The coordinator's note on this group for this report (`bot.core.report_notes`)."""
    invited: int = 0
    """Invitations to the held sessions (members at each session's start, summed)."""
    confirmed_members: int = 0
    """Zusagen of invited members: the response rate is over `invited`."""
    attendance_taken: int = 0
    """Held sessions whose attendance was taken: the attendance rate counts only these."""
    present: int = 0
    recorded: int = 0
    guests: int = 0
    no_shows: int = 0


@dataclass(frozen=True)
class GroupFeedback:
    name: str
    agree: int
    concerns: int
    reject: int
    comments: int


@dataclass(frozen=True)
class RecommendationReport:
    number: int
    published: date
    text: str
    groups: tuple[str, ...]
    everyone: bool
    deadline: date | None
    deadline_passed: bool
    closed_on: date | None
    outcome: str | None
    agree: int
    concerns: int
    reject: int
    comments: int
    respondents: int
    by_group: tuple[GroupFeedback, ...]
    latest_comments: tuple[tuple[date, str, str | None], ...]
    """(day, text, organisation), newest first."""


@dataclass(frozen=True)
class Report:
    half: HalfYear
    first_day: date
    last_day: date
    as_of: date | None
    """The day of the report while the half-year runs; None when it is over."""
    today: date
    created: datetime
    groups: tuple[GroupReport, ...]
    people_confirmed: int
    recommendations: tuple[RecommendationReport, ...]
    recommendations_total: int
    stances: int
    comments: int
    open_recommendations: int
    items_waiting: int
    members_distinct: int = 0
    """People who were members of any listed group at the end (each once)."""
    organisations_distinct: int = 0
    tracking: TrackingReport | None = None
    """"Stand der Empfehlungen" (`bot.core.report_tracking`); None: not part of this report."""

    @property
    def held(self) -> int:
        return sum(g.held for g in self.groups)

    @property
    def cancelled(self) -> int:
        return sum(g.cancelled for g in self.groups)

    @property
    def confirmations(self) -> int:
        return sum(g.confirmations for g in self.groups)

    @property
    def discussed(self) -> int:
        return sum(g.discussed for g in self.groups)

    @property
    def invited(self) -> int:
        return sum(g.invited for g in self.groups)

    @property
    def confirmed_members(self) -> int:
        return sum(g.confirmed_members for g in self.groups)

    @property
    def attendance_taken(self) -> int:
        return sum(g.attendance_taken for g in self.groups)

    @property
    def present(self) -> int:
        return sum(g.present for g in self.groups)

    @property
    def recorded(self) -> int:
        return sum(g.recorded for g in self.groups)

    @property
    def guests(self) -> int:
        return sum(g.guests for g in self.groups)

    @property
    def no_shows(self) -> int:
        return sum(g.no_shows for g in self.groups)


def _clean(text: str | None) -> str:
    """User text without control characters other than line breaks and tabs (XML refuses them)."""
    return _CONTROL.sub("", text or "")


async def build(uow: UnitOfWork, half: HalfYear, settings: Settings, now: datetime) -> Report:
    """The report's figures for one half-year (refused as `period` refuses)."""
    tz = settings.timezone
    span = await period(uow, half, settings, now)
    start, until = span.start, span.until
    repo = uow.reports
    await repo.for_aggregates()

    def day(moment: datetime) -> date:
        return moment.astimezone(tz).date()

    every_group = await repo.groups()
    groups = [g for g in every_group if g.archived_at is None or g.archived_at >= start]
    sessions = await repo.sessions(start, until)
    totals = await repo.session_totals(start, until)
    topics = await repo.topic_lines(start, until, TOPICS_LISTED)
    topic_totals = await repo.topic_totals(start, until)
    members = await repo.member_totals(start, until)
    upcoming, upcoming_counts = await repo.upcoming(until, UPCOMING_LISTED)

    participation = await repo.participation(start, until)
    approved = {m.occurrence_id: m for m in await minutes_of.approved_between(uow, start, until)}
    tasks = await repo.minutes_tasks([item.id for m in approved.values() for item in m.items])
    by_group: dict[int, list[SessionLine]] = {}
    for session in sessions:
        figures = participation.get(session.occurrence_id)
        minutes = approved.get(session.occurrence_id)
        by_group.setdefault(session.group_id, []).append(
            SessionLine(
                day(session.starts_at),
                _clean(session.title),
                _clean(session.location) or None,
                session.confirmations,
                invited=figures.invited if figures else 0,
                confirmed_members=figures.confirmed if figures else 0,
                attendance=(
                    SessionAttendance(
                        figures.present,
                        figures.recorded,
                        figures.excused,
                        figures.absent,
                        figures.guests,
                        figures.no_shows,
                    )
                    if figures and figures.taken
                    else None
                ),
                minutes=minutes_report(minutes, tasks, until, day, _clean) if minutes else None,
            )
        )
    topics_of: dict[int, list[TopicLine]] = {}
    topics_listed: dict[int, int] = {}
    for topic in topics:
        topics_of.setdefault(topic.group_id, []).append(_topic_line(topic, until, day))
        topics_listed[topic.group_id] = topic.listed
    remarks = await repo.notes(half.label)
    upcoming_of: dict[int, list[tuple[date, str]]] = {}
    for next_session in upcoming:
        upcoming_of.setdefault(next_session.group_id, []).append(
            (day(next_session.starts_at), _clean(next_session.title))
        )

    reports: list[GroupReport] = []
    names = {group.id: group.name for group in every_group}
    slugs = {group.id: group.slug for group in every_group}
    for group in groups:
        held = totals.get(group.id)
        if group.created_at >= span.end and held is None and group.id not in members:
            continue  # created after the half-year and nothing about it in the period
        t = topic_totals.get(group.id)
        m = members.get(group.id)
        ended = group.archived_at if group.archived_at is not None and group.archived_at < until else None
        reports.append(
            GroupReport(
                name=_clean(group.name),
                note=_clean(group.note) or None,
                steering=group.slug == STEERING_SLUG,
                ended_on=day(ended) if ended else None,
                held=held.held if held else 0,
                cancelled=held.cancelled if held else 0,
                confirmations=held.confirmations if held else 0,
                people=held.people if held else 0,
                sessions=tuple(by_group.get(group.id, ())),
                topics=tuple(topics_of.get(group.id, ())),
                topics_total=topics_listed.get(group.id, 0),
                discussed=t.discussed if t else 0,
                submitted=t.submitted if t else 0,
                accepted=t.accepted if t else 0,
                rejected=t.rejected if t else 0,
                withdrawn=t.withdrawn if t else 0,
                undecided=t.undecided if t else 0,
                members=m.members if m else 0,
                organisations=m.organisations if m else 0,
                joined=m.joined if m else 0,
                left=m.left if m else 0,
                pending=m.pending if m else 0,
                upcoming=tuple(upcoming_of.get(group.id, ())),
                upcoming_total=upcoming_counts.get(group.id, 0),
                remark=_clean(remarks.get(group.id)).strip() or None,
                **participation_totals(by_group.get(group.id, ())),
            )
        )
    reports.sort(key=lambda g: not g.steering)  # the steering circle first, the rest in id order

    rows, total = await repo.recommendations(start, until, RECOMMENDATIONS_LISTED)
    ids = [r.id for r in rows]
    targets = await repo.target_groups(ids)
    tallies = await repo.tallies(ids, until)
    group_tallies = await repo.group_tallies(ids, until)
    comment_counts = await repo.comment_counts(ids, until)
    group_comments = await repo.group_comment_counts(ids, until)
    respondents = await repo.respondents(ids, until)
    latest: dict[int, list[tuple[date, str, str | None]]] = {}
    for comment in await repo.latest_comments(ids, until, COMMENTS_LISTED):
        latest.setdefault(comment.recommendation_id, []).append(
            (day(comment.created_at), _clean(comment.text), _clean(comment.organisation).strip() or None)
        )
    all_group_ids = {g.id for g in groups}
    recommendations = []
    for row in rows:
        tally = tallies[row.id]
        target_ids = targets[row.id]
        feedback = []
        for group_id in sorted(target_ids, key=lambda g: (slugs.get(g) != STEERING_SLUG, g)):
            counts = group_tallies.get((row.id, group_id), Counter())
            feedback.append(
                GroupFeedback(
                    _clean(names[group_id]),
                    counts[StanceValue.AGREE],
                    counts[StanceValue.CONCERNS],
                    counts[StanceValue.REJECT],
                    group_comments.get((row.id, group_id), 0),
                )
            )
        recommendations.append(
            RecommendationReport(
                number=row.id,
                published=day(row.created_at),
                text=_clean(row.text),
                groups=tuple(f.name for f in feedback),
                everyone=len(target_ids) > 1 and all_group_ids <= set(target_ids),
                deadline=day(row.deadline) if row.deadline else None,
                deadline_passed=row.deadline is not None and not before_deadline(row.deadline, until),
                closed_on=day(row.closed_at) if row.closed_at else None,
                outcome=_clean(row.outcome) if row.closed_at else None,
                agree=tally[StanceValue.AGREE],
                concerns=tally[StanceValue.CONCERNS],
                reject=tally[StanceValue.REJECT],
                comments=comment_counts[row.id],
                respondents=respondents[row.id],
                by_group=tuple(feedback),
                latest_comments=tuple(latest.get(row.id, ())),
            )
        )
    stances, comments = await repo.feedback_totals(start, until)
    members_distinct, organisations_distinct = await repo.member_people(until, [g.id for g in groups])
    return Report(
        half=half,
        first_day=half.first_day,
        last_day=half.last_day,
        as_of=day(now) if span.running else None,
        today=day(now),
        created=now,
        groups=tuple(reports),
        people_confirmed=await repo.people_confirmed(start, until),
        recommendations=tuple(recommendations),
        recommendations_total=total,
        stances=stances,
        comments=comments,
        open_recommendations=await repo.open_recommendations(until),
        items_waiting=await repo.items_waiting(until),
        members_distinct=members_distinct,
        organisations_distinct=organisations_distinct,
        tracking=await tracking_report(uow, start, until, day(now) if span.running else half.last_day, _clean, day),
    )


def _topic_line(row: TopicLineRow, until: datetime, day: Callable[[datetime], date]) -> TopicLine:
    """What became of one topic, in local dates."""
    status = AgendaStatus(row.status)
    session_day = day(row.session_at) if row.session_at is not None else None
    title = _clean(row.session_title) or None
    if row.handled:
        state = TopicState.HANDLED
    elif status == AgendaStatus.REJECTED:
        state = TopicState.REJECTED
    elif status == AgendaStatus.WITHDRAWN:
        state = TopicState.WITHDRAWN
    elif row.session_at is None:
        state = TopicState.WAITING
    elif row.session_status == OccurrenceStatus.SCHEDULED and row.session_at >= until:
        state = TopicState.PLANNED
    else:
        state = TopicState.PENDING
    keeps_session = state in (TopicState.HANDLED, TopicState.PLANNED)
    return TopicLine(
        text=_clean(row.text),
        submitted=day(row.created_at),
        state=state,
        late=row.late,
        accepted=status == AgendaStatus.ACCEPTED,
        session_day=session_day if keeps_session else None,
        session_title=title if keeps_session else None,
    )


def requested(person: Person, settings: Settings, text: str) -> HalfYear:
    """`/report <half-year>`: the coordination only, checked before the text is read."""
    require_coordinator(person, settings)
    return parse_half_year(text)


def pressed(person: Person, settings: Settings, year: int, half: int) -> HalfYear:
    """A half-year button (checked again: the data may be forged)."""
    require_coordinator(person, settings)
    return HalfYear.of(year, half)
