"""Tracking the steering circle's recommendations (SPEC 14) through the emulator:
closing with a result ("Abschließen" → "Angenommen" → outcome note → the three
questions), /track with its traffic light and order, /track <id> with its
buttons (Zuständig, Fälligkeit, Stand with the reason for a delay,
Wiedervorlage), the review date's reminder at 09:00 local, the audit entries,
and bad input that gets a clear answer and changes nothing.

The scheduled digest is switched off here (`bot_env`), so that moving the
clock over a Monday sends only what these tests look at.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bot.core import tracking_changes
from bot.core.reminders import Due
from handlers.outbox import Batch
from handlers.tracking import render_review
from storage.admin_models import AuditEntry
from storage.models import Delivery, DeliveryKind, DeliveryStatus, Recommendation, RecommendationStatus
from storage.tracking_models import RecommendationResult, Tracking, TrackStatus

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # Tue 01.12.2026, 10:00 in Berlin
REFUSED = "Das darf nur die KIM-Koordination. Es wurde nichts geändert."
LATER = "Später festlegen"
REVIEW = "Wiedervorlage heute"


@pytest.fixture
def bot_env() -> dict[str, str]:
    return {"DIGEST_SCHEDULE": "off"}


@pytest.fixture
async def members(bot, coordinator):  # type: ignore[no-untyped-def]
    """Ana and Ben in AK EU."""
    bot.clock.set(START)
    found = {}
    for name in ("Ana", "Ben"):
        person = await bot.person(name, username=name.lower())
        await person.register(organisation=f"Verein {name}")
        await person.send("/join ak-eu")
        await coordinator.send(f"/approve @{name.lower()}")
        found[name] = person
    return found


def labels(message) -> list[list[str]]:  # type: ignore[no-untyped-def]
    return [[label for label, _ in row] for row in message.buttons]


async def publish(bot, coordinator, text: str) -> int:  # type: ignore[no-untyped-def]
    replies = await coordinator.send(f"/recommend ak-eu {text}")
    match = re.search(r"(?:Empfehlung|Recommendation) #(\d+)", replies[-1].text)
    assert match, replies[-1].text
    await bot.tick()
    return int(match.group(1))


async def close(coordinator, rid: int, result: str, outcome: str = "Der Rat hat zugestimmt.") -> list:  # type: ignore[no-untyped-def]
    """ "Abschließen" under /feedback <id>, the result, the outcome note: the replies to the note."""
    overview = (await coordinator.send(f"/feedback {rid}"))[-1]
    asked = (await coordinator.press("Abschließen", overview))[-1]
    await coordinator.press(result, asked)
    return await coordinator.send(outcome)


async def adopted(coordinator, rid: int) -> None:
    """Closed as adopted, every question left for later."""
    await close(coordinator, rid, "Angenommen")
    for _ in range(3):
        await coordinator.press(LATER)


async def tracking_of(bot, rid: int) -> Tracking:  # type: ignore[no-untyped-def]
    async with bot.db.reader() as uow:
        found = await uow.trackings.get(rid)
        assert found is not None
        return found


async def audit(bot, action: str) -> list[dict]:  # type: ignore[no-untyped-def]
    async with bot.db.reader() as uow:
        rows = (await uow.session.execute(select(AuditEntry).where(AuditEntry.action == action))).scalars().all()
        return [r.detail or {} for r in rows]


async def reviews(bot, rid: int) -> list[Delivery]:  # type: ignore[no-untyped-def]
    async with bot.db.reader() as uow:
        query = select(Delivery).where(Delivery.kind == DeliveryKind.REVIEW_DUE, Delivery.tracking_id == rid)
        return list((await uow.session.execute(query)).scalars().all())


# --- closing with a result ---------------------------------------------------------


async def test_closing_as_adopted_asks_for_the_tracking_then_track_shows_it_green(bot, coordinator, members):
    rid = await publish(bot, coordinator, "Mehrsprachige Infoblätter im Bürgerbüro")
    await members["Ana"].press("Zustimmung")
    overview = (await coordinator.send(f"/feedback {rid}"))[-1]
    asked = (await coordinator.press("Abschließen", overview))[-1]
    assert f"Wie hat der Lenkungskreis über Empfehlung #{rid} entschieden?" in asked.text
    assert labels(asked) == [["Angenommen"], ["Nicht angenommen"], ["Zur Kenntnis genommen"]]
    replies = await coordinator.press("Angenommen", asked)
    assert "Sie haben gewählt: angenommen" in replies[-1].text and "Beispiel:" in replies[-1].text
    assert next(m for m in coordinator.messages if m.message_id == asked.message_id).buttons == [], "chosen once"

    replies = await coordinator.send("Der Rat hat zugestimmt. Start im Frühjahr.")
    assert f"Empfehlung #{rid} ist abgeschlossen: angenommen" in replies[-2].text
    assert "haben: 1" in replies[-2].text
    question = replies[-1]
    assert f"Empfehlung #{rid} wird jetzt verfolgt" in question.text
    assert f"Wer ist für Empfehlung #{rid} zuständig?" in question.text and "Jobcenter Wuppertal" in question.text
    assert labels(question) == [[LATER]]

    replies = await coordinator.send("Jobcenter Wuppertal")
    assert "Gespeichert – Zuständig: Jobcenter Wuppertal" in replies[-1].text
    assert f"Bis wann soll Empfehlung #{rid} umgesetzt sein?" in replies[-1].text
    assert labels(replies[-1]) == [["29.12.2026", "01.03.2027", "01.06.2027"], [LATER]]
    replies = await coordinator.press("01.06.2027", replies[-1])
    assert "Gespeichert – Fällig bis: 01.06.2027" in replies[-1].text
    assert "(Wiedervorlage)" in replies[-1].text and labels(replies[-1])[-1] == [LATER]
    replies = await coordinator.press(LATER, replies[-1])
    card = replies[-1]
    assert "Es wurde nichts geändert." in card.text
    assert f"🟢 Empfehlung #{rid} · im Plan" in card.text
    assert "Mehrsprachige Infoblätter im Bürgerbüro" in card.text and "Für: AK EU" in card.text
    assert "Entscheidung des Lenkungskreises: angenommen (abgeschlossen am 01.12.2026)" in card.text
    for line in (
        "Zuständig: Jobcenter Wuppertal",
        "Fällig bis: 01.06.2027",
        "Stand: offen",
        "Wiedervorlage: noch offen",
    ):
        assert line in card.text
    assert labels(card) == [["Zuständig ändern", "Fälligkeit ändern"], ["Stand ändern", "Wiedervorlage ändern"]]

    replies = await coordinator.send("/track")
    listing = replies[-1]
    assert "Stand der Empfehlungen: 1 verfolgt, davon überfällig: 0, erledigt: 0" in listing.text
    assert "🔴 überfällig · 🟡 bald fällig oder verzögert · 🟢 im Plan · ✅ erledigt" in listing.text
    assert f"🟢 #{rid} Mehrsprachige Infoblätter im Bürgerbüro" in listing.text
    assert "Zuständig: Jobcenter Wuppertal · Fällig bis: 01.06.2027 · Stand: offen · Wiedervorlage: noch offen" in (
        listing.text
    )
    assert labels(listing) == [[f"#{rid} öffnen"]]
    replies = await coordinator.press(f"#{rid} öffnen", listing)
    assert f"🟢 Empfehlung #{rid} · im Plan" in replies[-1].text

    found = await tracking_of(bot, rid)
    assert found.result is RecommendationResult.ADOPTED and found.status is TrackStatus.OPEN
    assert (found.responsible, found.review_on) == ("Jobcenter Wuppertal", None)
    assert await audit(bot, "recommendation.close") == [{"result": "adopted"}]
    assert await audit(bot, "tracking.set") == [{"responsible": "Jobcenter Wuppertal"}, {"due": "2027-06-01"}]
    log = (await coordinator.send("/log 5"))[-1]
    assert f"Stand von Empfehlung #{rid} geändert" in log.text

    await bot.tick()
    outcome = members["Ana"].last
    assert f"Ergebnis zu Empfehlung #{rid}" in outcome.text and "Start im Frühjahr" in outcome.text
    assert "Entscheidung des Lenkungskreises: angenommen" in outcome.text


async def test_closing_as_not_adopted_or_noted_asks_nothing_more_and_is_not_tracked(bot, coordinator, members):
    r1 = await publish(bot, coordinator, "Sprachkurse am Abend")
    r2 = await publish(bot, coordinator, "Ehrenamtskarte für Dolmetschende")
    replies = await close(coordinator, r1, "Nicht angenommen", "Kein Geld im Haushalt.")
    assert f"Empfehlung #{r1} ist abgeschlossen: nicht angenommen" in replies[-1].text and replies[-1].buttons == []
    replies = await close(coordinator, r2, "Zur Kenntnis genommen")
    assert f"Empfehlung #{r2} ist abgeschlossen: zur Kenntnis genommen" in replies[-1].text
    assert (await tracking_of(bot, r1)).result is RecommendationResult.REJECTED
    assert (await tracking_of(bot, r2)).result is RecommendationResult.NOTED
    replies = await coordinator.send("/track")
    assert "Noch wird keine Empfehlung verfolgt" in replies[-1].text and "„angenommen“" in replies[-1].text
    assert replies[-1].buttons == []


# --- /track <id>: status, due date, order ------------------------------------------------


async def test_delayed_with_a_reason_is_yellow_and_done_is_listed_last(bot, coordinator, members):
    r1 = await publish(bot, coordinator, "Anerkennungsberatung im Jobcenter")
    r2 = await publish(bot, coordinator, "Sprachkurse am Abend")
    await adopted(coordinator, r1)
    await adopted(coordinator, r2)

    card = (await coordinator.send(f"/track #{r1}"))[-1]
    replies = await coordinator.press("Stand ändern", card)
    assert f"Wie ist der Stand von Empfehlung #{r1}?" in replies[-1].text
    assert labels(replies[-1]) == [["✓ offen", "in Arbeit"], ["verzögert", "erledigt"]]
    replies = await coordinator.press("verzögert", replies[-1])
    assert f"Warum verzögert sich Empfehlung #{r1}?" in replies[-1].text and "Beispiel:" in replies[-1].text
    assert (await tracking_of(bot, r1)).status is TrackStatus.OPEN, "nothing saved before the reason"
    replies = await coordinator.send("Die Übersetzung fehlt noch.")
    assert "Gespeichert – Stand: verzögert, Grund: Die Übersetzung fehlt noch." in replies[-1].text
    assert f"🟡 Empfehlung #{r1} · bald fällig oder verzögert" in replies[-1].text
    found = await tracking_of(bot, r1)
    assert (found.status, found.delay_reason) == (TrackStatus.DELAYED, "Die Übersetzung fehlt noch.")

    listing = (await coordinator.send("/track"))[-1].text
    assert listing.index(f"🟡 #{r1}") < listing.index(f"🟢 #{r2}")
    assert "Stand: verzögert, Grund: Die Übersetzung fehlt noch." in listing

    replies = await coordinator.press("Stand ändern", (await coordinator.send(f"/track {r1}"))[-1])
    assert labels(replies[-1]) == [["offen", "in Arbeit"], ["✓ verzögert", "erledigt"]]
    replies = await coordinator.press("erledigt", replies[-1])
    assert "Gespeichert – Stand: erledigt" in replies[-1].text
    assert f"✅ Empfehlung #{r1} · erledigt" in replies[-1].text and "Erledigt am 01.12.2026." in replies[-1].text
    found = await tracking_of(bot, r1)
    assert found.status is TrackStatus.DONE and found.delay_reason is None and found.done_at is not None
    listing = (await coordinator.send("/track"))[-1]
    assert listing.text.index(f"🟢 #{r2}") < listing.text.index(f"✅ #{r1}"), "the finished ones last"
    assert "erledigt: 1" in listing.text
    assert labels(listing) == [[f"#{r2} öffnen", f"#{r1} öffnen"]]
    statuses = [d.get("status") for d in await audit(bot, "tracking.set")]
    assert statuses == ["delayed", "done"]
    assert (await audit(bot, "tracking.set"))[0]["reason"] == "Die Übersetzung fehlt noch."


async def test_a_typed_due_date_turns_yellow_then_red_when_it_has_passed(bot, coordinator, members):
    rid = await publish(bot, coordinator, "Sprachkurse am Abend")
    await adopted(coordinator, rid)
    replies = await coordinator.press("Fälligkeit ändern", (await coordinator.send(f"/track {rid}"))[-1])
    assert labels(replies[-1])[-1] == ["Nicht ändern"]
    replies = await coordinator.send("15.12.2026")
    assert "Gespeichert – Fällig bis: 15.12.2026" in replies[-1].text
    assert f"🟢 Empfehlung #{rid}" in replies[-1].text, "due in 15 days: on track"
    bot.clock.set(datetime(2026, 12, 2, 9, 0, tzinfo=UTC))
    assert f"🟡 #{rid}" in (await coordinator.send("/track"))[-1].text, "due within 14 days"
    bot.clock.set(datetime(2026, 12, 15, 22, 59, tzinfo=UTC))  # 23:59 on the due date in Berlin
    assert f"🟡 #{rid}" in (await coordinator.send("/track"))[-1].text
    bot.clock.set(datetime(2026, 12, 15, 23, 0, tzinfo=UTC))  # 00:00 the day after
    listing = (await coordinator.send("/track"))[-1].text
    assert f"🔴 #{rid}" in listing and "überfällig: 1" in listing
    card = (await coordinator.send(f"/track {rid}"))[-1].text
    assert f"🔴 Empfehlung #{rid} · überfällig" in card


# --- the review date ---------------------------------------------------------------------


async def test_the_review_reminder_comes_at_nine_on_the_review_date_and_only_for_the_newest_date(
    bot, coordinator, members
):
    rid = await publish(bot, coordinator, "Mehrsprachige Infoblätter im Bürgerbüro")
    await close(coordinator, rid, "Angenommen")
    await coordinator.press(LATER)
    await coordinator.press(LATER)
    replies = await coordinator.send("10.12.2026")
    assert "Gespeichert – Wiedervorlage: 10.12.2026" in replies[-1].text
    assert "Wiedervorlage: 10.12.2026" in replies[-1].text
    replies = await coordinator.press("Wiedervorlage ändern", replies[-1])
    replies = await coordinator.send("12.12.2026")
    assert "Gespeichert – Wiedervorlage: 12.12.2026" in replies[-1].text
    assert len(await reviews(bot, rid)) == 2

    bot.clock.set(datetime(2026, 12, 10, 8, 0, 1, tzinfo=UTC))  # 09:00 on the first date
    await bot.tick()
    assert not any(REVIEW in t for t in coordinator.texts), "the earlier date was replaced"
    bot.clock.set(datetime(2026, 12, 12, 7, 59, tzinfo=UTC))  # 08:59 on the review date
    await bot.tick()
    assert not any(REVIEW in t for t in coordinator.texts), "not before 09:00"
    bot.clock.set(datetime(2026, 12, 12, 8, 0, 1, tzinfo=UTC))
    await bot.tick()
    reminders = [m for m in coordinator.messages if REVIEW in m.text]
    assert len(reminders) == 1
    reminder = reminders[0]
    assert f"Wiedervorlage heute: Empfehlung #{rid}" in reminder.text
    assert "Mehrsprachige Infoblätter im Bürgerbüro" in reminder.text and "Wiedervorlage: 12.12.2026" in reminder.text
    assert labels(reminder) == [["Stand ändern"], ["Neue Wiedervorlage"], ["Fälligkeit ändern"]]
    statuses = sorted((d.revision, d.status) for d in await reviews(bot, rid))
    assert statuses == [(1, DeliveryStatus.SKIPPED), (2, DeliveryStatus.SENT)]
    await bot.tick()
    assert len([m for m in coordinator.messages if REVIEW in m.text]) == 1, "sent once"

    replies = await coordinator.press("Stand ändern", reminder)
    replies = await coordinator.press("in Arbeit", replies[-1])
    assert "Gespeichert – Stand: in Arbeit" in replies[-1].text
    replies = await coordinator.press("Neue Wiedervorlage", reminder)
    assert labels(replies[-1]) == [["09.01.2027", "12.03.2027", "12.06.2027"], ["Nicht ändern"]]
    replies = await coordinator.press("12.03.2027", replies[-1])
    assert "Gespeichert – Wiedervorlage: 12.03.2027" in replies[-1].text
    assert len(await reviews(bot, rid)) == 3


async def test_a_review_date_today_after_nine_is_reminded_at_once(bot, coordinator, members):
    rid = await publish(bot, coordinator, "Sprachkurse am Abend")
    await adopted(coordinator, rid)
    await coordinator.press("Wiedervorlage ändern", (await coordinator.send(f"/track {rid}"))[-1])
    await coordinator.send("01.12.2026")
    await bot.tick()
    assert any(f"Wiedervorlage heute: Empfehlung #{rid}" in t for t in coordinator.texts)


# --- bad input ---------------------------------------------------------------------------


async def test_bad_input_gets_a_clear_answer_and_changes_nothing(bot, coordinator, members):
    tracked = await publish(bot, coordinator, "Sprachkurse am Abend")
    rejected = await publish(bot, coordinator, "Ehrenamtskarte für Dolmetschende")
    still_open = await publish(bot, coordinator, "Mehrsprachige Infoblätter")
    await adopted(coordinator, tracked)
    await close(coordinator, rejected, "Nicht angenommen")

    card = (await coordinator.send(f"/track {tracked}"))[-1]
    await coordinator.press("Fälligkeit ändern", card)
    cases = [
        ("30.11.2026", "Das Datum 30.11.2026 liegt in der Vergangenheit"),
        ("31.02.2027", "31.02.2027"),
        ("/track", f"🟢 #{tracked}"),  # a command: the bot waits for the date no more
        (f"/track {still_open}", f"Empfehlung #{still_open} ist noch offen"),
        (f"/track {rejected}", f"Empfehlung #{rejected} wurde nicht angenommen"),
        ("/track 99", "Eine Empfehlung #99 gibt es nicht"),
        ("/track abc", "„abc“ ist keine Nummer einer Empfehlung"),
        ("/stand 7 8", "„7 8“ ist keine Nummer"),
    ]
    for text, expected in cases:
        before = await bot.every_row()
        replies = await coordinator.send(text)
        assert len(replies) == 1 and expected in replies[0].text, (text, [r.text for r in replies])
        if text != "/track":  # (which ends the step that waited for the date)
            assert await bot.every_row() == before, f"{text} changed the database"
    assert "Beispiel: /track 7" in (await coordinator.send("/track abc"))[-1].text

    await coordinator.press("Fälligkeit ändern", card)
    before = await bot.every_row()
    replies = await coordinator.press_data(f"tt:{tracked}:0:20261101", card)
    assert "Das Datum 01.11.2026 liegt in der Vergangenheit" in replies[-1].text
    replies = await coordinator.press_data(f"tt:{tracked}:0:20261399", card)
    assert "Dieser Knopf gilt nicht mehr" in replies[-1].text
    replies = await coordinator.press_data(f"tf:{rejected}:due", card)
    assert f"Empfehlung #{rejected} wurde nicht angenommen" in replies[-1].text
    replies = await coordinator.press_data(f"ts:{still_open}:done", card)
    assert f"Empfehlung #{still_open} ist noch offen" in replies[-1].text
    assert await bot.every_row() == before
    found = await tracking_of(bot, tracked)
    assert found.due_on is None and await audit(bot, "tracking.set") == []

    for member in members.values():
        before = await bot.every_row()
        for text in ("/track", f"/track {tracked}", "/wiedervorlage abc"):
            assert [r.text for r in await member.send(text)] == [REFUSED]
        replies = await member.press_data(f"ts:{tracked}:done", member.last)
        assert [r.text for r in replies] == [REFUSED]
        assert await bot.every_row() == before


async def test_a_responsible_too_long_or_empty_is_explained(bot, coordinator, members):
    rid = await publish(bot, coordinator, "Sprachkurse am Abend")
    await close(coordinator, rid, "Angenommen")
    before = await bot.every_row()
    replies = await coordinator.send("x" * 201)
    assert "höchstens 200 Zeichen" in replies[-1].text and "Jobcenter Wuppertal" in replies[-1].text
    assert await bot.every_row() == before
    replies = await coordinator.send("Amt für Integration")
    assert "Gespeichert – Zuständig: Amt für Integration" in replies[-1].text


# --- English ---------------------------------------------------------------------------------


async def test_closing_and_tracking_in_english(bot, coordinator, members):
    await coordinator.send("/language en")
    rid = await publish(bot, coordinator, "Evening language courses")
    overview = (await coordinator.send(f"/feedback {rid}"))[-1]
    asked = (await coordinator.press("Close", overview))[-1]
    assert f"How did the steering circle decide on recommendation #{rid}?" in asked.text
    assert labels(asked) == [["Adopted"], ["Not adopted"], ["Taken note of"]]
    replies = await coordinator.press("Adopted", asked)
    assert "You chose: adopted" in replies[-1].text
    replies = await coordinator.send("The council agreed.")
    assert f"Recommendation #{rid} is closed: adopted" in replies[-2].text
    assert f"Who is responsible for recommendation #{rid}?" in replies[-1].text
    await coordinator.send("Integration office")
    replies = await coordinator.press("Set later")
    assert "(review date)" in replies[-1].text
    replies = await coordinator.press("Set later")
    assert f"🟢 Recommendation #{rid} · on track" in replies[-1].text
    assert "Responsible: Integration office" in replies[-1].text and "Due by: not set yet" in replies[-1].text
    listing = (await coordinator.send("/track"))[-1]
    assert "Where the recommendations stand" in listing.text and labels(listing) == [[f"Open #{rid}"]]
    replies = await coordinator.press("Change status", (await coordinator.send(f"/track {rid}"))[-1])
    assert labels(replies[-1]) == [["✓ open", "in progress"], ["delayed", "done"]]


async def test_a_long_list_is_split_between_items_each_message_with_its_buttons(bot, coordinator, members):
    """Forty tracked recommendations with long texts and long names of the responsible
    office (written as rows: publishing forty through the chat adds nothing here)."""
    async with bot.db.uow() as uow:
        group = await uow.groups.by_slug("ak-eu")
        for number in range(40):
            recommendation = Recommendation(text=f"Empfehlung Nummer {number} " + "lang " * 600)
            recommendation.status, recommendation.created_at, recommendation.closed_at = (
                RecommendationStatus.CLOSED,
                START,
                START,
            )
            recommendation.groups = [group]
            uow.session.add(recommendation)
            await uow.flush()
            row = tracking_changes.record_result(uow, recommendation.id, RecommendationResult.ADOPTED, START)
            row.responsible = "Amt für Integration <und> " + "Vielfalt " * 19
        await uow.commit()
    replies = await coordinator.send("/track")
    assert len(replies) >= 3
    shown: list[str] = []
    for reply in replies:
        assert len(reply.text) <= 4096
        ids = re.findall(r"🟢 #(\d+) ", reply.text)
        assert [label for row in labels(reply) for label in row] == [f"#{i} öffnen" for i in ids]
        shown += ids
    assert sorted(map(int, shown)) == list(range(1, 41))
    assert "Amt für Integration <und> Vielfalt" in replies[0].text
    assert "Stand der Empfehlungen: 40 verfolgt" in replies[0].text and "/track 7" in replies[-1].text


async def test_a_review_reminder_for_an_item_no_longer_tracked_is_a_short_text(bot, coordinator, members):
    """Rendered directly: the timer skips such a reminder before it renders, so only
    an item gone in between reaches the renderer."""
    runtime = bot.application.bot_data["runtime"]
    due = Due(1, DeliveryKind.REVIEW_DUE, None, coordinator.id, 1, 0, tracking_id=42)
    async with bot.db.reader() as uow:
        [message] = await render_review(runtime, uow, due, "de", Batch())
    assert "Heute war die Wiedervorlage von Empfehlung #42" in message.text and message.rows == ()
