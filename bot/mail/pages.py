"""What the pages of e-mail links say and do (SPEC 15).

A link of a mail (`bot.core.mail_links`) opens a page. Opening it (GET) only
reads: it says what the button will save, in the person's language, and what
they answered before; mail scanners that open links change nothing. The
button (a POST to the same address) saves through the same core function as
the chat's button (`meetings.answer`, `recommendations.give_stance`,
`email.confirm_link`), in one unit of work, and the page then says what was
saved and offers the other answers (fresh links of the same person).

- a changed or foreign link: 400, nothing read or saved;
- an expired link, or one whose person, session or recommendation is gone: 410;
- a refusal of the core: its text, 410 when the moment has passed (the session
  started, the deadline passed), else 409;
- the database away: 503, "bitte später", nothing saved.

A confirmed address is also told in the chat (`handlers.email.confirmed_message`,
with the buttons for what comes by e-mail), after the commit and at best effort.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.core import email, mail_links, meetings, people
from bot.core import recommendations as recommendation_rules
from bot.core.dates import format_when
from bot.core.errors import Refusal
from bot.render.texts import Html, escape
from handlers.common import Rows, Runtime, render
from handlers.email import confirmed_message
from storage.database import collided, unavailable
from storage.inbox_repository import handling
from storage.mail_models import MailMode
from storage.models import Occurrence, Person, Recommendation, RsvpAnswer, StanceValue
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)

Tell = Callable[[int, Html, Rows], Awaitable[object]]
"""Sends one chat message (chat id, text, buttons): the composition gives it."""

GONE = frozenset(
    {
        "mail_pages.gone",
        "buttons.stale",
        "meetings.already_started",
        "meetings.already_cancelled",
        "recommendations.closed",
        "recommendations.deadline_passed",
        "email.link_used",
        "email.request_expired",
    }
)
"""Refusals that mean the link's moment has passed: 410 (the others: 409)."""
SAVE_TRIES = 3
"""A save that collided with another transaction (the same answer sent twice at once) is done again."""
QUOTE_MAX = 300
"""Characters of a recommendation's text quoted on its page."""


@dataclass(frozen=True)
class Choice:
    label: str
    url: str


@dataclass(frozen=True)
class Page:
    """One page: its HTTP status, language, heading, text (catalog HTML), the one
    button (a POST to the page's own address) and links to other answers."""

    status: int
    lang: str
    heading: str
    body: Html
    button: str | None = None
    choices_intro: str | None = None
    choices: tuple[Choice, ...] = ()


class _Gone(Exception):
    """The link's person (forgotten), session or recommendation no longer exists."""

    def __init__(self, lang: str) -> None:
        super().__init__("gone")
        self.lang = lang


class _Refused(Exception):
    """A refusal of the core, with the language of the page that says it."""

    def __init__(self, lang: str, refusal: Refusal) -> None:
        super().__init__(refusal.key)
        self.lang = lang
        self.refusal = refusal


