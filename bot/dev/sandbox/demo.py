"""Demo: a realistic example for `kimbot sandbox --demo`, in German.

`fill_demo(db, users, settings, now)` fills an empty database so that the
coordination gets meaningful answers at once from `/digest 30d` and from
`/report` on the current half-year:

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
  three and closed with an outcome note 20 days ago.
- Coming (`COMING_SESSIONS`): AK EU next week, the fortnightly series of AG
  Süd-Ost-Europa (few Zusagen so far), AK Ehrenamt (nothing on its agenda
  yet: the digest names it under "Was fehlt") and the Lenkungskreis in about
  two weeks; topics on the agendas, some accepted; answers of some extra members
  (the personas' answers are left to the person trying the sandbox); and an
  open recommendation to all groups with a deadline, which four members have
  answered.

Everything goes through the core functions the commands use, each step with
its own time as `now`. The messages the history owed (its invitations, the
closed recommendation and its outcome) are marked skipped ("demo history"),
so the bot's first tick sends only the invitations to the coming sessions
and the open recommendation.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from bot.core import agenda, meetings, recommendations
from bot.core.config import Settings
from bot.core.dates import local_datetime
from storage.database import Database
from storage.models import (
    Delivery,
    DeliveryStatus,
    Membership,
    MembershipStatus,
    Person,
    RsvpAnswer,
)
from storage.uow import UnitOfWork

HISTORY_SKIPPED = "demo history"
"""The reason recorded on the messages the history owed."""


@dataclass(frozen=True)
class DemoPerson:
    key: str
    first_name: str
    last_name: str
    username: str | None
    organisation: str | None
    groups: tuple[str, ...]
    """Approved memberships (group slugs)."""
    pending: tuple[str, ...] = ()
    """Open join requests (group slugs)."""


def _extra(
    key: str,
    name: str,
    username: str | None,
    organisation: str | None,
    groups: str,
    pending: str = "",
) -> DemoPerson:
    first_name, last_name = name.split(" ", 1)
    return DemoPerson(
        key,
        first_name,
        last_name,
        username,
        organisation,
        tuple(groups.split()),
        tuple(pending.split()),
    )


# --- people -------------------------------------------------------------------------------

# persona key -> (organisation, approved groups, pending groups); "thomas" is a guest
MEMBERS: dict[str, tuple[str | None, tuple[str, ...], tuple[str, ...]]] = {
    "koordination": ("Stadt Wuppertal, KIM", (), ()),
    "ana": ("Caritasverband Wuppertal/Solingen", ("ak-eu", "ag-soe"), ()),
    "mehmet": ("Jobcenter Wuppertal", ("ak-arbeitsmarkt", "lenkungskreis"), ("ak-eu",)),
    "ioana": ("Romane Romnja e.V.", ("ag-soe",), ()),
    "lena": ("Freiwilligenagentur Wuppertal", ("ak-ehrenamt",), ()),
}

EXTRA_MEMBERS: tuple[DemoPerson, ...] = (
    _extra("m01", "Katarzyna Nowak", None, "Diakonie Wuppertal, Migrationsdienst", "ak-eu ag-soe"),
    _extra("m02", "Georgi Ivanov", "georgi_iv", "Bulgarischer Kulturverein e.V.", "ak-eu ag-soe"),
    _extra("m03", "Stefanie Krüger", "stefanie_k", "Stadt Wuppertal, Einwohnermeldeamt", "ak-eu"),
    _extra("m04", "Dimitrios Papadopoulos", "dimi_p", "AWO Wuppertal", "ak-eu ak-arbeitsmarkt"),
    _extra("m05", "Elena Radu", None, "Stadt Wuppertal, Gesundheitsamt", "ak-eu"),
    _extra("m06", "Ahmad Al-Khalil", "ahmad_ak", None, "ak-ehrenamt"),
    _extra("m07", "Monika Schulz", None, None, "ak-ehrenamt"),
    _extra("m08", "Yasemin Demir", "yasemin_d", "Nachbarschaftsheim Wuppertal e.V.", "ak-ehrenamt"),
    _extra("m09", "Jan Kowalski", None, "Diakonie Wuppertal, Freiwilligendienste", "ak-ehrenamt"),
    _extra("m10", "Rania Haddad", "rania_h", "Bergische Volkshochschule", "ak-arbeitsmarkt"),
    _extra("m11", "Frank Müller", None, "Agentur für Arbeit Solingen-Wuppertal", "ak-arbeitsmarkt"),
    _extra("m12", "Burak Aydın", "burak_a", "IQ Netzwerk, Anerkennungsberatung", "ak-arbeitsmarkt"),
    _extra("m13", "Claudia Schmitt", None, "Gesamtschule Barmen", "ag-soe"),
    _extra("m14", "Florin Stan", "florin_s", "Kommunales Integrationszentrum Wuppertal", "ag-soe"),
    _extra("m15", "Petra Lange", None, "Diakonie Wuppertal", "lenkungskreis"),
    _extra("m16", "Hasan Öztürk", "hasan_oe", "Integrationsrat Wuppertal", "lenkungskreis"),
    _extra("m17", "Birgit Hahn", None, "Stadt Wuppertal, Ausländerbehörde", "lenkungskreis"),
    _extra("m18", "Andreas Vogel", "a_vogel", "Caritasverband Wuppertal/Solingen", "lenkungskreis"),
    _extra("m19", "Sevgi Arslan", "sevgi_a", "Schulamt Wuppertal", "lenkungskreis", "ag-soe"),
    _extra("m20", "Aylin Kaya", "aylin_k", "Fachkräfteservice im KI Wuppertal", "ak-arbeitsmarkt"),
)

REGISTERED_DAYS_AGO = 150
JOINED_DAYS_AGO = {"m09": 9, "m20": 20}
"""Who joined recently (new members in the digest); everyone else REGISTERED_DAYS_AGO."""
PENDING_DAYS_AGO = 3

# --- history ------------------------------------------------------------------------------

# group -> (time, location) of its sessions
PLACES = {
    "ak-eu": ("14:00", "Rathaus Barmen, Raum 210"),
    "ak-ehrenamt": ("17:00", "Freiwilligenagentur Wuppertal, Seminarraum"),
    "ak-arbeitsmarkt": ("10:00", "Jobcenter Wuppertal, Besprechungsraum 3"),
    "ag-soe": ("10:00", "Online"),
    "lenkungskreis": ("16:00", "Rathaus Barmen, Raum 260"),
}

# (group, days ago (a holiday: the working day before), title) -> topics (author key, text), accepted
PAST_SESSIONS: dict[tuple[str, int, str], tuple[tuple[str, str], ...]] = {
    ("ak-eu", 102, "Arbeitsplanung"): (
        ("koordination", "Arbeitsplanung des AK EU für das Halbjahr"),
        ("m02", "Vorstellung des Bulgarischen Kulturvereins Wuppertal"),
    ),
    ("ak-eu", 74, "Schule und Kita"): (
        ("m01", "Wartezeiten auf Schulplätze für Seiteneinsteiger"),
        ("ana", "Kita-Plätze für Kinder aus zugewanderten EU-Familien"),
    ),
    ("ak-eu", 46, "Sprachkurse und Beratung"): (
        ("m04", "Integrationskurse: Zugang für EU-Bürgerinnen und -Bürger"),
        ("m03", "Anmeldung im Einwohnermeldeamt: Termine und Sprachmittlung"),
    ),
    ("ak-eu", 18, "Gesundheitliche Versorgung"): (
        ("m05", "Ergebnisse der Fallrekonstruktionen: Zugang zum Gesundheitssystem"),
        ("ana", "Krankenversicherung bei Minijobs: Fälle aus der Beratung"),
        ("koordination", "Angebots- und Maßnahmenpaket Gesundheit: nächste Schritte"),
    ),
    ("ak-ehrenamt", 95, "Patenschaften"): (
        ("m07", "Patenschaften für geflüchtete Familien aus der Ukraine"),
        ("lena", "Versicherungsschutz für Ehrenamtliche"),
    ),
    ("ak-ehrenamt", 60, "Neue Ehrenamtliche gewinnen"): (
        ("m08", "Ehrenamtsbörse im Stadtteil"),
        ("lena", "Ehrenamtskoordination: Wer vermittelt wen?"),
    ),
    ("ak-ehrenamt", 21, "Sprachbegleitung"): (
        ("lena", "Schulung für ehrenamtliche Sprachbegleiterinnen und Sprachbegleiter"),
        ("m06", "Erfahrungen als Lotse bei Behördengängen"),
    ),
    ("ak-arbeitsmarkt", 95, "Zugang zu Arbeit für EU-Zugewanderte"): (
        ("mehmet", "Leistungsanspruch von EU-Bürgerinnen und -Bürgern"),
        ("m11", "Minijobs und Scheinselbständigkeit"),
    ),
    ("ak-arbeitsmarkt", 67, "Anerkennung von Abschlüssen"): (
        ("m12", "Anerkennungsberatung: neue Sprechzeiten"),
        ("m04", "Pflegeberufe: Anpassungsqualifizierung"),
    ),
    ("ak-arbeitsmarkt", 39, "Sprachkurse und Beruf"): (
        ("m10", "Berufssprachkurse: freie Plätze und Wartelisten"),
        ("m11", "Sprachkurse in Teilzeit für Beschäftigte"),
    ),
    ("ak-arbeitsmarkt", 11, "Fachkräfteservice"): (
        ("mehmet", "Erste Bilanz des Fachkräfteservice im Kommunalen Integrationszentrum"),
        ("m12", "Anerkennungsverfahren: Wartezeiten bei der Bezirksregierung"),
    ),
    ("ag-soe", 53, "Jour fixe"): (
        ("m01", "Bericht aus der aufsuchenden Beratung in Oberbarmen"),
        ("ioana", "Elternarbeit mit Roma-Familien"),
    ),
    ("ag-soe", 39, "Jour fixe"): (
        ("m02", "Wohnsituation in Oberbarmen und Wichlinghausen"),
        ("m14", "Sprechstunde für Menschen ohne Krankenversicherung"),
    ),
    ("ag-soe", 25, "Jour fixe"): (
        ("ana", "Sprachmittlung für Rumänisch und Bulgarisch"),
        ("m13", "Seiteneinsteigerklassen: freie Plätze"),
    ),
    ("ag-soe", 11, "Jour fixe"): (
        ("ioana", "Schulbesuch von Kindern aus Rumänien und Bulgarien"),
        ("m14", "Gesundheit: was die Fallrekonstruktionen für Süd-Ost-Europa zeigen"),
    ),
    ("lenkungskreis", 99, "Sitzung des Lenkungskreises"): (
        ("koordination", "Bedarfsanalyse EU und Gesundheit: Auftrag an den AK EU"),
        ("m16", "Beteiligung der Migrantenorganisationen"),
    ),
    ("lenkungskreis", 57, "Sitzung des Lenkungskreises"): (
        ("m15", "Psychosoziale Unterstützung für Geflüchtete"),
        ("mehmet", "Fachkräftemangel: Aufbau des Fachkräfteservice"),
    ),
    ("lenkungskreis", 22, "Sitzung des Lenkungskreises"): (
        ("koordination", "Berichte aus den Arbeitskreisen"),
        ("m17", "Ausländerbehörde: Terminvergabe und Wartezeiten"),
        ("m19", "Fehlendes Lehrpersonal für Seiteneinsteigerklassen"),
    ),
}
SCHEDULED_BEFORE = timedelta(days=21)
"""How long before a past session the coordination planned it."""
ANSWERED_BEFORE = timedelta(days=3)
"""When the members began to answer, before a past session."""

CLOSED_RECOMMENDATION = (
    "ak-eu,ak-arbeitsmarkt,ag-soe Die Stadt richtet für EU-Zugewanderte ohne "
    "Krankenversicherung eine Clearingstelle Gesundheit ein. Die Arbeitskreise melden, "
    "welche Fälle aus ihrer Arbeit dorthin vermittelt werden sollten."
)
CLOSED_PUBLISHED, CLOSED_DEADLINE, CLOSED_ON = 56, 35, 20
"""Days ago: published, the deadline (the end of that day), closed."""
# member key -> (stance, comment or None); one answer a day after publishing
CLOSED_FEEDBACK: dict[str, tuple[str, str | None]] = {
    "ana": ("agree", "Die Clearingstelle würde vielen Familien aus unserer Beratung helfen."),
    "m01": ("agree", None),
    "m02": ("concerns", "Ohne Sprachmittlung für Bulgarisch erreicht sie die Familien nicht."),
    "m05": ("agree", "Das Gesundheitsamt kann Räume und eine Ärztin für die Sprechstunde stellen."),
    "ioana": ("agree", "Bitte die Beratung auch auf Romanes anbieten."),
    "m14": ("agree", None),
    "mehmet": ("concerns", "Die Schnittstelle zum Jobcenter muss vorher geklärt sein."),
    "m11": ("agree", None),
    "m12": ("reject", "Zuerst sollten die bestehenden Angebote bekannter werden."),
}
OUTCOME = (
    "Der Lenkungskreis hat die Rückmeldungen beraten und empfiehlt die Clearingstelle "
    "Gesundheit als Modellprojekt beim Gesundheitsamt. Sprachmittlung für Rumänisch und "
    "Bulgarisch wird eingeplant; die Schnittstelle zum Jobcenter klärt der AK "
    "Arbeitsmarktintegration bis zu seiner nächsten Sitzung."
)

# --- what is coming -----------------------------------------------------------------------

# (group, in how many days (a holiday: the working day after), "title [| recurrence]")
COMING_SESSIONS = (
    ("ak-eu", 7, "Wohnen und Anmeldung"),
    ("ag-soe", 3, "Jour fixe | alle 2 Wochen 6 mal"),
    ("ak-ehrenamt", 9, "Sprachcafés im Quartier"),
    ("lenkungskreis", 11, "Sitzung des Lenkungskreises"),
)
# group -> answers to its next session (only extra members answer)
YES, NO, MAYBE = RsvpAnswer.YES, RsvpAnswer.NO, RsvpAnswer.MAYBE
COMING_ANSWERS: dict[str, dict[str, RsvpAnswer]] = {
    "ak-eu": {"m01": YES, "m03": YES, "m04": MAYBE, "m02": NO},
    "ag-soe": {"m13": YES},
    "ak-ehrenamt": {"m07": YES, "m08": YES},
    "lenkungskreis": {"m15": YES, "m17": YES, "m18": MAYBE},
}

# (author key, group, text, accepted by the coordination), for the groups' next sessions
AGENDA = (
    ("ana", "ak-eu", "Bericht aus der Beratung: Anmeldung ohne festen Wohnsitz", True),
    ("ana", "ak-eu", "Wohnungsmarkt: Erfahrungen mit überbelegten Wohnungen", False),
    ("ioana", "ag-soe", "Schulanmeldung für Kinder aus Rumänien und Bulgarien", False),
    ("koordination", "lenkungskreis", "Halbjahresbericht an den Integrationsausschuss", True),
    ("mehmet", "lenkungskreis", "Sprachmittlung: Rückmeldungen der Arbeitskreise", False),
)

RECOMMENDATION = (
    "all Die Stadt richtet eine zentrale Stelle für Sprachmittlung ein. "
    "Die Arbeitskreise melden, welche Sprachen am meisten gebraucht werden."
)
RECOMMENDATION_DAYS = 10
"""The deadline: the end of the day this many days from now."""
PREPARED_BEFORE = timedelta(hours=1)
"""The coordination prepared what is coming this long before now: the bot's first tick
sends it, and the report (which counts what happened before now) shows the open
recommendation."""
# member key -> (stance, comment or None)
FEEDBACK: dict[str, tuple[str, str | None]] = {
    "ana": ("agree", "Gebraucht werden vor allem Rumänisch, Bulgarisch und Polnisch."),
    "mehmet": ("concerns", "Gut, aber wer bezahlt die Sprachmittlung für Termine im Jobcenter?"),
    "m15": ("agree", "In der Beratung der Diakonie fehlen vor allem Arabisch und Dari."),
    "m07": ("agree", None),
}


async def fill_demo(db: Database, users: dict[str, Any], settings: Settings, now: datetime) -> None:
    """Fill an empty database with the example (see the module docstring).

    `users` has an emulator user (`.id`, `.first_name`, `.last_name`,
    `.username`) for every key of MEMBERS and EXTRA_MEMBERS; the coordinator
    is "koordination". `now` is the sandbox's time (aware).
    """
    await _register(db, users, now)
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
    return [
        key for key, _, approved, _ in _registered() if slug in approved and _joined(key, now) < at
    ]


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
            await _past_session(db, users, settings, _request(slug, day, title), topics, now)
    await _closed_recommendation(db, users, settings, now)
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
) -> None:
    """Plan it three weeks before, put its topics on it, and record the members' answers."""
    start = local_datetime(request.day, request.at, settings.timezone)
    async with db.uow() as uow:
        people = await _people(uow, users)
        coordinator = people["koordination"]
        planned = await meetings.schedule(
            uow, coordinator, request, settings, start - SCHEDULED_BEFORE
        )
        group = planned.meeting.group
        proposed_at = start - settings.agenda_deadline - timedelta(days=1)
        for key, text in topics:
            placed = await agenda.propose(uow, people[key], group, text, settings, proposed_at)
            accepted_at = proposed_at + timedelta(hours=20)
            await agenda.accept(uow, coordinator, placed.item.id, settings, accepted_at)
        first_answer = start - ANSWERED_BEFORE
        answers = _answers(_members(group.slug, first_answer, now), f"{group.slug} {request.day}")
        for index, (key, answer) in enumerate(answers.items()):
            answered_at = first_answer + timedelta(hours=5 * index)
            await meetings.answer(
                uow, people[key], planned.occurrences[0].id, answer, settings, answered_at
            )
        await uow.commit()


def _answers(members: list[str], seed: str) -> dict[str, RsvpAnswer]:
    """Half to most of the members say yes, one no, one maybe (the same for the same seed)."""
    rng = random.Random(seed)
    order = rng.sample(members, len(members))
    yes = max(1, round(len(order) * rng.uniform(0.5, 0.85)))
    answers = dict.fromkeys(order[:yes], YES)
    answers.update(zip(order[yes:], (NO, MAYBE), strict=False))
    return answers


async def _closed_recommendation(
    db: Database, users: dict[str, Any], settings: Settings, now: datetime
) -> None:
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
        await recommendations.start_close(uow, coordinator, rid, settings)
        closed_at = now - timedelta(days=CLOSED_ON)
        await recommendations.close(uow, coordinator, OUTCOME, settings, closed_at)
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
        await uow.commit()
