"""Property tests: whatever text a person sends to /agenda and /feedback, what
the bot sends back is valid for Telegram, and what it stores is exactly what
was written.

Hypothesis generates the texts (any characters a Telegram client can send:
no control characters but line breaks and tabs, HTML's own characters on
purpose, emoji, right-to-left scripts, up to beyond the limits). The strict
emulator answers 400 to any message that is too long (4096 UTF-16 code units
after parsing) or whose HTML does not parse, so "valid" means: every call the
bot made for that message was accepted.
"""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from storage.models import AGENDA_TEXT_MAX, COMMENT_MAX, AgendaItem, Comment, Recommendation

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

TEXT_CHARACTERS = st.one_of(
    st.characters(blacklist_categories=("Cc", "Cs")),
    st.sampled_from(list("<>&\"'\n\t /#|") + ["</b>", "<b>", "&amp;", "&lt;", "😀", "👩‍👩‍👧", "שלום", "ğüş"]),
)
TEXTS = st.lists(TEXT_CHARACTERS, max_size=1200).map("".join)
LONG_TEXTS = st.lists(TEXT_CHARACTERS, min_size=900, max_size=2100).map("".join)

PROPERTY = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)


async def _member(bot, coordinator):  # type: ignore[no-untyped-def]
    """Ana, approved in AK EU."""
    if "Ana" in bot.people:
        return bot.people["Ana"]
    bot.clock.set(START)
    ana = await bot.person("Ana", username="ana")
    await ana.register()
    await ana.send("/join ak-eu")
    await coordinator.send("/approve @ana")
    return ana


def _refused_calls(bot, since: int) -> list[str]:  # type: ignore[no-untyped-def]
    return [f"{c.method}: {c.status} {c.description}" for c in bot.emulator.calls[since:] if c.status != 200]


async def _count(bot, model) -> int:  # type: ignore[no-untyped-def]
    async with bot.db.reader() as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(model)) or 0)


async def _newest(bot, model):  # type: ignore[no-untyped-def]
    async with bot.db.reader() as uow:
        return await uow.session.scalar(select(model).order_by(model.id.desc()).limit(1))


@PROPERTY
@given(text=TEXTS, show_agenda=st.booleans())
async def test_any_agenda_text_is_answered_validly_and_stored_exactly(bot, coordinator, text, show_agenda):  # type: ignore[no-untyped-def]
    ana = await _member(bot, coordinator)
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
@given(text=st.one_of(TEXTS, LONG_TEXTS))
async def test_any_feedback_text_is_answered_validly_and_stored_exactly(bot, coordinator, text):  # type: ignore[no-untyped-def]
    ana = await _member(bot, coordinator)
    if await _count(bot, Recommendation) == 0:
        await coordinator.send("/recommend ak-eu Mehr Sprachkurse am Abend anbieten")
        await bot.tick()
    recommendation = await _newest(bot, Recommendation)
    since, before = len(bot.emulator.calls), await _count(bot, Comment)

    replies = await ana.send(f"/feedback {recommendation.id} {text}")

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