class LinkPages:
    """The pages of one bot: `show` (GET) and `save` (POST) a token."""

    def __init__(self, runtime: Callable[[], Runtime], tell: Tell | None = None) -> None:
        self._runtime = runtime
        self.tell = tell

    @property
    def runtime(self) -> Runtime:
        return self._runtime()

    def _t(self, lang: str, key: str, **params: object) -> Html:
        return self.runtime.texts.get(lang, key, **params)

    def _plain(self, lang: str, key: str, **params: object) -> str:
        return self.runtime.texts.plain(lang, key, **params)

    # --- the two requests ---------------------------------------------------

    async def show(self, token: str) -> Page:
        """GET: what the button will save; reads only."""
        link_or_page = self._read(token)
        if isinstance(link_or_page, Page):
            return link_or_page
        link = link_or_page
        return await self._guarded(lambda: self._question(link))

    async def save(self, token: str) -> Page:
        """POST: save the link's answer, then say what was saved."""
        link_or_page = self._read(token)
        if isinstance(link_or_page, Page):
            return link_or_page
        link = link_or_page
        for tries in range(1, SAVE_TRIES + 1):
            try:
                return await self._guarded(lambda: self._saved(link))
            except Exception as error:
                if not collided(error) or tries == SAVE_TRIES:
                    raise
        raise AssertionError("unreachable")

    # --- reading the link, guarding the work ---------------------------------

    def _read(self, token: str) -> mail_links.Link | Page:
        runtime = self.runtime
        lang = runtime.settings.default_language
        try:
            return mail_links.read(runtime.settings, token, runtime.clock())
        except mail_links.BadLink as bad:
            if bad.expired:
                return self._problem(410, lang, "expired")
            return self._problem(400, lang, "invalid")

    def _problem(self, status: int, lang: str, name: str) -> Page:
        return Page(status, lang, self._plain(lang, f"mail_pages.{name}_title"), self._t(lang, f"mail_pages.{name}"))

    async def _guarded(self, work: Callable[[], Awaitable[Page]]) -> Page:
        runtime = self.runtime
        token = handling.set(None)  # no update of the inbox: the page's own work
        lang = runtime.settings.default_language
        try:
            return await work()
        except _Gone as gone:
            return self._problem(410, gone.lang, "gone")
        except _Refused as refused:
            return self._refused(refused.lang, refused.refusal)
        except Exception as error:
            if not unavailable(error):
                raise
            runtime.db.health.failed(error)
            return self._problem(503, lang, "later")
        finally:
            handling.reset(token)

    def _refused(self, lang: str, refusal: Refusal) -> Page:
        texts, settings = self.runtime.texts, self.runtime.settings
        params = {
            name: format_when(value, settings.timezone, lang) if isinstance(value, datetime) else value
            for name, value in refusal.params.items()
        }
        if refusal.key in texts.catalogs[lang]:
            body = render(texts, lang, refusal.key, **params)
        else:
            body = self._t(lang, "mail_pages.refused")
        status = 410 if refusal.key in GONE else 409
        return Page(status, lang, self._plain(lang, "mail_pages.refused_title"), body)

    async def _person(self, uow: UnitOfWork, person_id: int) -> tuple[Person, str]:
        person = await uow.people.get(person_id)
        if person is None or person.telegram_id is None:
            raise _Gone(self.runtime.settings.default_language)
        return person, people.language_of(person, None, self.runtime.settings)

    # --- GET ------------------------------------------------------------------

    async def _question(self, link: mail_links.Link) -> Page:
        async with self.runtime.db.reader() as uow:
            person, lang = await self._person(uow, link.person_id)
            try:
                if isinstance(link, mail_links.Rsvp):
                    return await self._rsvp_question(uow, person, lang, link)
                if isinstance(link, mail_links.Stance):
                    return await self._stance_question(uow, person, lang, link)
            except Refusal as refusal:
                raise _Refused(lang, refusal) from None
            return Page(
                200,
                lang,
                self._plain(lang, "mail_pages.confirm_title"),
                self._t(lang, "mail_pages.confirm_ask", address=link.address),
                button=self._plain(lang, "mail_pages.confirm_button"),
            )

    async def _rsvp_question(self, uow: UnitOfWork, person: Person, lang: str, link: mail_links.Rsvp) -> Page:
        value = _rsvp_value(link.answer)
        occurrence = await uow.meetings.occurrence(link.occurrence_id)
        if occurrence is None:
            raise _Gone(lang)
        before = await uow.meetings.rsvp(occurrence.id, person.id)
        lines = [
            self._t(lang, "mail_pages.rsvp_ask", answer=self._answer(lang, value), **self._session(lang, occurrence))
        ]
        if before is not None:
            lines.append(self._t(lang, "mail_pages.rsvp_before", answer=self._answer(lang, before.answer)))
        return Page(
            200,
            lang,
            self._plain(lang, "mail_pages.rsvp_title"),
            Html("\n".join(lines)),
            button=self._plain(lang, "mail_pages.rsvp_button", answer=self._answer(lang, value)),
        )

    async def _stance_question(self, uow: UnitOfWork, person: Person, lang: str, link: mail_links.Stance) -> Page:
        value = _stance_value(link.stance)
        recommendation = await uow.recommendations.get(link.recommendation_id)
        if recommendation is None:
            raise _Gone(lang)
        before = await uow.recommendations.stance(recommendation.id, person.id)
        lines = [
            self._t(lang, "mail_pages.stance_ask", stance=self._stance(lang, value), id=recommendation.id),
            self._quote(recommendation),
        ]
        if before is not None:
            lines.append(self._t(lang, "mail_pages.stance_before", stance=self._stance(lang, before.value)))
        return Page(
            200,
            lang,
            self._plain(lang, "mail_pages.stance_title"),
            Html("\n".join(lines)),
            button=self._plain(lang, "mail_pages.stance_button", stance=self._stance(lang, value)),
        )

    # --- POST -----------------------------------------------------------------

    async def _saved(self, link: mail_links.Link) -> Page:
        runtime = self.runtime
        now = runtime.clock()
        told: tuple[int, Html, Rows] | None = None
        async with runtime.db.uow() as uow:
            person, lang = await self._person(uow, link.person_id)
            try:
                if isinstance(link, mail_links.Rsvp):
                    saved = await meetings.answer(
                        uow, person, link.occurrence_id, _rsvp_value(link.answer), runtime.settings, now
                    )
                    page = self._rsvp_saved(person, lang, saved)
                elif isinstance(link, mail_links.Stance):
                    given = await recommendation_rules.give_stance(
                        uow, person, link.recommendation_id, link.stance, now
                    )
                    page = self._stance_saved(person, lang, given, now)
                else:
                    confirmed = await email.confirm_link(uow, link, now)
                    person, address = confirmed.person, confirmed.address
                    mode = (await email.current(uow, person)).mode
                    page = self._confirmed(lang, address, mode)
                    if confirmed.new and person.telegram_id is not None:
                        told = (person.telegram_id, *confirmed_message(runtime.texts, lang, address, mode))
            except Refusal as refusal:
                raise _Refused(lang, refusal) from None
            await uow.commit()
        runtime.db.health.fine()
        if told is not None:
            await self._tell(*told)
        return page

    async def _tell(self, chat_id: int, text: Html, rows: Rows) -> None:
        if self.tell is None:
            return
        try:
            await self.tell(chat_id, text, rows)
        except Exception as error:  # noqa: BLE001 - the page has said it; the chat message is a courtesy
            log.warning("the confirmation could not be told in the chat: %s", type(error).__name__)

    def _rsvp_saved(self, person: Person, lang: str, saved: meetings.Upcoming) -> Page:
        assert saved.answer is not None
        occurrence = saved.occurrence
        others = [
            Choice(
                self._plain(lang, "mail_pages.instead", choice=self._answer(lang, value)),
                self._url(mail_links.Rsvp(person.id, occurrence.id, value.value, occurrence.starts_at)),
            )
            for value in RsvpAnswer
            if value is not saved.answer
        ]
        return Page(
            200,
            lang,
            self._plain(lang, "mail_pages.saved_title"),
            self._t(
                lang,
                "mail_pages.rsvp_saved",
                answer=self._answer(lang, saved.answer),
                **self._session(lang, occurrence),
            ),
            choices_intro=self._plain(lang, "mail_pages.change"),
            choices=tuple(others),
        )

    def _stance_saved(self, person: Person, lang: str, given: recommendation_rules.StanceGiven, now: datetime) -> Page:
        recommendation = given.recommendation
        stance = self._stance(lang, given.value)
        lines = [
            self._t(lang, "mail_pages.stance_saved", stance=stance, id=recommendation.id),
            self._quote(recommendation),
        ]
        if recommendation.deadline is not None:
            when = format_when(recommendation.deadline, self.runtime.settings.timezone, lang)
            lines.append(self._t(lang, "mail_pages.stance_until", when=when))
        else:
            lines.append(self._t(lang, "mail_pages.stance_open"))
        expires = recommendation.deadline or now + mail_links.STANCE_VALID
        others = [
            Choice(
                self._plain(lang, "mail_pages.instead", choice=self._stance(lang, value)),
                self._url(mail_links.Stance(person.id, recommendation.id, value.value, expires)),
            )
            for value in StanceValue
            if value is not given.value
        ]
        return Page(
            200,
            lang,
            self._plain(lang, "mail_pages.saved_title"),
            Html("\n".join(lines)),
            choices_intro=self._plain(lang, "mail_pages.change"),
            choices=tuple(others),
        )

    def _confirmed(self, lang: str, address: str, mode: MailMode) -> Page:
        return Page(
            200,
            lang,
            self._plain(lang, "mail_pages.confirmed_title"),
            Html(
                self._t(lang, "mail_pages.confirmed", address=address)
                + "\n"
                + self._t(lang, f"mail_pages.mode_{mode.value}")
            ),
        )

    # --- words ------------------------------------------------------------------

    def _answer(self, lang: str, value: RsvpAnswer) -> str:
        return self._plain(lang, f"meetings.answer_{value.value}")

    def _stance(self, lang: str, value: StanceValue) -> str:
        return self._plain(lang, f"recommendations.stance_{value.value}")

    def _session(self, lang: str, occurrence: Occurrence) -> dict[str, object]:
        meeting = occurrence.meeting
        return {
            "group": meeting.group.name,
            "title": meeting.title,
            "when": format_when(occurrence.starts_at, ZoneInfo(meeting.timezone), lang),
        }

    def _quote(self, recommendation: Recommendation) -> Html:
        text = " ".join(recommendation.text.split())
        if len(text) > QUOTE_MAX:
            text = text[: QUOTE_MAX - 1] + "…"
        return Html(f"<blockquote>{escape(text)}</blockquote>")

    def _url(self, link: mail_links.Link) -> str:
        url = mail_links.url(self.runtime.settings, link)
        assert url is not None  # the pages are served only with PUBLIC_URL
        return url


def _rsvp_value(answer: str) -> RsvpAnswer:
    try:
        return RsvpAnswer(answer)
    except ValueError:
        raise Refusal("buttons.stale") from None


def _stance_value(stance: str) -> StanceValue:
    try:
        return StanceValue(stance)
    except ValueError:
        raise Refusal("buttons.stale") from None
