"""Recommendations and feedback through the emulator, as members and the coordination see them."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot.core import recommendations
from bot.core.recommendation_screening import reminder_time
from storage.admin_models import AuditEntry
from storage.models import (
    COMMENT_MAX,
    Comment,
    Delivery,
    DeliveryKind,
    DeliveryStatus,
    Membership,
    MembershipStatus,
    Recommendation,
    RecommendationStatus,
    Stance,
    StanceValue,
)
from tests.factories import registered

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # Tue 01.12.2026, 10:00 in Berlin
STANCE_ROW = ["Zustimmung", "Bedenken", "Ablehnung"]


@pytest.fixture
async def members(bot, coordinator):  # type: ignore[no-untyped-def]
    """Ana in AK EU, Ben in AK EU and AK Ehrenamt, Carl in AK Ehrenamt, Dora in AG Süd-Ost-Europa."""
    bot.clock.set(START)
    found = {}
    for name, slugs in (
        ("Ana", ("ak-eu",)),
        ("Ben", ("ak-eu", "ak-ehrenamt")),
        ("Carl", ("ak-ehrenamt",)),
        ("Dora", ("ag-soe",)),
    ):
        person = await bot.person(name, username=name.lower())
        await person.register(organisation=f"Verein {name}")
        for slug in slugs:
            await person.send(f"/join {slug}")
            await coordinator.send(f"/approve @{name.lower()}")
        found[name] = person
    return found


def recommendation_id(text: str) -> int:
    match = re.search(r"Empfehlung #(\d+)", text)
    assert match, text
    return int(match.group(1))


async def publish(bot, coordinator, command: str) -> int:  # type: ignore[no-untyped-def]
    replies = await coordinator.send(command)
    assert "ist verschickt an" in replies[-1].text, replies[-1].text
    await bot.tick()
    return recommendation_id(replies[-1].text)


def received(person, rid: int) -> list:  # type: ignore[no-untyped-def]
    return [m for m in person.messages if f"Neue Empfehlung #{rid}" in m.text]


def labels(message) -> list[list[str]]:  # type: ignore[no-untyped-def]
    return [[label for label, _ in row] for row in message.buttons]


def current(person, message):  # type: ignore[no-untyped-def]
    """The message as it is now (after edits)."""
    return next(m for m in person.messages if m.message_id == message.message_id)


def notice(bot) -> str | None:  # type: ignore[no-untyped-def]
    """The short notice the last button press was answered with."""
    return bot.emulator.callback_queries[-1].answer_text


async def count(bot, model, **where) -> int:  # type: ignore[no-untyped-def]
    async with bot.db.reader() as uow:
        query = select(func.count()).select_from(model)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        return int(await uow.session.scalar(query) or 0)


def refused_calls(bot, since: int) -> list[str]:  # type: ignore[no-untyped-def]
    return [f"{c.method}: {c.status} {c.description}" for c in bot.emulator.calls[since:] if c.status != 200]


# --- publishing ----------------------------------------------------------------


async def test_one_line_publish_reaches_exactly_the_groups_members(bot, coordinator, members):
    replies = await coordinator.send("/recommend ak-eu Mehr Sprachkurse am Abend anbieten")
    reply = replies[-1].text
    assert "Empfehlung #" in reply and "ist verschickt an: AK EU" in reply and "Empfänger: 2" in reply
    assert "Ohne Frist" in reply
    rid = recommendation_id(reply)
    await bot.tick()
    for name in ("Ana", "Ben"):
        [message] = received(members[name], rid)
        assert "Für: AK EU" in message.text and "Mehr Sprachkurse am Abend anbieten" in message.text
        assert f"/feedback {rid} Ihr Text" in message.text, "says how to comment"
        assert labels(message) == [STANCE_ROW, ["Kommentar"]]
    assert received(members["Carl"], rid) == [] and received(members["Dora"], rid) == []
    assert await bot.tick() == 0, "nothing is sent twice"


async def test_all_and_a_comma_list_reach_each_member_once(bot, coordinator, members):
    everyone = await publish(bot, coordinator, "/recommend all Gemeinsame Fortbildung im Frühjahr")
    for person in members.values():
        assert len(received(person, everyone)) == 1, person.user.first_name
    replies = await coordinator.send("/recommend ak-eu, ehrenamt Sprechstunde im Stadtteil")
    assert "AK EU, AK Ehrenamt" in replies[-1].text and "Empfänger: 3" in replies[-1].text
    listed = recommendation_id(replies[-1].text)
    await bot.tick()
    assert [len(received(members[n], listed)) for n in ("Ana", "Ben", "Carl", "Dora")] == [1, 1, 1, 0]
    assert await count(bot, Delivery, recommendation_id=listed, kind=DeliveryKind.RECOMMENDATION) == 3


async def test_guided_publish_asks_for_the_group_then_the_text(bot, coordinator, members):
    await coordinator.register(name="Sabine Weber")
    replies = await coordinator.send("/recommend")
    assert "An wen geht die Empfehlung" in replies[-1].text
    assert ["Alle Gruppen"] in labels(replies[-1]) and ["AK Ehrenamt"] in labels(replies[-1])
    replies = await coordinator.press("AK Ehrenamt")
    assert "Empfehlung an AK Ehrenamt" in replies[-1].text and "3000" in replies[-1].text
    replies = await coordinator.send("Ehrenamt sichtbar machen:\n- Dankeschön-Abend\n- Ehrenamtskarte | 15.12.2026")
    preview = replies[-1]
    assert "Vorschau" in preview.text and "Empfänger: 2 Personen in AK Ehrenamt" in preview.text
    assert "- Dankeschön-Abend\n- Ehrenamtskarte" in preview.text and "Di., 15.12.2026, 23:59 Uhr" in preview.text
    assert labels(preview) == [["Senden", "Abbrechen"]]
    assert await count(bot, Recommendation) == 0 and await count(bot, Delivery) == 0, "nothing before Senden"
    replies = await coordinator.press("Senden", preview)
    assert labels(current(coordinator, preview)) == [], "the buttons are gone once sent"
    assert "ist verschickt an: AK Ehrenamt" in replies[-1].text
    assert "Di., 15.12.2026, 23:59 Uhr" in replies[-1].text
    rid = recommendation_id(replies[-1].text)
    await bot.tick()
    [message] = received(members["Carl"], rid)
    assert "Ehrenamt sichtbar machen:\n- Dankeschön-Abend\n- Ehrenamtskarte\n" in message.text, "lines kept"
    assert "Frist: Di., 15.12.2026, 23:59 Uhr" in message.text
    replies = await coordinator.send("noch ein Text")
    assert "Ich erwarte gerade keinen Text" in replies[-1].text, "the guided step is over"


async def test_group_without_text_asks_for_the_text(bot, coordinator, members):
    replies = await coordinator.send("/empfehlung eu")
    assert "Empfehlung an AK EU" in replies[-1].text
    replies = await coordinator.send("Beratung auf Rumänisch | 2026-12-20 18:00")
    assert "So., 20.12.2026, 18:00 Uhr" in replies[-1].text and "Vorschau" in replies[-1].text
    await coordinator.press("Senden")
    await bot.tick()
    assert "Beratung auf Rumänisch" in members["Ana"].last.text


async def test_all_groups_button_and_a_command_ending_the_guided_step(bot, coordinator, members):
    await coordinator.register(name="Sabine Weber")
    await coordinator.send("/recommend")
    replies = await coordinator.press("Alle Gruppen")
    assert "Empfehlung an alle Gruppen" in replies[-1].text
    replies = await coordinator.send("/feedback")
    assert "keine offenen Empfehlungen" in replies[-1].text
    replies = await coordinator.send("Dieser Text ist keine Empfehlung")
    assert "Ich erwarte gerade keinen Text" in replies[-1].text
    assert await count(bot, Recommendation) == 0


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("/recommend ak-eu Text | 01.11.2026", "liegt nicht in der Zukunft"),
        ("/recommend ak-eu Text | 01.12.2026 09:00", "liegt nicht in der Zukunft"),
        ("/recommend ak-eu Text | 31.02.2026", "31.02.2026"),
        ("/recommend ak-eu Text | 15.12.2026 25:00", "25:00"),
        ("/recommend ak-eu Text | 32.12.2026", "32.12.2026"),
        ("/recommend mars Text", "Die Gruppe „mars“ kenne ich nicht"),
        ("/recommend a Text", "passt zu mehreren Gruppen"),
        ("/recommend ak-eu,mars Text", "„mars“"),
        ("/recommend ak-eu | 15.12.2026", "Der Text der Empfehlung fehlt"),
        ("/recommend all " + "x" * 3001, "höchstens 3000 Zeichen"),
        ("/recommend all " + "😀" * 1501, "höchstens 3000 Zeichen"),
    ],
)
async def test_bad_recommend_input_is_explained_and_nothing_is_saved(bot, coordinator, members, command, expected):
    replies = await coordinator.send(command)
    assert expected in replies[-1].text, replies[-1].text
    assert "<code>" not in replies[-1].text, "formatting is applied, not shown"
    assert await count(bot, Recommendation) == 0 and await count(bot, Delivery) == 0


async def test_a_deadline_today_later_is_accepted_with_its_time(bot, coordinator, members):
    rid = await publish(bot, coordinator, "/recommend ak-eu Kurzfristig | 01.12.2026 18:00")
    message = received(members["Ana"], rid)[0]
    assert "Frist: heute, Di., 01.12.2026, 18:00 Uhr" in message.text
    assert await count(bot, Delivery, kind=DeliveryKind.FEEDBACK_DUE) == 0, "less than a day: no reminder"


async def test_a_pipe_in_the_text_without_a_date_belongs_to_the_text(bot, coordinator, members):
    rid = await publish(bot, coordinator, "/recommend ak-eu Sprachkurse | Kinderbetreuung")
    assert "Sprachkurse | Kinderbetreuung" in received(members["Ana"], rid)[0].text


async def test_members_may_not_publish(bot, coordinator, members):
    for command in ("/recommend all Text", "/recommend", "/empfehlen ak-eu"):
        replies = await members["Ana"].send(command)
        assert "Das darf nur die KIM-Koordination" in replies[-1].text
    assert await count(bot, Recommendation) == 0


async def test_html_characters_are_shown_literally(bot, coordinator, members):
    text = "Kurse <b>am Abend</b> & Kinderbetreuung <script>"
    rid = await publish(bot, coordinator, f"/recommend ak-eu {text}")
    assert text in received(members["Ana"], rid)[0].text
    await members["Ana"].send(f"/feedback {rid} Ja & <i>gern</i> </b>")
    async with bot.db.reader() as uow:
        assert (await uow.session.scalar(select(Comment.text))) == "Ja & <i>gern</i> </b>"
    replies = await coordinator.send(f"/feedback {rid}")
    assert "Ja & <i>gern</i> </b>" in replies[-1].text and text in replies[-1].text


async def test_a_blocked_member_does_not_stop_the_others(bot, coordinator, members):
    await members["Ana"].block()
    rid = await publish(bot, coordinator, "/recommend ak-eu Text für alle")
    assert len(received(members["Ben"], rid)) == 1
    async with bot.db.reader() as uow:
        rows = (await uow.session.execute(select(Delivery).where(Delivery.recommendation_id == rid))).scalars().all()
        ana = await uow.people.by_telegram_id(members["Ana"].id)
    statuses = {r.person_id: r.status for r in rows}
    assert statuses[ana.id] is DeliveryStatus.FAILED
    assert sorted(s.value for s in statuses.values()) == ["failed", "sent"]
    assert ana.unreachable_since is not None


# --- answering -------------------------------------------------------------------


async def test_stance_is_saved_changed_and_marked(bot, coordinator, members):
    rid = await publish(bot, coordinator, "/recommend ak-eu Mehr Sprachkurse | 15.12.2026")
    ana = members["Ana"]
    message = received(ana, rid)[0]
    await ana.press("Bedenken", message)
    assert notice(bot) == "Gespeichert: Bedenken. Sie können das bis Di., 15.12.2026, 23:59 Uhr ändern."
    assert labels(current(ana, message))[0] == ["Zustimmung", "✓ Bedenken", "Ablehnung"]
    await ana.press("Zustimmung", current(ana, message))
    assert labels(current(ana, message))[0] == ["✓ Zustimmung", "Bedenken", "Ablehnung"]
    await ana.press("✓ Zustimmung", current(ana, message))
    assert notice(bot) == "Schon gespeichert: Zustimmung."
    async with bot.db.reader() as uow:
        stances = (await uow.session.execute(select(Stance))).scalars().all()
    assert [s.value for s in stances] == [StanceValue.AGREE], "one stance per member, the latest"
    replies = await ana.send(f"/feedback #{rid}")
    assert "Ihre Wahl: Zustimmung" in replies[-1].text
    assert labels(replies[-1])[0] == ["✓ Zustimmung", "Bedenken", "Ablehnung"]


async def test_comment_by_button_and_by_command_several_times(bot, coordinator, members):
    rid = await publish(bot, coordinator, "/recommend ak-eu Mehr Sprachkurse")
    ana = members["Ana"]
    replies = await ana.press("Kommentar", received(ana, rid)[0])
    assert f"Kommentar zu Empfehlung #{rid}" in replies[-1].text and "2000" in replies[-1].text
    written = "Gute Idee.\n\nAber bitte auch  samstags."
    replies = await ana.send(f"  {written}  ")
    assert f"Ihr Kommentar zu Empfehlung #{rid} ist gespeichert" in replies[-1].text
    assert "Ihre Wahl fehlt noch" in replies[-1].text and labels(replies[-1])[0] == STANCE_ROW
    await ana.press("Ablehnung", replies[-1])
    replies = await ana.send(f"/rueckmeldung {rid} Noch etwas:\nmehr Räume")
    assert "ist gespeichert" in replies[-1].text and "Ihre Wahl fehlt noch" not in replies[-1].text
    async with bot.db.reader() as uow:
        texts = (await uow.session.execute(select(Comment.text).order_by(Comment.id))).scalars().all()
    assert texts == [written, "Noch etwas:\nmehr Räume"]
    replies = await ana.send("Und noch ein Text")
    assert "Ich erwarte gerade keinen Text" in replies[-1].text, "one comment per button press"


async def test_over_long_comment_is_refused_with_the_limit_and_can_be_sent_again(bot, coordinator, members):
    rid = await publish(bot, coordinator, "/recommend ak-eu Mehr Sprachkurse")
    ana = members["Ana"]
    replies = await ana.send(f"/feedback {rid} " + "a" * (COMMENT_MAX + 1))
    assert "2001 Zeichen" in replies[-1].text and "höchstens 2000 Zeichen" in replies[-1].text
    await ana.press("Kommentar", received(ana, rid)[0])
    replies = await ana.send("b" * (COMMENT_MAX + 5))
    assert "höchstens 2000 Zeichen" in replies[-1].text
    assert await count(bot, Comment) == 0, "nothing saved half-way"
    replies = await ana.send("b" * COMMENT_MAX)
    assert "ist gespeichert" in replies[-1].text, "the bot still waited for the comment"
    assert await count(bot, Comment) == 1


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("/feedback 999 Text", "Eine Empfehlung #999 gibt es nicht"),
        ("/feedback #999", "Eine Empfehlung #999 gibt es nicht"),
        ("/feedback sieben Text", "„sieben“ ist keine Nummer"),
        ("/feedback Wir brauchen Kurse", "Beispiel"),
    ],
)
async def test_bad_feedback_input_is_explained(bot, coordinator, members, command, expected):
    replies = await members["Ana"].send(command)
    assert expected in replies[-1].text, replies[-1].text
    assert await count(bot, Comment) == 0


async def test_feedback_lists_only_unanswered_recommendations_of_own_groups(bot, coordinator, members):
    first = await publish(bot, coordinator, "/recommend ak-eu Erste Empfehlung")
    second = await publish(bot, coordinator, "/recommend ak-eu Zweite Empfehlung | 20.12.2026")
    other = await publish(bot, coordinator, "/recommend ak-ehrenamt Dritte Empfehlung")
    ana = members["Ana"]
    await ana.press("Zustimmung", received(ana, first)[0])
    replies = await ana.send("/feedback")
    assert "warten auf Ihre Rückmeldung: 1" in replies[0].text
    assert len(replies) == 2 and f"Empfehlung #{second}" in replies[1].text
    assert labels(replies[1]) == [STANCE_ROW, ["Kommentar"]]
    await ana.press("Kommentar", replies[1])
    await ana.send("Ein Kommentar zählt auch als Antwort")
    assert "Keine Empfehlung wartet" in (await ana.send("/feedback"))[-1].text
    replies = await members["Ben"].send("/feedback")
    assert "warten auf Ihre Rückmeldung: 3" in replies[0].text
    assert [recommendation_id(r.text) for r in replies[1:]] == [second, first, other], "nearest deadline first"
    replies = await members["Carl"].send("/feedback")
    assert [recommendation_id(r.text) for r in replies[1:]] == [other]
    assert "Keine Empfehlung wartet" in (await members["Dora"].send("/feedback"))[-1].text


async def test_feedback_shows_ten_and_says_how_many_more(bot, coordinator, members):
    for number in range(12):
        await coordinator.send(f"/recommend ag-soe Empfehlung Nummer {number}")
    await bot.tick()
    replies = await members["Dora"].send("/feedback")
    assert "warten auf Ihre Rückmeldung: 12" in replies[0].text
    assert len(replies) == 12 and "Und 2 weitere" in replies[-1].text


async def test_someone_who_joined_later_can_answer(bot, coordinator, members):
    rid = await publish(bot, coordinator, "/recommend ag-soe Beratung für Zugewanderte aus Rumänien")
    ana = members["Ana"]
    replies = await ana.press_data(f"st:{rid}:agree")
    assert "an andere Gruppen gerichtet (AG Süd-Ost-Europa)" in replies[-1].text
    await ana.send("/join ag-soe")
    await coordinator.send("/approve @ana")
    replies = await ana.send("/feedback")
    card = replies[-1]
    assert f"Empfehlung #{rid}" in card.text
    await ana.press("Bedenken", card)
    assert await count(bot, Stance, recommendation_id=rid) == 1


async def test_reminder_at_nine_the_day_before_the_deadline_only_to_those_who_did_not_answer(bot, coordinator, members):
    eva = await bot.person("Eva", username="eva")
    await eva.register()
    await eva.send("/join ak-eu")
    await coordinator.send("/approve @eva")
    rid = await publish(bot, coordinator, "/recommend ak-eu Mehr Sprachkurse | 15.12.2026")
    ana, ben = members["Ana"], members["Ben"]
    await ana.press("Zustimmung", received(ana, rid)[0])
    await ben.send(f"/feedback {rid} Nur ein Kommentar")
    bot.clock.set(datetime(2026, 12, 14, 7, 59, tzinfo=UTC))  # 08:59 in Berlin the day before
    assert await bot.tick() == 0
    bot.clock.set(datetime(2026, 12, 14, 8, 0, 1, tzinfo=UTC))  # 09:00: a daytime hour, not 23:59
    assert await bot.tick() == 1
    reminder = eva.last
    assert f"Ihre Rückmeldung zu Empfehlung #{rid} fehlt noch" in reminder.text
    assert "Frist: morgen, Di., 15.12.2026, 23:59 Uhr" in reminder.text
    assert labels(reminder) == [STANCE_ROW, ["Kommentar"]]
    for person in (ana, ben, members["Carl"]):
        assert not any("Ihre Rückmeldung zu Empfehlung" in t for t in person.texts)
    await eva.press("Ablehnung", reminder)
    assert "✓ Ablehnung" in labels(current(eva, reminder))[0]
    assert await bot.tick() == 0


async def test_no_reminder_for_someone_who_left_the_group(bot, coordinator, members):
    rid = await publish(bot, coordinator, "/recommend ak-eu Mehr Sprachkurse | 15.12.2026")
    await members["Ana"].send("/leave ak-eu")
    bot.clock.set(datetime(2026, 12, 15, 12, 0, tzinfo=UTC))
    assert await bot.tick() == 1, "Ben only"
    assert not any("Ihre Rückmeldung zu Empfehlung" in t for t in members["Ana"].texts)
    assert any(f"Ihre Rückmeldung zu Empfehlung #{rid} fehlt noch" in t for t in members["Ben"].texts)


async def test_after_the_deadline_stance_and_comment_are_refused(bot, coordinator, members):
    rid = await publish(bot, coordinator, "/recommend ak-eu Mehr Sprachkurse | 15.12.2026 18:00")
    ana = members["Ana"]
    message = received(ana, rid)[0]
    await ana.press("Kommentar", message)
    bot.clock.set(datetime(2026, 12, 15, 17, 1, tzinfo=UTC))  # 18:01 in Berlin
    replies = await ana.send("Zu spät geschrieben")
    assert "ist am Di., 15.12.2026, 18:00 Uhr abgelaufen" in replies[-1].text
    replies = await ana.send("Noch ein Text")
    assert "Ich erwarte gerade keinen Text" in replies[-1].text, "the question is over"
    replies = await ana.press("Zustimmung", message)
    assert "abgelaufen" in replies[-1].text
    replies = await ana.send(f"/feedback {rid} Zu spät")
    assert "abgelaufen" in replies[-1].text
    replies = await ana.send(f"/feedback {rid}")
    assert "Die Frist ist am Di., 15.12.2026, 18:00 Uhr abgelaufen" in replies[-1].text
    assert replies[-1].buttons == []
    assert await count(bot, Stance) == 0 and await count(bot, Comment) == 0
    assert "Keine Empfehlung wartet" in (await ana.send("/feedback"))[-1].text


# --- the coordination ------------------------------------------------------------


async def test_overview_close_with_outcome_and_only_those_who_answered_are_told(bot, coordinator, members):
    await coordinator.register(name="Sabine Weber")
    rid = await publish(bot, coordinator, "/recommend ak-eu,ak-ehrenamt Mehr Sprachkurse am Abend")
    ana, ben, carl = members["Ana"], members["Ben"], members["Carl"]
    await ana.press("Bedenken", received(ana, rid)[0])
    await ana.send(f"/feedback {rid} Räume fehlen <abends>")
    await ben.send(f"/feedback {rid} Gute Idee")

    replies = await coordinator.send("/feedback")
    assert "Offene Empfehlungen</b>" not in replies[-1].text and "Offene Empfehlungen: 1" in replies[-1].text
    assert "Zustimmung 0 · Bedenken 1 · Ablehnung 0 · ohne Antwort: 1" in replies[-1].text
    replies = await coordinator.press(f"#{rid} öffnen", replies[-1])
    overview = replies[-1]
    assert f"Empfehlung #{rid} · offen" in overview.text
    assert "Ohne Antwort: 1 von 3 Mitgliedern" in overview.text
    assert "Kommentare: 2. Die neuesten:" in overview.text
    assert "Ana, 01.12.2026: Räume fehlen <abends>" in overview.text and "Ben, 01.12.2026: Gute Idee" in overview.text
    assert labels(overview) == [["Abschließen"]]

    replies = await coordinator.press("Abschließen", overview)
    assert f"Wie hat der Lenkungskreis über Empfehlung #{rid} entschieden?" in replies[-1].text
    assert labels(replies[-1]) == [["Angenommen"], ["Nicht angenommen"], ["Zur Kenntnis genommen"]]
    replies = await coordinator.press("Zur Kenntnis genommen", replies[-1])
    assert f"Empfehlung #{rid} abschließen" in replies[-1].text and "2000" in replies[-1].text
    assert "Sie haben gewählt: zur Kenntnis genommen" in replies[-1].text
    replies = await coordinator.send("   ")
    replies = await coordinator.send("Die Stadt bietet ab März zwei Abendkurse an.\nDanke für die Hinweise!")
    assert f"Empfehlung #{rid} ist abgeschlossen: zur Kenntnis genommen" in replies[-1].text
    assert "haben: 2" in replies[-1].text
    await bot.tick()
    for person in (ana, ben):
        outcome = person.last
        assert f"Ergebnis zu Empfehlung #{rid}" in outcome.text
        assert "Die Stadt bietet ab März zwei Abendkurse an.\nDanke für die Hinweise!" in outcome.text
        assert "Mehr Sprachkurse am Abend" in outcome.text
        assert "Zustimmung 0 · Bedenken 1 · Ablehnung 0 · Kommentare: 2" in outcome.text
    assert not any("Ergebnis zu" in t for t in carl.texts)
    async with bot.db.reader() as uow:
        recommendation = await uow.recommendations.get(rid)
        sabine = await uow.people.by_telegram_id(coordinator.id)
    assert recommendation.status is RecommendationStatus.CLOSED and recommendation.closed_by_id == sabine.id
    assert recommendation.outcome == "Die Stadt bietet ab März zwei Abendkurse an.\nDanke für die Hinweise!"

    replies = await coordinator.press("Abschließen", overview)
    assert f"Empfehlung #{rid} ist schon abgeschlossen" in replies[-1].text
    replies = await carl.press("Zustimmung", received(carl, rid)[0])
    assert f"Empfehlung #{rid} ist abgeschlossen" in replies[-1].text
    replies = await ana.send(f"/feedback {rid} Noch etwas")
    assert "ist abgeschlossen" in replies[-1].text
    replies = await ana.send(f"/feedback {rid}")
    assert "Diese Empfehlung ist abgeschlossen" in replies[-1].text and "zwei Abendkurse" in replies[-1].text
    replies = await coordinator.send(f"/feedback {rid}")
    assert "· abgeschlossen" in replies[-1].text and replies[-1].buttons == []
    assert await count(bot, Delivery, kind=DeliveryKind.OUTCOME) == 2
    assert "keine offenen Empfehlungen" in (await coordinator.send("/feedback"))[-1].text


async def test_closing_drops_the_reminder_not_sent_yet(bot, coordinator, members):
    rid = await publish(bot, coordinator, "/recommend ak-eu Text | 15.12.2026")
    await coordinator.send(f"/feedback {rid}")
    await coordinator.press("Abschließen")
    await coordinator.press("Nicht angenommen")
    replies = await coordinator.send("Erledigt.")
    assert "haben: 0" in replies[-1].text
    bot.clock.set(datetime(2026, 12, 15, 12, 0, tzinfo=UTC))
    assert await bot.tick() == 0
    assert not any("Ihre Rückmeldung zu Empfehlung" in t for t in members["Ana"].texts)


async def test_a_second_close_started_before_the_first_ended_changes_nothing(bot, coordinator, members):
    rid = await publish(bot, coordinator, "/recommend ak-eu Text")
    await members["Ana"].press("Zustimmung")
    overview = (await coordinator.send(f"/feedback {rid}"))[-1]
    first = (await coordinator.press("Abschließen", overview))[-1]
    second = (await coordinator.press("Abschließen", overview))[-1]
    await coordinator.press("Zur Kenntnis genommen", first)
    await coordinator.send("Erstes Ergebnis")
    replies = await coordinator.press("Angenommen", second)
    assert "schon abgeschlossen" in replies[-1].text
    replies = await coordinator.press_data(f"rc:{rid}", overview)
    assert "schon abgeschlossen" in replies[-1].text
    async with bot.db.reader() as uow:
        assert (await uow.recommendations.get(rid)).outcome == "Erstes Ergebnis"
    assert await count(bot, Delivery, kind=DeliveryKind.OUTCOME) == 1


async def test_a_coordinator_outside_the_target_groups_may_not_answer(bot, coordinator, members):
    rid = await publish(bot, coordinator, "/recommend ak-eu Text")
    replies = await coordinator.press_data(f"st:{rid}:agree", coordinator.last)
    assert "an andere Gruppen gerichtet" in replies[-1].text
    replies = await coordinator.send(f"/feedback {rid} Mein Kommentar")
    assert "an andere Gruppen gerichtet" in replies[-1].text
    assert await count(bot, Stance) == 0 and await count(bot, Comment) == 0


async def test_forged_and_stale_presses_change_nothing(bot, coordinator, members):
    rid = await publish(bot, coordinator, "/recommend ak-eu Text")
    dora = await publish(bot, coordinator, "/recommend ag-soe Anderer Text")
    own = received(members["Dora"], dora)[0]
    replies = await members["Dora"].press_data(f"st:{rid}:reject", own)
    assert "an andere Gruppen gerichtet (AK EU)" in replies[-1].text
    assert labels(current(members["Dora"], own))[0] == STANCE_ROW, "her own message is untouched"
    replies = await members["Dora"].press_data(f"cm:{rid}", own)
    assert "an andere Gruppen gerichtet" in replies[-1].text
    await members["Dora"].send("Kommentar, der nirgends hingehört")
    replies = await members["Ana"].press_data("st:999:agree")
    assert "Eine Empfehlung #999 gibt es nicht" in replies[-1].text
    replies = await members["Ana"].press_data(f"st:{rid}:love")
    assert replies[-1].text == "Dieser Knopf gilt nicht mehr."
    await members["Ana"].press_data(f"st:{rid}")
    assert notice(bot) == "Dieser Knopf gilt nicht mehr."
    for data in (f"ro:{rid}", f"rc:{rid}", "rt:0"):
        replies = await members["Ana"].press_data(data)
        assert "Das darf nur die KIM-Koordination" in replies[-1].text
    assert await count(bot, Stance) == 0 and await count(bot, Comment) == 0
    async with bot.db.reader() as uow:
        assert (await uow.recommendations.get(rid)).status is RecommendationStatus.OPEN


async def test_english_reader(bot, coordinator, members):
    await members["Ana"].send("/language en")
    rid = await publish(bot, coordinator, "/recommend ak-eu Mehr Sprachkurse | 15.12.2026")
    message = members["Ana"].last
    assert f"New recommendation #{rid}" in message.text and "Deadline: Tue, 15 Dec 2026, 23:59" in message.text
    assert labels(message) == [["Agree", "Concerns", "Reject"], ["Comment"]]
    await members["Ana"].press("Concerns", message)
    assert notice(bot) == "Saved: Concerns. You can change it until Tue, 15 Dec 2026, 23:59."


async def test_longest_texts_fit_every_message(bot, coordinator, members):
    """A 3000-character recommendation, long comments and names: every message Telegram accepts."""
    await coordinator.register(name="Sabine Weber")
    long_name = "𝔐" * 64
    eva = await bot.person("Eva", username="eva")
    await eva.register(name=long_name, organisation="𝔒" * 120)
    await eva.send("/join ak-eu")
    await coordinator.send("/approve @eva")
    since = len(bot.emulator.calls)
    text = ("Ü<&> " * 600)[:3000]
    rid = await publish(bot, coordinator, f"/recommend all {text} | 15.12.2026")
    for _ in range(6):
        await eva.send(f"/feedback {rid} " + "😀" * COMMENT_MAX)
        await members["Ana"].send(f"/feedback {rid} " + "<b>" * (COMMENT_MAX // 3))
    await eva.press("Zustimmung", received(eva, rid)[0])
    await members["Ana"].send("/feedback")
    await eva.send(f"/feedback {rid}")
    overview = (await coordinator.send(f"/feedback {rid}"))[-1]
    await coordinator.send("/feedback")
    await coordinator.press("Abschließen", overview)
    await coordinator.press("Zur Kenntnis genommen")
    replies = await coordinator.send("𝔈" * 2000)
    assert "höchstens 2000 Zeichen" in replies[-1].text, "counted as Telegram counts"
    await coordinator.send("𝔈" * 1000)
    await bot.tick()
    assert refused_calls(bot, since) == []
    assert "Ergebnis zu Empfehlung" in eva.last.text
    assert text.strip() in received(members["Ana"], rid)[0].text


# --- the fan-out ------------------------------------------------------------------


@pytest.mark.telegram_limits
async def test_fan_out_with_faults_reaches_every_member_exactly_once(bot, coordinator):
    """Twenty members, Telegram's limits on, 429s and 502s injected, one member blocked
    without the bot knowing: the same sender as for reminders, so nothing lost or doubled."""
    bot.clock.set(START)
    await bot.tick()  # the timer armed at start has run; the next one sleeps its maximum
    people = []
    async with bot.db.uow() as uow:
        groups = {g.slug: g for g in await uow.groups.active()}
        registered(uow, coordinator.id, "Sabine Weber", START)
        for number in range(20):
            person = await bot.person(f"Mitglied{number:02d}")
            # Half in AK EU, half in AK Ehrenamt, four in both.
            slugs = ["ak-eu"] if number < 8 else ["ak-ehrenamt"] if number >= 12 else ["ak-eu", "ak-ehrenamt"]
            row = registered(uow, person.id, f"Mitglied {number:02d}", START, groups[slugs[0]].id)
            for slug in slugs[1:]:
                uow.memberships.add(
                    Membership(
                        person=row,
                        group_id=groups[slug].id,
                        status=MembershipStatus.APPROVED,
                        requested_at=START,
                        decided_at=START,
                    )
                )
            people.append(person)
        await uow.commit()
    blocked = people[5]
    blocked.user.blocked = True
    bot.telegram_limits()
    bot.emulator.inject_fault("sendMessage", status=429, retry_after=1, times=3)
    bot.emulator.inject_fault("sendMessage", status=502, times=2)
    async with bot.db.uow() as uow:
        sabine = await uow.people.by_telegram_id(coordinator.id)
        targets = recommendations.Targets([groups["ak-eu"], groups["ak-ehrenamt"]])
        published = await recommendations.publish(
            uow, sabine, targets, "Gemeinsamer Fachtag | 15.12.2026", bot.settings, START
        )
        await uow.commit()
    assert published.recipients == 20

    assert await bot.tick() == 19
    assert bot.emulator.faults.rules == [], "the fan-out met every injected fault"
    for person in people:
        expected = 0 if person is blocked else 1
        assert len(received(person, published.recommendation.id)) == expected, person.user.first_name
    assert await bot.tick() == 0, "nothing is sent again, the failed one included"
    async with bot.db.reader() as uow:
        query = select(Delivery).where(Delivery.kind == DeliveryKind.RECOMMENDATION)
        rows = (await uow.session.execute(query)).scalars().all()
        person = await uow.people.by_telegram_id(blocked.id)
    assert sorted(r.status.value for r in rows) == ["failed"] + ["sent"] * 19
    assert person is not None and person.unreachable_since is not None


# --- the preview, the deadline's rules, late joiners, after the deadline -------------


async def overview_text(coordinator, rid: int) -> str:  # type: ignore[no-untyped-def]
    return (await coordinator.send(f"/feedback {rid}"))[-1].text


async def audit_actions(bot) -> list[tuple[str, int | None, dict | None]]:  # type: ignore[no-untyped-def]
    async with bot.db.reader() as uow:
        rows = (await uow.session.execute(select(AuditEntry).order_by(AuditEntry.id))).scalars().all()
        return [(r.action, r.object_id, r.detail) for r in rows]


async def test_guided_preview_can_be_replaced_or_cancelled_and_sends_nothing(bot, coordinator, members):
    await coordinator.send("/recommend eu")
    replies = await coordinator.send("Erster Entwurf")
    first = replies[-1]
    assert "Erster Entwurf" in first.text and "Empfänger: 2 Personen in AK EU" in first.text
    replies = await coordinator.send("Zweiter Entwurf | 15.12.2026")
    preview = replies[-1]
    assert "Zweiter Entwurf" in preview.text and "Erster Entwurf" not in preview.text, "a new text replaces it"
    replies = await coordinator.press("Senden", first)
    assert "Diese Vorschau ist veraltet" in replies[-1].text, "an older preview sends nothing"
    assert await count(bot, Recommendation) == 0
    replies = await coordinator.press("Abbrechen", preview)
    assert "Es wurde nichts verschickt" in replies[-1].text
    assert labels(current(coordinator, preview)) == []
    replies = await coordinator.press_data("rv:send:2", preview)
    assert "nichts mehr zu senden" in replies[-1].text, "a late Senden sends nothing"
    assert await count(bot, Recommendation) == 0 and await count(bot, Delivery) == 0
    await bot.tick()
    assert not any("Entwurf" in t for t in members["Ana"].texts)


async def test_a_past_deadline_in_the_guided_text_keeps_the_bot_waiting(bot, coordinator, members):
    await coordinator.send("/recommend eu")
    replies = await coordinator.send("Text | 01.11.2026")
    assert "liegt nicht in der Zukunft" in replies[-1].text
    replies = await coordinator.send("Text | 15.12.2026")
    assert "Vorschau" in replies[-1].text
    await coordinator.press("Senden")
    assert await count(bot, Recommendation) == 1


async def test_members_may_not_press_the_coordinations_buttons(bot, coordinator, members):
    rid = await publish(bot, coordinator, "/recommend ak-eu Mehr Sprachkurse | 15.12.2026")
    ana = members["Ana"]
    before = await bot.every_row()
    for data in ("rv:send:1", "rv:cancel:1", f"rd:{rid}:remind", f"rd:{rid}:extend", f"rn:{rid}:7:1"):
        replies = await ana.press_data(data)
        assert "Koordination" in replies[-1].text, (data, replies[-1].text)
    assert await bot.every_row() == before


def test_the_reminder_goes_out_at_nine_the_day_before_or_on_the_deadline_day() -> None:
    tz = ZoneInfo("Europe/Berlin")

    def at(day: int, hour: int, minute: int = 0) -> datetime:
        return datetime(2026, 12, day, hour, minute, tzinfo=tz)

    assert reminder_time(at(8, 23, 59), tz, at(1, 10)) == at(7, 9), "a deadline 08.12. is reminded 07.12. 09:00"
    assert reminder_time(at(8, 23, 59), tz, at(7, 5)) == at(8, 9), "09:00 the day before is too soon after"
    assert reminder_time(at(8, 23, 59), tz, at(7, 20)) == at(8, 9)
    assert reminder_time(at(8, 8, 0), tz, at(1, 10)) == at(7, 9), "never after the deadline"
    assert reminder_time(at(8, 23, 59), tz, at(8, 10)) is None, "sent the same day: no reminder"
    assert reminder_time(at(8, 8, 0), tz, at(7, 4)) is None, (
        "09:00 is less than 6 hours away, the next after the deadline"
    )


async def test_the_deadlines_minute_still_counts_the_next_one_does_not(bot, coordinator, members):
    rid = await publish(bot, coordinator, "/recommend ak-eu Mehr Sprachkurse | 15.12.2026")
    ana, ben = members["Ana"], members["Ben"]
    bot.clock.set(datetime(2026, 12, 15, 22, 59, 30, tzinfo=UTC))  # 23:59:30 in Berlin
    await ana.press("Zustimmung", received(ana, rid)[0])
    assert "Gespeichert: Zustimmung" in (notice(bot) or "")
    assert f"Empfehlung #{rid}" in (await ben.send("/feedback"))[-1].text, "still waiting for Ben"
    bot.clock.set(datetime(2026, 12, 15, 23, 0, tzinfo=UTC))  # 00:00 the next day
    replies = await ben.press("Zustimmung", received(ben, rid)[0])
    assert "abgelaufen" in replies[-1].text
    assert "Keine Empfehlung wartet" in (await ben.send("/feedback"))[-1].text
    assert await count(bot, Stance) == 1


async def test_a_late_joiner_gets_it_nachtraeglich_and_counts_from_then(bot, coordinator, members):
    rid = await publish(bot, coordinator, "/recommend ak-eu Mehr Sprachkurse | 15.12.2026")
    assert "Ohne Antwort: 2 von 2" in await overview_text(coordinator, rid)
    eva = await bot.person("Eva", username="eva")
    await eva.register()
    await eva.send("/join ak-eu")
    assert "Ohne Antwort: 2 von 2" in await overview_text(coordinator, rid), "asked to join, not a member yet"
    await coordinator.send("/approve @eva")  # the approval wakes the timer: she gets it at once
    await bot.tick()
    [late] = [m for m in eva.messages if f"Empfehlung #{rid}" in m.text]
    assert "(nachträglich)" in late.text and "nachdem diese Empfehlung verschickt wurde" in late.text
    assert "Mehr Sprachkurse" in late.text and labels(late) == [STANCE_ROW, ["Kommentar"]]
    assert "Ohne Antwort: 3 von 3" in await overview_text(coordinator, rid)
    assert await bot.tick() == 0, "sent once"
    await eva.press("Zustimmung", late)
    assert "Ohne Antwort: 2 von 3" in await overview_text(coordinator, rid)
    bot.clock.set(datetime(2026, 12, 14, 8, 0, 1, tzinfo=UTC))
    assert await bot.tick() == 2, "the reminder: Ana and Ben, not Eva who answered"
    bot.clock.set(datetime(2026, 12, 16, 8, 0, tzinfo=UTC))  # after the deadline
    fritz = await bot.person("Fritz", username="fritz")
    await fritz.register()
    await fritz.send("/join ak-eu")
    await coordinator.send("/approve @fritz")
    await bot.tick()
    assert not any(f"Empfehlung #{rid}" in t for t in fritz.texts), "joined after the deadline: nothing"
    assert "von 3" in await overview_text(coordinator, rid), "and he does not count"


async def test_a_late_joiner_of_an_open_ended_recommendation_and_one_who_answered_first(bot, coordinator, members):
    rid = await publish(bot, coordinator, "/recommend ag-soe Beratung für Zugewanderte aus Rumänien")
    ana = members["Ana"]
    await ana.send("/join ag-soe")
    await coordinator.send("/approve @ana")
    await ana.send(f"/feedback {rid} Schon gelesen")
    assert await bot.tick() == 0, "she answered before the planner came: nothing to send"
    assert "Ohne Antwort: 1 von 2" in await overview_text(coordinator, rid), "Dora (silent) and Ana (answered)"


async def test_after_the_deadline_remind_the_silent_with_a_new_deadline_then_close(bot, coordinator, members):
    rid = await publish(bot, coordinator, "/recommend ak-eu Mehr Sprachkurse | 15.12.2026")
    ana, ben = members["Ana"], members["Ben"]
    await ana.press("Zustimmung", received(ana, rid)[0])
    bot.clock.set(datetime(2026, 12, 15, 22, 59, 59, tzinfo=UTC))  # 23:59:59 in Berlin
    await bot.tick()
    assert not any("abgelaufen" in t for t in coordinator.texts)
    bot.clock.set(datetime(2026, 12, 15, 23, 0, tzinfo=UTC))  # 00:00
    assert await bot.tick() == 1
    message = coordinator.last
    assert f"Die Frist für Empfehlung #{rid} ist abgelaufen" in message.text
    assert "Geantwortet haben 1 von 2. Ohne Antwort: 1." in message.text
    assert labels(message) == [["Abschließen"], ["Ohne Antwort erinnern"], ["Frist verlängern"]]
    replies = await coordinator.press("Ohne Antwort erinnern", message)
    assert labels(current(coordinator, message)) == [], "chosen once"
    ask = replies[-1]
    assert "Wer noch nicht geantwortet hat (1), wird erinnert" in ask.text
    assert labels(ask) == [["bis 19.12.2026", "bis 23.12.2026", "bis 30.12.2026"]]
    replies = await coordinator.press("bis 23.12.2026", ask)
    assert f"Empfehlung #{rid} geht jetzt bis Mi., 23.12.2026, 23:59 Uhr" in replies[-1].text
    assert "1 Mitglied ohne Antwort wird jetzt erinnert" in replies[-1].text
    await bot.tick()  # (the reply woke the timer already; this waits for it)
    reminders = [m for m in ben.messages if f"Ihre Rückmeldung zu Empfehlung #{rid} fehlt noch" in m.text]
    assert len(reminders) == 2, "the one at 09:00 the day before, and this one"
    reminder = ben.last
    assert f"Ihre Rückmeldung zu Empfehlung #{rid} fehlt noch" in reminder.text
    assert "Frist: Mi., 23.12.2026, 23:59 Uhr" in reminder.text
    await ben.press("Bedenken", reminder)
    assert await count(bot, Stance, recommendation_id=rid) == 2
    assert not any("Ihre Rückmeldung" in t for t in ana.texts), "Ana had answered"
    bot.clock.set(datetime(2026, 12, 23, 23, 0, tzinfo=UTC))
    assert await bot.tick() == 1
    again = coordinator.last
    assert "Geantwortet haben 2 von 2. Ohne Antwort: 0." in again.text
    assert labels(again) == [["Abschließen"], ["Frist verlängern"]]
    await coordinator.press("Abschließen", again)
    await coordinator.press("Angenommen")
    replies = await coordinator.send("Die Stadt bietet zwei Abendkurse an.")
    assert f"Empfehlung #{rid} ist abgeschlossen: angenommen" in replies[-2].text
    assert f"Wer ist für Empfehlung #{rid} zuständig?" in replies[-1].text
    actions = [(a, i) for a, i, _ in await audit_actions(bot)]
    assert ("recommendation.publish", rid) in actions and ("recommendation.close", rid) in actions
    [extend] = [d for a, i, d in await audit_actions(bot) if a == "recommendation.extend"]
    assert extend == {"deadline": "23.12.2026 23:59", "reminded": 1}


async def test_extend_by_a_typed_date_plans_the_reminder_at_a_daytime_hour(bot, coordinator, members):
    rid = await publish(bot, coordinator, "/recommend ak-eu Mehr Sprachkurse | 05.12.2026")
    bot.clock.set(datetime(2026, 12, 5, 23, 0, 30, tzinfo=UTC))  # 00:00:30 on 06.12. in Berlin
    assert await bot.tick() == 1, "the reminders due meanwhile are dropped (deadline passed); the coordinator is asked"
    await coordinator.press("Frist verlängern", coordinator.last)
    replies = await coordinator.send("01.12.2026")
    assert "liegt nicht in der Zukunft" in replies[-1].text
    replies = await coordinator.send("12.12.2026 12:00")
    assert f"Empfehlung #{rid} geht jetzt bis Sa., 12.12.2026, 12:00 Uhr" in replies[-1].text
    assert "Ohne Antwort sind noch 2" in replies[-1].text
    await bot.tick()
    assert not any("fehlt noch" in t for t in members["Ana"].texts), "nobody is reminded at once"
    bot.clock.set(datetime(2026, 12, 11, 7, 59, tzinfo=UTC))
    assert await bot.tick() == 0
    bot.clock.set(datetime(2026, 12, 11, 8, 0, 1, tzinfo=UTC))  # 09:00 the day before
    assert await bot.tick() == 2
    assert "Frist: morgen, Sa., 12.12.2026, 12:00 Uhr" in members["Ana"].last.text
    await members["Ana"].press("Zustimmung", members["Ana"].last)
    assert await count(bot, Stance, recommendation_id=rid) == 1


async def test_closing_before_the_deadline_drops_the_message_after_it(bot, coordinator, members):
    rid = await publish(bot, coordinator, "/recommend ak-eu Mehr Sprachkurse | 15.12.2026")
    await coordinator.send(f"/feedback {rid}")
    await coordinator.press("Abschließen")
    await coordinator.press("Zur Kenntnis genommen")
    await coordinator.send("Erledigt.")
    bot.clock.set(datetime(2026, 12, 16, 8, 0, tzinfo=UTC))
    await bot.tick()
    assert not any("ist abgelaufen" in t for t in coordinator.texts)


@pytest.mark.parametrize("lang", ["de", "en"])
def test_the_new_texts_render_in_both_languages(lang: str) -> None:
    from bot.render.texts import Texts

    texts = Texts()
    params = {
        "recommendations.preview_count": {"count": 2, "groups": "AK EU"},
        "recommendations.preview_count_one": {"count": 1, "groups": "AK EU"},
        "recommendations.card_late": {"id": 7},
        "recommendations.after_deadline": {"id": 7, "when": "x", "text": "t", "answered": 1, "members": 2, "silent": 1},
        "recommendations.ask_deadline_remind": {"id": 7, "silent": 1, "example_later": "15.12.2026"},
        "recommendations.ask_deadline_extend": {"id": 7, "example_later": "15.12.2026"},
        "recommendations.extended": {"id": 7, "when": "x", "silent": 1},
        "recommendations.extended_reminded": {"id": 7, "when": "x", "count": 2},
        "recommendations.extended_reminded_one": {"id": 7, "when": "x", "count": 1},
        "recommendations.deadline_button": {"date": "15.12.2026"},
        "announcements.heading": {"groups": "AK EU"},
        "announcements.sent": {"id": 5, "groups": "AK EU", "count": 2},
        "announcements.sent_one": {"id": 5, "groups": "AK EU", "count": 1},
        "announcements.document_kept": {"name": "a.pdf"},
        "audit.recommendation_publish": {"id": 7, "groups": "AK EU", "recipients": 2},
        "audit.recommendation_close": {"id": 7},
        "audit.recommendation_extend": {"id": 7, "deadline": "15.12.2026 23:59"},
        "audit.announcement_send": {"id": 5, "groups": "AK EU", "recipients": 2},
    }
    for key, values in params.items():
        assert "{" not in texts.plain(lang, key, **values), key
