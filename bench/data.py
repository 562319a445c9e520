"""One builder for the benchmarks' databases: as if the bot had been used for a while.

`fill(connection, size, start=..., end=..., now=..., upcoming=...)` inserts,
with SQLAlchemy core bulk inserts and deterministic (seeded) choices:

- a coordinator (`COORDINATOR_ID`) and `size.members` registered people
  (telegram ids from `FIRST_MEMBER_ID`, 37 organisations), one group each
  round robin; one in twenty has left, one in fifty waits for approval;
- `size.sessions` one-off sessions round robin over the groups: the share
  `1 - upcoming` held, spread over [start, end), the rest coming, spread over
  (now, now + `ahead`]; one in fifty cancelled; ten RSVPs per held session;
- `size.items` agenda items round robin over the sessions (accepted,
  proposed, rejected, withdrawn), each written a few days before its session;
- `size.recommendations` recommendations to two groups each, created in
  [start, end), every second one closed with an outcome, the open ones with a
  deadline after `now`;
- `size.feedback` feedback rows, half stances, half comments.

`bench/digest.py` uses the last 180 days with 30 % of the sessions still to
come; `bench/report.py` one finished half-year with none to come;
`bench/memory.py` 10,000 coming sessions and no history.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, insert, select

from storage.models import (
    AgendaItem,
    AgendaStatus,
    Comment,
    Group,
    Meeting,
    Membership,
    MembershipStatus,
    Occurrence,
    OccurrenceStatus,
    Person,
    Recommendation,
    RecommendationStatus,
    Rsvp,
    RsvpAnswer,
    Stance,
    StanceValue,
    recommendation_groups,
)

TIMEZONE = "Europe/Berlin"
COORDINATOR_ID = 900_000_001
FIRST_MEMBER_ID = 1_000_000
CHUNK = 10_000
RSVPS_PER_SESSION = 10


@dataclass(frozen=True)
class Size:
    members: int
    sessions: int
    items: int
    feedback: int
    recommendations: int

    def scaled(self, factor: float) -> Size:
        return replace(
            self,
            **{k: max(1, round(getattr(self, k) * factor)) for k in ("members", "sessions", "items", "feedback")},
            recommendations=max(1, round(self.recommendations * factor)),
        )


LARGE = Size(members=5_000, sessions=2_000, items=100_000, feedback=200_000, recommendations=100)
"""Half a year of a busy office; the growth benchmarks compare it with `LARGE.scaled(0.01)`."""


def member_id(n: int) -> int:
    return FIRST_MEMBER_ID + n


def fill(
    connection: Connection,
    size: Size,
    *,
    start: datetime,
    end: datetime,
    now: datetime,
    upcoming: float = 0.0,
    ahead: timedelta = timedelta(days=60),
) -> None:
    """The data set of `size` (see the module's docstring)."""
    rnd = random.Random(7)
    tz = ZoneInfo(TIMEZONE)
    span = end - start
    before = start - timedelta(days=30)
    group_ids = connection.execute(select(Group.id).order_by(Group.id)).scalars().all()

    def insert_all(table: object, rows: list[dict[str, object]]) -> None:
        for i in range(0, len(rows), CHUNK):
            connection.execute(insert(table), rows[i : i + CHUNK])  # type: ignore[arg-type]

    person = {
        "language": "de",
        "privacy_acknowledged_at": before,
        "registered_at": before,
        "created_at": before,
    }
    insert_all(
        Person,
        [
            {
                "telegram_id": COORDINATOR_ID,
                "display_name": "Koordination",
                "is_coordinator": True,
                **person,
            }
        ]
        + [
            {
                "telegram_id": member_id(n),
                "display_name": f"Mitglied {n}",
                "organisation": f"Träger {n % 37}",
                "is_coordinator": False,
                "unreachable_since": now - timedelta(days=3) if n % 97 == 0 else None,
                **person,
            }
            for n in range(size.members)
        ],
    )
    coordinator = connection.execute(select(Person.id).where(Person.telegram_id == COORDINATOR_ID)).scalar_one()
    people = (
        connection.execute(select(Person.id).where(Person.telegram_id != COORDINATOR_ID).order_by(Person.id))
        .scalars()
        .all()
    )
    members_of: dict[int, list[int]] = {g: [] for g in group_ids}
    memberships = []
    for n, person_id in enumerate(people):
        group = group_ids[n % len(group_ids)]
        status = (
            MembershipStatus.LEFT
            if n % 20 == 0
            else MembershipStatus.PENDING
            if n % 50 == 1
            else MembershipStatus.APPROVED
        )
        requested = before - timedelta(days=rnd.random() * 30)
        memberships.append(
            {
                "person_id": person_id,
                "group_id": group,
                "status": status,
                "requested_at": requested,
                "decided_at": requested + timedelta(hours=5) if status is not MembershipStatus.PENDING else None,
                "left_at": start + span * rnd.random() if status is MembershipStatus.LEFT else None,
            }
        )
        if status is MembershipStatus.APPROVED:
            members_of[group].append(person_id)
    insert_all(Membership, memberships)

    held_count = round(size.sessions * (1 - upcoming))
    starts = []
    for n in range(size.sessions):
        when = start + span * ((n + 0.5) / held_count) if n < held_count else now + ahead * rnd.random()
        starts.append(when.replace(second=0, microsecond=0) + timedelta(minutes=1))
    rnd.shuffle(starts)  # the groups' sessions interleave in time
    insert_all(
        Meeting,
        [
            {
                "group_id": group_ids[n % len(group_ids)],
                "title": f"Sitzung {n + 1}",
                "location": "Rathaus Barmen, Raum 210",
                "timezone": TIMEZONE,
                "start_local": when.astimezone(tz).replace(tzinfo=None),
                "duration_minutes": 120,
                "rrule": None,
                "materialized_until": now + timedelta(days=400),
                "created_by_id": coordinator,
                "created_at": min(when, now) - timedelta(days=14),
            }
            for n, when in enumerate(starts)
        ],
    )
    meetings = connection.execute(select(Meeting.id, Meeting.start_local).order_by(Meeting.id)).all()
    insert_all(
        Occurrence,
        [
            {
                "meeting_id": meeting_id,
                "original_local": local,
                "starts_at": when,
                "status": OccurrenceStatus.CANCELLED if n % 50 == 49 else OccurrenceStatus.SCHEDULED,
                "revision": 0,
            }
            for n, ((meeting_id, local), when) in enumerate(zip(meetings, starts, strict=True))
        ],
    )
    sessions = [
        (occurrence, group, when.replace(tzinfo=UTC) if when.tzinfo is None else when)
        for occurrence, group, when in connection.execute(
            select(Occurrence.id, Meeting.group_id, Occurrence.starts_at).join(Meeting).order_by(Occurrence.id)
        ).all()
    ]
    rsvps = []
    for occurrence, group, when in sessions:
        if when < now:
            for person_id in rnd.sample(members_of[group], min(RSVPS_PER_SESSION, len(members_of[group]))):
                rsvps.append(
                    {
                        "occurrence_id": occurrence,
                        "person_id": person_id,
                        "answer": rnd.choice(list(RsvpAnswer)),
                        "answered_at": when - timedelta(days=1),
                    }
                )
    insert_all(Rsvp, rsvps)

    statuses = (
        [AgendaStatus.ACCEPTED] * 5 + [AgendaStatus.PROPOSED] * 2 + [AgendaStatus.REJECTED, AgendaStatus.WITHDRAWN]
    )
    items = []
    for n in range(size.items):
        occurrence, group, when = sessions[n % len(sessions)]
        authors = members_of[group] or people  # a tiny data set may leave a group without members
        status = statuses[n % len(statuses)]
        items.append(
            {
                "group_id": group,
                "occurrence_id": occurrence,
                "author_id": authors[n % len(authors)],
                "text": f"Thema {n}: Bericht aus der Beratung zu Wohnen, Arbeit und Schule",
                "status": status,
                "position": n // len(sessions) + 1,
                "reason": "Passt besser in einen anderen Arbeitskreis." if status is AgendaStatus.REJECTED else None,
                "created_at": when - timedelta(days=1 + rnd.random() * 5),
            }
        )
    insert_all(AgendaItem, items)

    if not size.recommendations:
        return
    last = end - timedelta(days=16)
    recommendations = []
    for n in range(size.recommendations):
        created = start + (last - start) * (n / size.recommendations)
        closed = n % 2 == 1
        recommendations.append(
            {
                "text": f"Empfehlung {n + 1}: Mehr Sprachkurse am Abend anbieten, mit Kinderbetreuung im Stadtteil.",
                "status": RecommendationStatus.CLOSED if closed else RecommendationStatus.OPEN,
                "deadline": created + timedelta(days=14) if closed else now + timedelta(days=1 + n % 10),
                "outcome": "Die Stadt bietet zwei Abendkurse an." if closed else None,
                "created_by_id": coordinator,
                "created_at": created,
                "closed_at": created + timedelta(days=15) if closed else None,
                "closed_by_id": coordinator if closed else None,
            }
        )
    insert_all(Recommendation, recommendations)
    recommendation_ids = connection.execute(select(Recommendation.id).order_by(Recommendation.id)).scalars().all()
    targets = {
        r: (group_ids[n % len(group_ids)], group_ids[(n + 1) % len(group_ids)])
        for n, r in enumerate(recommendation_ids)
    }
    insert_all(
        recommendation_groups,
        [{"recommendation_id": r, "group_id": g} for r, pair in targets.items() for g in pair],
    )
    created_at = {r: row["created_at"] for r, row in zip(recommendation_ids, recommendations, strict=True)}

    def answered(r: int) -> datetime:
        return created_at[r] + timedelta(days=14) * rnd.random()  # type: ignore[operator]

    half = size.feedback // 2
    quota = -(-half // len(recommendation_ids))
    stances = []
    for n, r in enumerate(recommendation_ids):
        audience = members_of[targets[r][0]] + members_of[targets[r][1]]
        for k, person_id in enumerate(audience[:quota]):
            if len(stances) < half:
                stances.append(
                    {
                        "recommendation_id": r,
                        "person_id": person_id,
                        "value": list(StanceValue)[(n + k) % 3],
                        "answered_at": answered(r),
                    }
                )
    insert_all(Stance, stances)
    comments = []
    for k in range(size.feedback - len(stances)):
        r = recommendation_ids[k % len(recommendation_ids)]
        audience = members_of[targets[r][0]] or people
        comments.append(
            {
                "recommendation_id": r,
                "person_id": audience[k % len(audience)],
                "text": f"Kommentar {k + 1}: Wir brauchen Räume im Stadtteil und eine Kinderbetreuung am Abend.",
                "created_at": answered(r),
            }
        )
    insert_all(Comment, comments)
