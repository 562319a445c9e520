"""Demo: the steering circle's recommendations after closing (SPEC 14), for
`kimbot sandbox --demo` (`bot.dev.sandbox.demo`).

`/track` in the demo shows a tracked recommendation in every state, and the
report's "Stand der Empfehlungen" has something to say:

- the demo's closed recommendation (the Clearingstelle Gesundheit, closed 20
  days ago) is adopted and in Arbeit: due in about two months, review date in
  two weeks (green; `track_closed`);
- `TRACKED`, further recommendations of the Lenkungskreis, published and
  closed months ago: one just adopted, responsible set, no due date (offen,
  green); one verzögert with a reason (yellow); one whose due date has passed
  (red); one erledigt last month; and one closed as nicht angenommen (not
  tracked).

Everything goes through the core functions the chat uses
(`recommendation_closing`, `tracking_changes`), each step at its own time, so
the audit log has `recommendation.close` and `tracking.set` entries; the
coordinator's step is ended afterwards. Dates are counted in days from now,
so the lights are the same whenever the demo is made.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.core import recommendation_closing, recommendations, steps, tracking_changes
from bot.core.config import Settings
from bot.core.tracking_changes import Field
from bot.dev.sandbox.demo_data import CLOSED_ON, CLOSED_PUBLISHED, CLOSED_RECOMMENDATION, OUTCOME
from storage.database import Database
from storage.models import Person
from storage.tracking_models import RecommendationResult, TrackStatus
from storage.uow import UnitOfWork


@dataclass(frozen=True)
class Tracked:
    """A recommendation of the Lenkungskreis and what became of it (days counted back from now)."""

    text: str
    """As typed after `/recommend`: the target groups, then the text."""
    published: int
    closed: int
    result: RecommendationResult
    outcome: str
    responsible: str | None = None
    due: int | None = None
    """The due date, in days from today (negative: passed); set when it was closed."""
    review: int | None = None
    """The review date, in days from today (never passed); set when it was closed."""
    changes: tuple[tuple[int, TrackStatus, str | None], ...] = ()
    """(days ago, status, reason) in order."""
    stances: tuple[tuple[str, str], ...] = ()
    """(member key, stance) given in the days after it was published."""


CLOSED_TRACKING = Tracked(
    text=CLOSED_RECOMMENDATION,
    published=CLOSED_PUBLISHED,
    closed=CLOSED_ON,
    result=RecommendationResult.ADOPTED,
    outcome=OUTCOME,
    responsible="Gesundheitsamt Wuppertal",
    due=61,
    review=14,
    changes=((10, TrackStatus.IN_PROGRESS, None),),
)
"""What became of the demo's closed recommendation (`CLOSED_RECOMMENDATION`): in Arbeit."""

DELAY_REASON = (
    "Die Übersetzungen ins Bulgarische und Arabische fehlen noch. Das Übersetzungsbüro liefert erst im nächsten Monat."
)

