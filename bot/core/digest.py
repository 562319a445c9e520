"""Digests for the coordination (SPEC 7; `/digest` in SPEC 3; `kimbot digest` in SPEC 10).

A digest answers, per group, what happened in a period and what stands
open now: new and departed members, open join requests, sessions held and
coming (with their Zusagen, Absagen, Vielleicht), new agenda items, each open
recommendation with the group's tally per stance and its latest comments, and
the members Telegram no longer reaches. Above the groups, "Was fehlt" names
what the coordination should act on.

The rules (decisions where the specification is silent):

- Period: `7d` (the default) or any `<N>d` up to 3660 days means the N×24
  hours before now; `since 2026-01-01`, `since 01.01.2026` (also `seit`, `ab`)
  or a bare date mean from that day's midnight in TIMEZONE until now. A date
  in the future is refused. A period is (start, end]; the scheduled digest
  covers the 7 days before its DIGEST_SCHEDULE time, so consecutive weekly
  digests neither overlap nor leave a gap, even when one is sent late.
- New members: approved in the period (also those who left again since);
  departed: left in the period; pending requests and unreachable members
  (approved members who blocked the bot) are shown as they stand now.
- Sessions held: scheduled (not cancelled) sessions that started in the
  period. Coming: those starting in the next 14 days, at most 5 per group.
- New agenda items: proposed in the period and not withdrawn.
- Recommendations: the open ones to the group (nearest deadline first, at
  most 5), each with its tally per stance, its number of comments (how many
  came in the period) and its latest comments: the numbers of the
  recommendation as a whole, the same /feedback shows, under every group it
  is addressed to. (A tally per group would join every stance with its
  author's memberships, which does not scale.) A group without members
  shows no recommendations (nobody there can answer).
- "Was fehlt": sessions in the next 14 days with nothing on their agenda
  (no proposed or accepted item); open recommendations whose deadline falls
  within the next 3 days (the 3 nearest; more are only counted), with how
  many target members have not answered (a stance or a comment) and up to 5
  names; sessions in the next 7 days with
  fewer Zusagen than a third of the group's approved members (and at least 1).
- Lists show at most 5 entries ("und 3 weitere"), comments at most 3 per
  recommendation and group; every number is counted in SQL
  (`storage.digest_repository`).
- "Nothing new": no member joined, left or asked to join, no session was
  held, no item proposed, no stance or comment given in the period, and
  nothing is missing. The scheduled digest then says so in one line.

Scheduled digests are delivery records (`DeliveryKind.DIGEST`) sent by the
same timer and sender as reminders: `plan` owes every coordinator who has
written to the bot one record for the next DIGEST_SCHEDULE time (at or after
now, as UTC; written in the day before it; unique per coordinator and time,
so a second tick adds nothing), and `screen_due` drops a due record when digests are switched
off, when the schedule changed so that its time is no longer a schedule
time, when it is more than a day late (the next one comes), or when the
person is no longer a coordinator.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import re
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.core import people
from bot.core.config import DigestSchedule, Settings
from bot.core.dates import normalize, parse_date
from bot.core.errors import Key, Refusal
from bot.core.groups import resolve_group
from bot.render import digest as digest_render
from bot.render.texts import Texts
from storage.database import Database
from storage.digest_repository import CommentRow, ItemRow, PersonRow, SessionRow
from storage.models import (
    Delivery,
    DeliveryKind,
    DeliveryStatus,
    Group,
    Person,
    RsvpAnswer,
    StanceValue,
)
from storage.uow import UnitOfWork

SHOWN = 5
"""Entries of a list (names, sessions, items, recommendations) shown per group."""
COMMENTS_SHOWN = 3
"""Latest comments shown per recommendation and group."""
COMING = timedelta(days=14)
"""Coming sessions, and sessions without an agenda, are those of the next 14 days."""
FEW_CONFIRMATIONS_WITHIN = timedelta(days=7)
DEADLINE_WITHIN = timedelta(days=3)
DEADLINES_SHOWN = 3
"""Recommendations near their deadline named under "Was fehlt", the nearest first;
counting who has not answered touches every target member, so the rest are only counted."""
STALE_AFTER = timedelta(days=1)
"""A scheduled digest more than this late is skipped; the next one comes."""
PLAN_AHEAD = timedelta(days=1)
"""The record of a scheduled digest is written this long before its time (the
timer runs at least every 15 minutes, so it is there well before it is due)."""
WEEK = timedelta(days=7)
DEFAULT_PERIOD = "7d"
MAX_DAYS = 3660
ALL = ("all", "alle")

_DAYS = re.compile(r"(\d{1,5})\s*d")
_SINCE = re.compile(r"(?:since|seit|ab)\s+(\S+)")


# --- the digest as data ---------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """(start, end]: the last `days` days, or since a date (`since`)."""

    start: datetime
    end: datetime
    days: int | None = None
    since: date | None = None


@dataclass(frozen=True)
class Names:
    """Up to `SHOWN` people and how many there are in all."""

    people: tuple[PersonRow, ...]
    total: int

    @property
    def more(self) -> int:
        return self.total - len(self.people)


@dataclass(frozen=True)
class Session:
    id: int
    group: str
    title: str
    starts_at: datetime
    timezone: str
    yes: int
    no: int
    maybe: int
    agenda: int
    """Items on its agenda (proposed or accepted)."""


@dataclass(frozen=True)
class Sessions:
    shown: tuple[Session, ...]
    total: int


@dataclass(frozen=True)
class Items:
    shown: tuple[ItemRow, ...]
    total: int


@dataclass(frozen=True)
class Feedback:
    """One open recommendation and its feedback (all target members, as /feedback counts it)."""

    id: int
    text: str
    deadline: datetime | None
    agree: int
    concerns: int
    reject: int
    comments: int
    new: int
    """Stances and comments that came in the period."""
    latest: tuple[CommentRow, ...]


@dataclass(frozen=True)
class Recommendations:
    shown: tuple[Feedback, ...]
    total: int


@dataclass(frozen=True)
class GroupDigest:
    id: int
    slug: str
    name: str
    members: int
    joined: Names
    left: Names
    pending: Names
    unreachable: Names
    held: Sessions
    coming: Sessions
    items: Items
    recommendations: Recommendations

    @property
    def news(self) -> bool:
        """Something happened in the period, or a request waits for a decision."""
        return bool(
            self.joined.total
            or self.left.total
            or self.pending.total
            or self.held.total
            or self.items.total
            or any(f.new for f in self.recommendations.shown)
        )

    @property
    def empty(self) -> bool:
        """Nothing at all to show for the group."""
        return not (
            self.news or self.unreachable.total or self.coming.total or self.recommendations.total
        )


@dataclass(frozen=True)
class Unanswered:
    """An open recommendation near its deadline and the target members who have not answered."""

    id: int
    text: str
    deadline: datetime
    missing: Names


@dataclass(frozen=True)
class Shortage:
    """A session soon with few Zusagen."""

    session: Session
    members: int


@dataclass(frozen=True)
class Missing:
    without_agenda: tuple[Session, ...]
    without_agenda_total: int
    unanswered: tuple[Unanswered, ...]
    unanswered_total: int
    few_confirmations: tuple[Shortage, ...]
    few_confirmations_total: int

    @property
    def nothing(self) -> bool:
        return not (self.without_agenda_total or self.unanswered_total or self.few_confirmations_total)


@dataclass(frozen=True)
class Scope:
    """The one group a digest was asked for."""

    slug: str
    name: str


@dataclass(frozen=True)
class Digest:
    generated_at: datetime
    timezone: str
    period: Period
    scope: Scope | None
    """The one group asked for; None: all groups."""
    missing: Missing
    groups: tuple[GroupDigest, ...]
    new_feedback: bool
    """A stance or comment came in the period (on any open recommendation to the groups)."""
    scheduled: bool = False
    coming_days: int = COMING.days
    few_confirmations_days: int = FEW_CONFIRMATIONS_WITHIN.days
    deadline_days: int = DEADLINE_WITHIN.days

    @property
    def nothing_new(self) -> bool:
        return self.missing.nothing and not self.new_feedback and not any(g.news for g in self.groups)


# --- reading what was asked for ------------------------------------------------------


def parse_period(text: str, now: datetime, tz: ZoneInfo) -> Period:
    """`7d`, `30d`, `since 2026-01-01`, `since 01.01.2026` or a bare date (see the module docstring)."""
    value = " ".join(text.split()).casefold() or DEFAULT_PERIOD
    if match := _DAYS.fullmatch(value):
        days = int(match.group(1))
        if not 1 <= days <= MAX_DAYS:
            raise _bad_period(text)
        return Period(now - timedelta(days=days), now, days=days)
    match = _SINCE.fullmatch(value)
    day_text = match.group(1) if match else value
    try:
        day = parse_date(day_text)
    except Refusal:
        raise _bad_period(text) from None
    if day > now.astimezone(tz).date():
        raise Refusal("digest.since_future", date=f"{day:%d.%m.%Y}", example=Key("digest.example"))
    start = normalize(datetime.combine(day, time(0, 0)), tz).astimezone(UTC)
    return Period(start, now, since=day)


def _bad_period(text: str) -> Refusal:
    return Refusal("digest.bad_period", value=" ".join(text.split()), example=Key("digest.example"))


def parse_scope(text: str, groups: Sequence[Group]) -> Group | None:
    """A group by slug, name or unambiguous prefix; None for `all` (or nothing)."""
    wanted = " ".join(text.split())
    if not wanted or wanted.casefold() in ALL:
        return None
    try:
        return resolve_group(groups, wanted)
    except Refusal as refusal:
        if refusal.key == "groups.ambiguous":
            raise Refusal(
                "digest.ambiguous_group", text=wanted, names=refusal.params["names"], example=Key("digest.example")
            ) from None
        raise Refusal("digest.unknown_group", text=wanted, example=Key("digest.example")) from None


def _looks_like_period(text: str) -> bool:
    first = text.split()[0].casefold() if text.split() else ""
    return first[:1].isdigit() or first in ("since", "seit", "ab")


def parse_arguments(text: str, groups: Sequence[Group], now: datetime, tz: ZoneInfo) -> tuple[Group | None, Period]:
    """`[group|all] [period]`: the group's words come first, the period last.

    Every split of the words into a leading group and a trailing period is
    tried, the longest group first. When none fits, the refusal names the part
    that is wrong: the period when the words before it name a group (or when
    it alone looks like a period, `/digest 7x`), else the group (the words
    before a valid period: `/digest mars 30d` is about "mars").
    """
    words = text.split()
    period_error: Refusal | None = None
    group_error: Refusal | None = None
    named_period = False  # whether `group_error` is about the words before a valid period
    for split in range(len(words), -1, -1):
        group_text, period_text = " ".join(words[:split]), " ".join(words[split:])
        try:
            period = parse_period(period_text, now, tz)
        except Refusal as refusal:
            if period_error is None and (group_text or _looks_like_period(period_text)):
                try:
                    parse_scope(group_text, groups)
                    period_error = refusal
                except Refusal:
                    pass
            continue
        try:
            return parse_scope(group_text, groups), period
        except Refusal as refusal:
            if group_error is None or (period_text and not named_period):
                group_error, named_period = refusal, bool(period_text)
    raise period_error or group_error or _bad_period(text)


# --- building it ----------------------------------------------------------------------


async def build(
    uow: UnitOfWork,
    groups: Sequence[Group],
    period: Period,
    now: datetime,
    settings: Settings,
    *,
    scope: Group | None = None,
    scheduled: bool = False,
) -> Digest:
    """The digest of `groups` over `period`, as seen at `now`."""
    repo = uow.digests
    ids = [g.id for g in groups]
    members = await repo.member_counts(ids)
    joined = await repo.joined(ids, period.start, period.end, SHOWN)
    left = await repo.departed(ids, period.start, period.end, SHOWN)
    pending = await repo.pending(ids, SHOWN)
    unreachable = await repo.unreachable(ids, SHOWN)
    held = await repo.sessions(ids, period.start, period.end, SHOWN, latest_first=True)
    coming = await repo.sessions(ids, now, now + COMING, SHOWN, latest_first=False)
    items = await repo.new_items(ids, period.start, period.end, SHOWN)
    open_counts, open_lists = await repo.open_recommendations([g for g in ids if members.get(g)], SHOWN)
    shown_ids = {r.id for rows in open_lists.values() for r in rows}
    feedback = await repo.feedback(shown_ids, period.start, period.end)
    comments = await repo.latest_comments(shown_ids, COMMENTS_SHOWN)
    new_feedback = await repo.any_new_feedback(ids, period.start, period.end)

    without_total, without = await repo.without_agenda(ids, now, now + COMING, SHOWN)
    few_total, few = await repo.few_confirmations(ids, now, now + FEW_CONFIRMATIONS_WITHIN, SHOWN)
    deadline_total, near = await repo.deadlines_between(ids, now, now + DEADLINE_WITHIN, DEADLINES_SHOWN)

    sessions = [s for rows in (*held[1].values(), *coming[1].values()) for s in rows]
    sessions += [*without, *(s for s, _, _ in few)]
    rsvps = await repo.rsvp_counts({s.id for s in sessions})
    agendas = await repo.agenda_counts({s.id for rows in coming[1].values() for s in rows})
    names = {g.id: g.name for g in groups}

    def session(row: SessionRow) -> Session:
        answers = rsvps.get(row.id, Counter())
        return Session(
            row.id,
            names[row.group_id],
            row.title,
            row.starts_at,
            row.timezone,
            answers.get(RsvpAnswer.YES, 0),
            answers.get(RsvpAnswer.NO, 0),
            answers.get(RsvpAnswer.MAYBE, 0),
            agendas.get(row.id, 0),
        )

    def named(found: tuple[dict[int, int], dict[int, list[PersonRow]]], group_id: int) -> Names:
        return Names(tuple(found[1].get(group_id, [])), found[0].get(group_id, 0))

    def sessions_of(found: tuple[dict[int, int], dict[int, list[SessionRow]]], group_id: int) -> Sessions:
        return Sessions(tuple(session(s) for s in found[1].get(group_id, [])), found[0].get(group_id, 0))

    digests = []
    for group in groups:
        shown = []
        for row in open_lists.get(group.id, []):
            counts = feedback[row.id]
            shown.append(
                Feedback(
                    row.id,
                    row.text,
                    row.deadline,
                    counts.tally[StanceValue.AGREE],
                    counts.tally[StanceValue.CONCERNS],
                    counts.tally[StanceValue.REJECT],
                    counts.comments,
                    counts.new,
                    tuple(comments.get(row.id, [])),
                )
            )
        digests.append(
            GroupDigest(
                group.id,
                group.slug,
                group.name,
                members.get(group.id, 0),
                named(joined, group.id),
                named(left, group.id),
                named(pending, group.id),
                named(unreachable, group.id),
                sessions_of(held, group.id),
                sessions_of(coming, group.id),
                Items(tuple(items[1].get(group.id, [])), items[0].get(group.id, 0)),
                Recommendations(tuple(shown), open_counts.get(group.id, 0)),
            )
        )

    not_answered = await repo.not_answered([r.id for r in near], ids, SHOWN)
    unanswered = []
    for row in near:
        count, names_ = not_answered[row.id]
        if count:
            assert row.deadline is not None
            unanswered.append(Unanswered(row.id, row.text, row.deadline, Names(tuple(names_), count)))
    missing = Missing(
        tuple(session(s) for s in without),
        without_total,
        tuple(unanswered),
        len(unanswered) + max(0, deadline_total - len(near)),
        tuple(Shortage(session(s), group_members) for s, _, group_members in few),
        few_total,
    )
    chosen = Scope(scope.slug, scope.name) if scope is not None else None
    return Digest(now, settings.timezone_name, period, chosen, missing, tuple(digests), new_feedback, scheduled)


async def for_command(uow: UnitOfWork, person: Person, text: str, settings: Settings, now: datetime) -> Digest:
    """`/digest [group|all] [period]` for a coordinator (anyone else is refused)."""
    people.require_coordinator(person, settings)
    groups = list(await uow.groups.active())
    scope, period = parse_arguments(text, groups, now, settings.timezone)
    return await build(uow, [scope] if scope else groups, period, now, settings, scope=scope)


async def for_schedule(uow: UnitOfWork, settings: Settings, scheduled_for: datetime, now: datetime) -> Digest:
    """The scheduled digest: all groups, the 7 days before its schedule time."""
    groups = list(await uow.groups.active())
    period = Period(scheduled_for - WEEK, scheduled_for, days=7)
    return await build(uow, groups, period, now, settings, scheduled=True)


# --- the schedule ------------------------------------------------------------------------


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


# --- `kimbot digest` ------------------------------------------------------------------


def command_line(settings: Settings, args: argparse.Namespace) -> int:
    """`kimbot digest`: the digest on the terminal (text, md or json); 2 for a bad group or period."""
    return asyncio.run(_command_line(settings, args))


async def _command_line(settings: Settings, args: argparse.Namespace) -> int:
    texts = Texts()
    lang = settings.default_language
    now = datetime.now(UTC)
    db = Database(settings.database_url)
    try:
        await db.upgrade()
        async with db.reader() as uow:
            try:
                groups = list(await uow.groups.active())
                scope = parse_scope(args.group or "all", groups)
                period = parse_period(args.since or DEFAULT_PERIOD, now, settings.timezone)
            except Refusal as refusal:
                print(f"kimbot digest: {_plain_refusal(texts, lang, refusal)}", file=sys.stderr)
                return 2
            digest = await build(uow, [scope] if scope else groups, period, now, settings, scope=scope)
    finally:
        await db.dispose()
    if args.format == "json":
        output = digest_render.to_json(digest)
    elif args.format == "md":
        output = digest_render.to_markdown(texts, lang, digest)
    else:
        output = digest_render.to_text(texts, lang, digest)
    sys.stdout.write(output if output.endswith("\n") else output + "\n")
    return 0


def _plain_refusal(texts: Texts, lang: str, refusal: Refusal) -> str:
    """A refusal as a line for the terminal: the command line's example, no HTML."""
    params = {
        name: texts.get(lang, "digest.example_cli" if value == "digest.example" else value)
        if isinstance(value, Key)
        else value
        for name, value in refusal.params.items()
    }
    rendered = texts.get(lang, refusal.key, **params)
    return html.unescape(re.sub(r"<[^>]*>", "", rendered)).replace("\n", " ")
