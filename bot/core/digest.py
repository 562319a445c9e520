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
  Per group, under "Was fehlt", the held sessions of the period (started by
  now) whose attendance was not taken (`storage.attendance_repository.taken`)
  or whose minutes are not approved (none, a draft, or in review after their
  review period), each with its id and the command that fixes it
  (`/attendance 12`, `/minutes 12`); the overall "Was fehlt" counts them.
  Adopted recommendations past their due date (SPEC 14, `bot.core.tracking.overdue`,
  on the local date): in a group's digest those addressed to the group, in
  `all` and the scheduled digest every one; the 5 due longest ago named with
  `/track 7` to update each, the rest counted. They count as missing, so a
  scheduled digest never says "nothing new" over an overdue one.
- Lists show at most 5 entries ("und 3 weitere"), comments at most 3 per
  recommendation and group; every number is counted in SQL
  (`storage.digest_repository`).
- "Nothing new": no member joined, left or asked to join, no session was
  held, no item proposed, no stance or comment given in the period, and
  nothing is missing. The scheduled digest then says so in one line.

The digest lives in these modules; this one names them all, so a caller
imports the digest from one place:

- `bot.core.digest_model`: the digest as data (`Digest` and its parts) and
  the limits above (`SHOWN`, `COMING`, ...);
- `bot.core.digest_arguments`: reading `[group|all] [period]`;
- `bot.core.digest_build`: `build` from the queries, `for_command`,
  `for_schedule`;
- `bot.core.digest_schedule`: the scheduled digest, a delivery record owed
  to every coordinator (`plan`), and when an owed one is not sent
  (`screen_due`).

How a digest reads (Telegram, text, Markdown, JSON) and `kimbot digest`
are in `bot.render.digest`.
"""

from __future__ import annotations

from bot.core.digest_arguments import (
    ALL,
    DEFAULT_PERIOD,
    MAX_DAYS,
    parse_arguments,
    parse_period,
    parse_scope,
)
from bot.core.digest_build import WEEK, build, for_command, for_schedule
from bot.core.digest_model import (
    COMING,
    COMMENTS_SHOWN,
    DEADLINE_WITHIN,
    DEADLINES_SHOWN,
    FEW_CONFIRMATIONS_WITHIN,
    SHOWN,
    Digest,
    Feedback,
    GroupDigest,
    Items,
    Missing,
    Names,
    Period,
    Recommendations,
    Scope,
    Session,
    Sessions,
    Shortage,
    Unanswered,
)
from bot.core.digest_schedule import (
    PLAN_AHEAD,
    STALE_AFTER,
    is_schedule_time,
    next_schedule_time,
    plan,
    schedule_time,
    screen_due,
)

__all__ = [
    # the digest as data
    "COMING",
    "COMMENTS_SHOWN",
    "DEADLINE_WITHIN",
    "DEADLINES_SHOWN",
    "FEW_CONFIRMATIONS_WITHIN",
    "SHOWN",
    "Digest",
    "Feedback",
    "GroupDigest",
    "Items",
    "Missing",
    "Names",
    "Period",
    "Recommendations",
    "Scope",
    "Session",
    "Sessions",
    "Shortage",
    "Unanswered",
    # reading what was asked for
    "ALL",
    "DEFAULT_PERIOD",
    "MAX_DAYS",
    "parse_arguments",
    "parse_period",
    "parse_scope",
    # building it
    "WEEK",
    "build",
    "for_command",
    "for_schedule",
    # the schedule
    "PLAN_AHEAD",
    "STALE_AFTER",
    "is_schedule_time",
    "next_schedule_time",
    "plan",
    "schedule_time",
    "screen_due",
]