TRACKED = (
    Tracked(
        text=(
            "ak-arbeitsmarkt,ak-eu Die Volkshochschule bietet Sprachkurse am Abend an, "
            "damit Berufstätige und Eltern teilnehmen können."
        ),
        published=30,
        closed=3,
        result=RecommendationResult.ADOPTED,
        outcome="Der Lenkungskreis hat die Empfehlung angenommen. Die Volkshochschule plant die Kurse.",
        responsible="Volkshochschule Wuppertal",
        stances=(("m10", "agree"), ("m04", "agree"), ("m11", "agree"), ("m03", "concerns")),
    ),
    Tracked(
        text=(
            "ak-eu,ag-soe Das Bürgerbüro legt mehrsprachige Infoblätter zur Anmeldung aus: "
            "auf Rumänisch, Bulgarisch, Arabisch und Türkisch."
        ),
        published=80,
        closed=60,
        result=RecommendationResult.ADOPTED,
        outcome="Der Lenkungskreis hat die Empfehlung angenommen. Das Bürgerbüro lässt die Infoblätter übersetzen.",
        responsible="Einwohnermeldeamt, Bürgerbüro Barmen",
        due=25,
        review=7,
        changes=((45, TrackStatus.IN_PROGRESS, None), (12, TrackStatus.DELAYED, DELAY_REASON)),
        stances=(("m03", "agree"), ("m02", "agree"), ("m14", "agree")),
    ),
    Tracked(
        text=(
            "ak-arbeitsmarkt Das Jobcenter bietet eine feste Sprechstunde zur Anerkennung "
            "ausländischer Berufsabschlüsse an (Anerkennungsberatung im Jobcenter)."
        ),
        published=110,
        closed=90,
        result=RecommendationResult.ADOPTED,
        outcome="Der Lenkungskreis hat die Empfehlung angenommen. Das Jobcenter richtet die Sprechstunde ein.",
        responsible="Jobcenter Wuppertal",
        due=-10,
        changes=((80, TrackStatus.IN_PROGRESS, None),),
        stances=(("m12", "agree"), ("m11", "agree"), ("m04", "concerns")),
    ),
    Tracked(
        text=(
            "ak-ehrenamt Ehrenamtliche Dolmetschende bekommen die Ehrenamtskarte NRW, "
            "auch wenn sie weniger als fünf Stunden in der Woche helfen."
        ),
        published=140,
        closed=120,
        result=RecommendationResult.ADOPTED,
        outcome="Der Lenkungskreis hat die Empfehlung angenommen. Die Ehrenamtsagentur klärt das mit dem Land.",
        responsible="Ehrenamtsagentur Wuppertal",
        due=-20,
        changes=((100, TrackStatus.IN_PROGRESS, None), (30, TrackStatus.DONE, None)),
        stances=(("m06", "agree"), ("m08", "agree"), ("m07", "agree")),
    ),
    Tracked(
        text=(
            "ak-eu,ak-arbeitsmarkt,ag-soe Die Stadt übernimmt die Fahrtkosten aller "
            "Teilnehmenden von Integrationskursen."
        ),
        published=75,
        closed=50,
        result=RecommendationResult.REJECTED,
        outcome=(
            "Der Lenkungskreis hat die Empfehlung nicht angenommen. Die Fahrtkosten übernimmt schon "
            "das Bundesamt für Migration und Flüchtlinge. Der AK Arbeitsmarktintegration informiert darüber."
        ),
        stances=(("m02", "agree"), ("m04", "concerns"), ("m11", "reject")),
    ),
)
"""The further recommendations, in the order they are published (ids count up)."""


async def track_closed(
    uow: UnitOfWork, coordinator: Person, recommendation_id: int, settings: Settings, now: datetime
) -> None:
    """The answers to the questions after the demo's recommendation was closed as adopted, and
    what happened since (`CLOSED_TRACKING`)."""
    await _track(uow, coordinator, recommendation_id, CLOSED_TRACKING, settings, now)


async def more_recommendations(db: Database, users: dict[str, Any], settings: Settings, now: datetime) -> None:
    """Publish `TRACKED`, let members answer, close them, and set what tracking needs.
    `users` as for `fill_demo` (the coordinator is "koordination")."""
    async with db.uow() as uow:
        people = {key: await uow.people.by_telegram_id(user.id) for key, user in users.items()}
        coordinator = people["koordination"]
        assert coordinator is not None
        for entry in TRACKED:
            published_at = now - timedelta(days=entry.published)
            published = await recommendations.recommend(uow, coordinator, entry.text, settings, published_at)
            assert isinstance(published, recommendations.Published)
            rid = published.recommendation.id
            for day, (key, stance) in enumerate(entry.stances, 1):
                member = people[key]
                assert member is not None
                await recommendations.give_stance(uow, member, rid, stance, published_at + timedelta(days=day))
            await recommendation_closing.choose_result(uow, coordinator, rid, entry.result, settings)
            closed_at = now - timedelta(days=entry.closed)
            await recommendation_closing.close(uow, coordinator, entry.outcome, settings, closed_at)
            if entry.result is RecommendationResult.ADOPTED:
                await _track(uow, coordinator, rid, entry, settings, now)
        await uow.commit()


async def _track(
    uow: UnitOfWork, coordinator: Person, rid: int, entry: Tracked, settings: Settings, now: datetime
) -> None:
    """As in the chat: the questions after closing (Zuständig, Fällig bis, Wiedervorlage, each
    answered or left for later), then the status changes, each at its time."""
    closed_at = now - timedelta(days=entry.closed)
    today = now.astimezone(settings.timezone).date()
    if entry.responsible is not None:
        await tracking_changes.answer(uow, coordinator, entry.responsible, settings, closed_at)
    else:
        await tracking_changes.skip(uow, coordinator, rid, settings, closed_at)
    for field, days in ((Field.DUE, entry.due), (Field.REVIEW, entry.review)):
        if days is None:
            await tracking_changes.skip(uow, coordinator, rid, settings, closed_at)
        else:
            day = today + timedelta(days=days)
            await tracking_changes.choose_date(uow, coordinator, rid, field, day, settings, closed_at)
    for days_ago, status, reason in entry.changes:
        at = now - timedelta(days=days_ago)
        await tracking_changes.set_status(uow, coordinator, rid, status, settings, at)
        if reason is not None:
            await tracking_changes.answer(uow, coordinator, reason, settings, at)
    steps.end(coordinator)
    await uow.flush()
