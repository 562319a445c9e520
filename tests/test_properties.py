"""Property tests: whatever text a person sends to /agenda and /feedback, what
the bot sends back is valid for Telegram, and what it stores is exactly what
was written.

Hypothesis generates the texts (any characters a Telegram client can send:
no control characters but line breaks and tabs, HTML's own characters on
purpose, emoji, right-to-left scripts, up to beyond the limits). The strict
emulator answers 400 to any message that is too long (4096 UTF-16 code units
after parsing) or whose HTML does not parse, so "valid" means: every call the
bot made for that message was accepted.

Every example runs in a world of its own (tests/snapshots.py): Ana, an
approved member of AK EU, and a recommendation to AK EU, restored for each
example with a newly started bot, so a failing example replays alone. An
example sends several texts, one after the other.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from storage.models import AGENDA_TEXT_MAX, COMMENT_MAX, AgendaItem, Comment, Recommendation
from tests.snapshots import Snapshot, built, restored

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

TEXT_CHARACTERS = st.one_of(
    st.characters(blacklist_categories=("Cc", "Cs")),
    st.sampled_from(list("<>&\"'\n\t /#|") + ["</b>", "<b>", "&amp;", "&lt;", "😀", "👩‍👩‍👧", "שלום", "ğüş"]),
)
TEXTS = st.lists(TEXT_CHARACTERS, max_size=1200).map("".join)
LONG_TEXTS = st.lists(TEXT_CHARACTERS, min_size=900, max_size=2100).map("".join)

PROPERTY = settings(max_examples=15)  # the rest: the "kimbot" profile (tests/conftest.py)
"""15 examples of 1 to 5 texts each (3 on average): a world of its own costs each
example a bot's start, so the texts come several to an example."""


async def _build(bot) -> int:  # type: ignore[no-untyped-def]
    """Ana, approved in AK EU, and a recommendation to AK EU sent to her; returns its id."""
    bot.clock.set(START)
    coordinator = bot.people["Sabine"]
    ana = await bot.person("Ana", username="ana")
    await ana.register()
    await ana.send("/join ak-eu")
    await coordinator.send("/approve @ana")
    await coordinator.send("/recommend ak-eu Mehr Sprachkurse am Abend anbieten")
    await bot.tick()
    async with bot.db.reader() as uow:
        return int(await uow.session.scalar(select(func.max(Recommendation.id))) or 0)


TEMPLATES: dict[str, tuple[Snapshot, int]] = {}
"""The world of the examples, built once per kind of database (it is the same every time)."""


@pytest.fixture
async def template(database_url: str) -> tuple[Snapshot, int]:
    kind = database_url.split(":", 1)[0]
    if kind not in TEMPLATES:
        TEMPLATES[kind] = await built(database_url, _build)
    return TEMPLATES[kind]


def _refused_calls(bot, since: int) -> list[str]:  # type: ignore[no-untyped-def]
    return [f"{c.method}: {c.status} {c.description}" for c in bot.emulator.calls[since:] if c.status != 200]


async def _count(bot, model) -> int:  # type: ignore[no-untyped-def]
    async with bot.db.reader() as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(model)) or 0)


async def _newest(bot, model):  # type: ignore[no-untyped-def]
    async with bot.db.reader() as uow:
        return await uow.session.scalar(select(model).order_by(model.id.desc()).limit(1))


@PROPERTY
@given(texts=st.lists(st.tuples(TEXTS, st.booleans()), min_size=1, max_size=5))
async def test_any_agenda_text_is_answered_validly_and_stored_exactly(template, database_url, database_writer, texts):  # type: ignore[no-untyped-def]
    snapshot, _ = template
    async with restored(snapshot, database_url, database_writer) as bot:
        ana = bot.people["Ana"]
        for text, show_agenda in texts:
            since, before = len(bot.emulator.calls), await _count(bot, AgendaItem)

            replies = await ana.send(f"/agenda ak-eu {text}")

            assert replies, "the bot answers every message"
            assert _refused_calls(bot, since) == []
            wanted = text.strip()
            if 1 <= len(wanted) <= AGENDA_TEXT_MAX:
                assert await _count(bot, AgendaItem) == before + 1
                assert (await _newest(bot, AgendaItem)).text == wanted
            else:
                assert await _count(bot, AgendaItem) == before, "nothing saved half-way"
                if wanted:
                    assert str(AGENDA_TEXT_MAX) in replies[-1].text, "the answer says the limit"
            if show_agenda:
                since = len(bot.emulator.calls)
                assert await ana.send("/agenda")
                assert _refused_calls(bot, since) == [], "the agenda with every stored text is valid too"


@PROPERTY
@given(texts=st.lists(st.one_of(TEXTS, LONG_TEXTS), min_size=1, max_size=5))
async def test_any_feedback_text_is_answered_validly_and_stored_exactly(template, database_url, database_writer, texts):  # type: ignore[no-untyped-def]
    snapshot, recommendation_id = template
    async with restored(snapshot, database_url, database_writer) as bot:
        ana = bot.people["Ana"]
        for text in texts:
            since, before = len(bot.emulator.calls), await _count(bot, Comment)

            replies = await ana.send(f"/feedback {recommendation_id} {text}")

            assert replies, "the bot answers every message"
            assert _refused_calls(bot, since) == []
            wanted = text.strip()
            if 1 <= len(wanted) <= COMMENT_MAX:
                assert await _count(bot, Comment) == before + 1
                assert (await _newest(bot, Comment)).text == wanted
            else:
                assert await _count(bot, Comment) == before, "nothing saved half-way"
                if wanted:
                    assert str(COMMENT_MAX) in replies[-1].text, "the answer says the limit"
