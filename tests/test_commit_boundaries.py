"""One transaction per update, proven with `kill -9` at every commit boundary.

`kimbot run` runs as a real process with a hook (tests/crash_hook) that kills
it with SIGKILL just before or just after the N-th commit that writes, counted
from the moment the test arms it. For each flow below the test arms N = 1, 2,
... on both sides of the commit, acts as the person, and restarts the process
after the kill, until a run passes all boundaries without one. After each
run it checks the effects, not the bookkeeping:

- the effect (a person, a topic, a membership, a stance) exists exactly once;
- the update was answered once; only when the process died right after the
  commit that saved it is the answer missing (it is sent after that commit), and
  its effect is there all the same;
- a kill before a commit loses nothing: the update is handled after the
  restart, and answered;
- no one gets the apology for an internal error.

The flows: a new person's /start; a member whose Telegram username changed
proposing a topic; a command that leaves a guided step; an invite redeemed
with /start; a stance pressed on a recommendation. Nobody resends anything:
the answer or the effect comes from the bot alone.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import ColumnElement, func, select

from bot.core import recommendations
from bot.core.config import load_settings
from bot.core.steps import Step
from bot.dev.emulator import Emulator
from bot.dev.emulator.state import User
from storage.database import Database
from storage.models import (
    AgendaItem,
    Invite,
    Membership,
    MembershipStatus,
    Person,
    Stance,
    StanceValue,
)
from tests.bot_process import WAIT, launch, logs, stop
from tests.factories import registered

ROUNDS = 5
"""Each flow passes its boundaries (an inbox record and the update's commit) in
fewer rounds; the loop ends at the first run without a kill."""
APOLOGY = "etwas schiefgegangen"
HOOK = Path(__file__).parent / "crash_hook"


@dataclass
class Actor:
    user: User
    act: Callable[[], int]
    """Sends the update (the person writes or presses); its update id."""
    effect: Callable[[Database], Awaitable[int]]
    """How often the effect exists in the database."""
    answer: str
    """A piece of the bot's answer: in a new message, or in the notice of a button press."""
    by_notice: bool = False

    def answered(self, emulator: Emulator, update_id: int, seen: int) -> int:
        """How often the answer came."""
        if self.by_notice:
            query = emulator.callback_answer(update_id)
            return int(query.answered and self.answer in (query.answer_text or ""))
        return sum(self.answer in m.text for m in emulator.messages(self.user)[seen:])


class Flow:
    """Prepares one actor per round in the database before the bot starts."""

    name = ""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator

    async def prepare(self, db: Database, now: datetime, rounds: int) -> list[Actor]:
        raise NotImplementedError

    def first_messages(self) -> dict[int, int]:
        """Messages each actor gets from the bot before the rounds (none by default)."""
        return {}


class NewPerson(Flow):
    name = "new person /start"

    async def prepare(self, db: Database, now: datetime, rounds: int) -> list[Actor]:
        actors = []
        for number in range(rounds):
            user = self.emulator.add_user(f"Neu{number}", language_code="de")

            async def effect(db: Database, uid: int = user.id) -> int:
                return await count(db, Person, Person.telegram_id == uid)

            actors.append(
                Actor(user, lambda u=user: self.emulator.send_text(u, "/start"), effect, "Willkommen beim KIM-Bot")
            )
        return actors


class MemberTopic(Flow):
    """A member of `slug` proposes a topic with one command, in a situation that
    `situate` sets up; `settled` is the person's row as it must end."""

    slug = ""

    def situate(self, person: Person, user: User, number: int, group_id: int) -> None:
        raise NotImplementedError

    def settled(self) -> ColumnElement[bool]:
        raise NotImplementedError

    async def prepare(self, db: Database, now: datetime, rounds: int) -> list[Actor]:
        actors = []
        async with db.uow() as uow:
            group = await uow.groups.by_slug(self.slug)
            assert group is not None
            for number in range(rounds):
                user = self.emulator.add_user(f"{type(self).__name__}{number}", language_code="de")
                person = registered(uow, user.id, f"{type(self).__name__} {number}", now, group.id)
                self.situate(person, user, number, group.id)
                text = f"Thema von {type(self).__name__} {number}"

                async def effect(db: Database, text: str = text, uid: int = user.id) -> int:
                    topics = await count(db, AgendaItem, AgendaItem.text == text)
                    settled = await count(db, Person, Person.telegram_id == uid, self.settled())
                    return topics if settled == 1 else 0

                actors.append(
                    Actor(
                        user,
                        lambda u=user, t=text: self.emulator.send_text(u, f"/agenda {self.slug} {t}"),
                        effect,
                        "Ihr Thema ist gespeichert",
                    )
                )
            await uow.commit()
        return actors


class RenamedMemberTopic(MemberTopic):
    name = "username changed, then /agenda"
    slug = "ak-eu"

    def situate(self, person: Person, user: User, number: int, group_id: int) -> None:
        person.username = f"alt_{number}"
        user.username = f"neu_{number}"  # changed in Telegram since

    def settled(self) -> ColumnElement[bool]:
        return Person.username.like("neu_%")


class GuidedStepLeft(MemberTopic):
    name = "a command leaves a guided step"
    slug = "ak-ehrenamt"

    def situate(self, person: Person, user: User, number: int, group_id: int) -> None:
        # The bot asked for a topic's text (after a bare /agenda and its button).
        person.awaiting = Step.AGENDA_TEXT
        person.awaiting_data = {"group": group_id}

    def settled(self) -> ColumnElement[bool]:
        return Person.awaiting.is_(None)


class InviteRedeemed(Flow):
    name = "/start with an invite"

    async def prepare(self, db: Database, now: datetime, rounds: int) -> list[Actor]:
        actors = []
        async with db.uow() as uow:
            group = await uow.groups.by_slug("ag-soe")
            assert group is not None
            for number in range(rounds):
                user = self.emulator.add_user(f"Eingeladen{number}", language_code="de")
                registered(uow, user.id, f"Eingeladen {number}", now)
                token = f"einladung{number:02d}test"
                uow.invites.add(
                    Invite(token=token, group_id=group.id, created_at=now, expires_at=now + timedelta(days=30))
                )

                async def effect(db: Database, uid: int = user.id, group_id: int = group.id) -> int:
                    return await count(
                        db,
                        Membership,
                        Membership.group_id == group_id,
                        Membership.status == MembershipStatus.APPROVED,
                        Membership.person_id.in_(select(Person.id).where(Person.telegram_id == uid)),
                    )

                actors.append(
                    Actor(
                        user,
                        lambda u=user, t=token: self.emulator.send_text(u, f"/start {t}"),
                        effect,
                        "Willkommen in der Gruppe",
                    )
                )
            await uow.commit()
        return actors


class StancePressed(Flow):
    name = "a stance pressed"

    async def prepare(self, db: Database, now: datetime, rounds: int) -> list[Actor]:
        actors = []
        async with db.uow() as uow:
            group = await uow.groups.by_slug("lenkungskreis")
            assert group is not None
            coordinator = registered(uow, self.emulator.add_user("Koordination").id, "Koordination", now)
            coordinator.is_coordinator = True
            users = []
            for number in range(rounds):
                user = self.emulator.add_user(f"Votum{number}", language_code="de")
                registered(uow, user.id, f"Votum {number}", now, group.id)
                users.append(user)
            await uow.flush()
            published = await recommendations.publish(
                uow,
                coordinator,
                recommendations.Targets([group]),
                "Sprachkurse am Abend anbieten",
                load_settings({"TELEGRAM_BOT_TOKEN": "x"}),
                now,
            )
            await uow.commit()
        self.users = users
        rid = published.recommendation.id
        for user in users:

            async def effect(db: Database, uid: int = user.id) -> int:
                return await count(
                    db,
                    Stance,
                    Stance.recommendation_id == rid,
                    Stance.value == StanceValue.AGREE,
                    Stance.person_id.in_(select(Person.id).where(Person.telegram_id == uid)),
                )

            actors.append(
                Actor(
                    user,
                    lambda u=user: self.emulator.press_button(u, self.emulator.messages(u)[0], "Zustimmung"),
                    effect,
                    "Gespeichert: Zustimmung",
                    by_notice=True,
                )
            )
        return actors

    def first_messages(self) -> dict[int, int]:
        return {u.id: 1 for u in self.users}


FLOWS = [NewPerson, RenamedMemberTopic, GuidedStepLeft, InviteRedeemed, StancePressed]


async def count(db: Database, model: type, *where: object) -> int:
    async with db.reader() as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def until(check: Callable[[], Awaitable[bool]], timeout: float = WAIT) -> bool:
    """Poll `check` until it holds; False after `timeout` (a guard, not a limit)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if await check():
            return True
        await asyncio.sleep(0.05)
    return False


@pytest.mark.parametrize("flow_type", FLOWS, ids=[f.__name__ for f in FLOWS])
async def test_kill_9_at_every_commit_boundary(
    flow_type: type[Flow], emulator: Emulator, database_url: str, tmp_path: Path, figures: dict[str, int]
) -> None:
    coordinator = emulator.add_user("Sabine", last_name="Weber", language_code="de")
    flow = flow_type(emulator)
    db = Database(database_url)
    kill_file = tmp_path / "kill"
    fired_file = tmp_path / "kill.fired"
    env = {
        "PYTHONPATH": os.pathsep.join([str(HOOK), os.environ.get("PYTHONPATH", "")]),
        "KIMBOT_TEST_KILL_FILE": str(kill_file),
        "DIGEST_SCHEDULE": "off",
    }
    starts = 0
    process: asyncio.subprocess.Process | None = None

    async def start() -> asyncio.subprocess.Process:
        nonlocal starts
        starts += 1
        return await launch(emulator, tmp_path, database_url, coordinator.id, f"run{starts}", **env)

    try:
        await db.upgrade()
        actors = await flow.prepare(db, datetime.now(UTC), ROUNDS)
        process = await start()
        first = flow.first_messages()
        if first:
            assert await until(_async(lambda: all(len(emulator.messages(u)) >= n for u, n in first.items()))), logs(
                tmp_path
            )
        boundaries = [(side, n) for n in (1, 2) for side in ("before", "after")] + [("before", 3)]
        kills = 0
        for actor, (side, number) in zip(actors, boundaries, strict=True):
            await emulator.wait_idle(quiet=0.2, timeout=WAIT)
            seen = len(emulator.messages(actor.user))
            kill_file.write_text(f"{side} {number}\n")
            update_id = actor.act()

            async def settled(
                actor: Actor = actor, seen: int = seen, update_id: int = update_id, running=process
            ) -> bool:
                if running.returncode is not None:
                    return True
                return bool(actor.answered(emulator, update_id, seen)) and await actor.effect(db) >= 1

            assert await until(settled), f"{flow.name}: no answer, no kill\n{logs(tmp_path)}"
            fired = fired_file.read_text().split() if fired_file.exists() else None
            # A kill right after the update's own commit (the second one: the first
            # records it in the inbox) costs the answer, which is sent after the commit:
            # the update counts as handled, its effect is saved, the answer is lost.
            answer_lost = fired is not None and fired[0] == "after" and int(fired[1]) >= 2
            if fired is not None:
                await asyncio.wait_for(process.wait(), WAIT)
                assert process.returncode == -signal.SIGKILL
                kills += 1
                figures["crashes survived (kill -9)"] += 1
                kill_file.unlink()
                fired_file.unlink()
                await emulator.wait_idle(quiet=0.3, timeout=WAIT, fetched=False)
                process = await start()

                async def recovered(
                    actor: Actor = actor, seen: int = seen, update_id: int = update_id, lose: bool = answer_lost
                ) -> bool:
                    if await actor.effect(db) < 1:
                        return False
                    return lose or bool(actor.answered(emulator, update_id, seen))

                assert await until(recovered), (
                    f"{flow.name}, killed {' '.join(fired)}: the update was lost\n{logs(tmp_path)}"
                )
                await emulator.wait_idle(quiet=1.0, timeout=WAIT)
            effects = await actor.effect(db)
            assert effects == 1, f"{flow.name}, {side} {number}: the effect exists {effects} times"
            answers = actor.answered(emulator, update_id, seen)
            assert answers == (0 if answer_lost else 1), f"{flow.name}, {side} {number}: answered {answers} times"
            texts = [m.text for m in emulator.messages(actor.user)[seen:]]
            assert not any(APOLOGY in t for t in texts), texts
            if fired is None:
                break  # every boundary of the flow passed
        else:
            raise AssertionError(f"{flow.name}: more boundaries than rounds")
        assert kills == 4, f"{flow.name}: the hook fired {kills} times, expected 4"
    finally:
        await stop(process)
        await db.dispose()


def _async(check: Callable[[], bool]) -> Callable[[], Awaitable[bool]]:
    async def wrapped() -> bool:
        return check()

    return wrapped
