"""Building a digest from the digest's queries (`storage.digest_repository`):
for `/digest`, `kimbot digest` and the scheduled digest (the rules: `bot.core.digest`)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta

from bot.core import people
from bot.core.config import Settings
from bot.core.digest_arguments import parse_arguments
from bot.core.digest_model import (
    COMING,
    COMMENTS_SHOWN,
    DEADLINE_WITHIN,
    DEADLINES_SHOWN,
    FEW_CONFIRMATIONS_WITHIN,
    SHOWN,
    Digest,
    Feedback,
    FollowUp,
    FollowUps,
    GroupDigest,
    Items,
    Missing,
    Names,
    Overdue,
    Period,
    Recommendations,
    Scope,
    Session,
    Sessions,
    Shortage,
    Unanswered,
)
from bot.core.tracking import local_today, overdue_of
from storage.digest_rows import PersonRow, SessionRow
from storage.models import Group, Person, RsvpAnswer, StanceValue
from storage.uow import UnitOfWork

WEEK = timedelta(days=7)
"""The period of the scheduled digest: the 7 days before its schedule time."""


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
    by_mail = await repo.unreachable_by_mail(ids) if settings.mail_on else {}
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
    followup_counts, followup_lists = await repo.without_followup(ids, period.start, min(period.end, now), now, SHOWN)
    late = overdue_of(await uow.trackings.adopted(), ids if scope else None, local_today(now, settings))
    overdue_total, overdue = len(late), [Overdue.of(t) for t in late[:SHOWN]]

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
                FollowUps(
                    tuple(
                        FollowUp(f.id, f.title, f.starts_at, f.timezone, f.attendance_taken, f.minutes)
                        for f in followup_lists.get(group.id, [])
                    ),
                    followup_counts.get(group.id, 0),
                ),
                by_mail.get(group.id, 0),
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
        sum(followup_counts.values()),
        tuple(overdue),
        overdue_total,
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
