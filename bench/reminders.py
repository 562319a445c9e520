"""Invitation benchmark: the real bot invites every member of a group, within Telegram's limits.

    .venv/bin/python bench/reminders.py [--members 600] [--postgres URL]

The local emulator enforces Telegram's limits (30 messages per second overall,
1 per second per chat, 20 per minute per group chat) and answers 429 beyond
them. The real bot (`build_application` + `running`, long polling against
the emulator) uses a SQLite database in a temporary directory (or a fresh
PostgreSQL database created next to the one `--postgres` names) holding
`--members` registered, approved members of AK EU and one coordinator. A
session is created through `bot.core.meetings.schedule`, so one invitation is owed
to every member; then the delivery timer's tick runs, and the clock stops when
every member has the invitation in the emulator.

Printed: invitations delivered, lost and duplicated, the 429s the emulator
answered, the time taken, the floor members / 30 s that Telegram's global
limit allows, and the ratio of the two (target: at most 1.1 x).

Baseline in the same run: the floor itself, and `bench/fanout.py`'s measure,
the same number of messages through a `Pacer` alone (no database, no
rendering) to as many chats of a second emulator with the same limits.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Iterable
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from time import monotonic

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import Connection, func, insert, select  # noqa: E402
from telegram.ext import Application  # noqa: E402

from bench.common import Row, StallMeter, backend, database, postgres_database  # noqa: E402, F401
from bench.fanout import TEXT, make_bot, tally  # noqa: E402
from bot.core import meetings
from bot.core.config import load_settings  # noqa: E402
from bot.dev.emulator import Emulator  # noqa: E402
from bot.telegram.app import build_application, running  # noqa: E402
from bot.telegram.delivery import Pacer  # noqa: E402
from storage.database import Database  # noqa: E402
from storage.models import Delivery, DeliveryStatus, Group, Membership, MembershipStatus, Person  # noqa: E402

TELEGRAM_PER_SECOND = 30
TARGET_RATIO = 1.1
GROUP = "ak-eu"
WAIT = 600.0  # guards against a hang only


def approve(connection: Connection, slug: str, telegram_ids: list[int], now: datetime) -> int:
    """People already in the database become approved members of group `slug` too;
    returns how many."""
    group_id = connection.execute(select(Group.id).where(Group.slug == slug)).scalar_one()
    person_ids = connection.execute(select(Person.id).where(Person.telegram_id.in_(telegram_ids))).scalars().all()
    connection.execute(
        insert(Membership),
        [
            {
                "person_id": pid,
                "group_id": group_id,
                "status": MembershipStatus.APPROVED,
                "requested_at": now,
                "decided_at": now,
            }
            for pid in person_ids
        ],
    )
    return len(person_ids)


def insert_members(connection: Connection, slug: str, telegram_ids: Iterable[int], now: datetime) -> int:
    """Registered people, approved members of group `slug`; returns how many."""
    ids = list(telegram_ids)
    people = [
        {
            "telegram_id": telegram_id,
            "display_name": f"Mitglied {telegram_id}",
            "language": "de",
            "is_coordinator": False,
            "privacy_acknowledged_at": now,
            "registered_at": now,
            "created_at": now,
        }
        for telegram_id in ids
    ]
    if not people:
        return 0
    connection.execute(insert(Person), people)
    return approve(connection, slug, ids, now)


def insert_coordinator(connection: Connection, telegram_id: int, now: datetime) -> None:
    connection.execute(
        insert(Person),
        [
            {
                "telegram_id": telegram_id,
                "display_name": "Koordination",
                "language": "de",
                "is_coordinator": True,
                "privacy_acknowledged_at": now,
                "registered_at": now,
                "created_at": now,
            }
        ],
    )


async def seed(url: str, coordinator_id: int, member_ids: Iterable[int], now: datetime) -> None:
    """A migrated database with the coordinator and approved members of `GROUP`."""
    db = Database(url)
    try:
        await db.upgrade()
        async with db.engine.begin() as conn:
            await conn.run_sync(insert_coordinator, coordinator_id, now)
            await conn.run_sync(insert_members, GROUP, member_ids, now)
    finally:
        await db.dispose()


def kimbot(emu: Emulator, url: str, coordinator_id: int, **settings: str) -> Application:
    """KIM-Bot as `kimbot run` builds it, against `emu` and `url`."""
    variables = {
        "TELEGRAM_BOT_TOKEN": emu.token,
        "TELEGRAM_API_URL": emu.base_url,
        "DATABASE_URL": url,
        "COORDINATOR_IDS": str(coordinator_id),
        "LOG_LEVEL": "WARNING",
        **settings,
    }
    return build_application(load_settings(variables), long_running=True)


def report(title: str, lines: list[tuple[str, str]]) -> None:
    print(title)
    for label, value in lines:
        print(f"  {label:<15}{value}")


async def invitations(members: int, postgres: str | None) -> dict[str, float]:
    """The real bot invites `members` people; returns elapsed seconds, 429s, lost, duplicates and the longest loop stall."""
    async with Emulator() as emu, database(postgres) as url:
        emu.set_rate_limits(True, global_per_second=30, per_chat_per_second=1, group_per_minute=20)
        coordinator = emu.add_user("Koordination", username="koordination")
        chat_ids = [emu.add_user(f"Mitglied {n}").id for n in range(members)]
        now = datetime.now(UTC)

        await seed(url, coordinator.id, chat_ids, now)
        application = kimbot(emu, url, coordinator.id)
        async with running(application, poll_timeout=1):
            runtime = application.bot_data["runtime"]
            settings = runtime.settings
            deliveries = application.bot_data["deliveries"]
            day = (now + timedelta(days=30)).astimezone(settings.timezone).date()
            request = meetings.MeetingRequest(GROUP, day, time(14, 0), "Benchmark-Sitzung", "Rathaus")
            async with runtime.db.uow() as uow:
                creator = await uow.people.by_telegram_id(coordinator.id)
                assert creator is not None
                scheduled = await meetings.schedule(uow, creator, request, settings, runtime.clock())
                await uow.commit()
            assert scheduled.invited == members, f"{scheduled.invited} invitations owed, expected {members}"

            def everyone_has_one() -> bool:
                return all(emu.messages(chat_id) for chat_id in chat_ids)

            async with StallMeter() as stalls:
                started = monotonic()
                tick = asyncio.ensure_future(deliveries.tick())
                await emu.wait_until(everyone_has_one, WAIT)
                elapsed = monotonic() - started
            sent_by_tick = await asyncio.wait_for(tick, WAIT)
            await emu.wait_idle(quiet=1.5, timeout=WAIT)  # anything doubled arrives now at the latest

            async with runtime.db.uow() as uow:
                recorded = await uow.session.scalar(
                    select(func.count()).select_from(Delivery).where(Delivery.status == DeliveryStatus.SENT)
                )

        delivered, lost, duplicates = tally(emu, chat_ids)
        invited = sum(
            1 for chat_id in chat_ids if any("Benchmark-Sitzung" in (m.text or "") for m in emu.messages(chat_id))
        )
        floor = members / TELEGRAM_PER_SECOND
        ratio = elapsed / floor
        verdict = "ok" if ratio <= TARGET_RATIO else "over target"
        report(
            f"Real bot: invitations to {members} members, {backend(postgres)}, emulator with Telegram's limits",
            [
                (
                    "delivered",
                    f"{delivered} (with the session's title: {invited}; recorded sent: {recorded}; tick said {sent_by_tick})",
                ),
                ("lost", str(lost)),
                ("duplicates", str(duplicates)),
                ("429 answered", str(len(emu.too_many_requests))),
                ("elapsed", f"{elapsed:.2f} s (tick start until every member has the invitation)"),
                ("floor", f"{floor:.2f} s ({members} / {TELEGRAM_PER_SECOND} per second)"),
                ("elapsed/floor", f"{ratio:.3f} (target <= {TARGET_RATIO}: {verdict})"),
                (
                    "longest stall",
                    f"{stalls.longest * 1000:.1f} ms of the event loop during the fan-out",
                ),
            ],
        )
        return {
            "elapsed": elapsed,
            "too_many": len(emu.too_many_requests),
            "lost": lost,
            "duplicates": duplicates,
            "stall": stalls.longest,
        }


async def pacer_alone(members: int) -> float:
    """bench/fanout.py's measure: the Pacer alone to as many chats; returns the elapsed seconds."""
    async with Emulator() as emu:
        emu.set_rate_limits(True, global_per_second=30, per_chat_per_second=1, group_per_minute=20)
        chat_ids = [emu.add_user(f"Mitglied {n}").id for n in range(members)]
        async with make_bot(emu) as bot:
            pacer = Pacer(bot)
            started = monotonic()
            await pacer.fan_out((chat_id, TEXT) for chat_id in chat_ids)
            elapsed = monotonic() - started
        delivered, lost, duplicates = tally(emu, chat_ids)
        floor = members / TELEGRAM_PER_SECOND
        report(
            f"Baseline: the Pacer alone, {members} chats, emulator with Telegram's limits",
            [
                ("delivered", str(delivered)),
                ("lost", str(lost)),
                ("duplicates", str(duplicates)),
                ("429 answered", str(len(emu.too_many_requests))),
                ("elapsed", f"{elapsed:.2f} s"),
                ("elapsed/floor", f"{elapsed / floor:.3f}"),
            ],
        )
        return elapsed


async def suite(quick: bool, postgres: str | None) -> list[Row]:
    """Item 2 (delivery time over the floor, zero 429) and item 4 (loop stall during the fan-out)."""
    members = 150 if quick else 600
    outcome = await invitations(members, postgres)
    floor = members / TELEGRAM_PER_SECOND
    ratio = outcome["elapsed"] / floor
    clean = outcome["too_many"] == 0 and outcome["lost"] == 0 and outcome["duplicates"] == 0
    return [
        Row(
            f"fan-out: reminder to {members} members ({backend(postgres)})",
            f"{outcome['elapsed']:.2f} s, {outcome['too_many']:.0f} x 429, {outcome['lost']:.0f} lost",
            f"floor {floor:.2f} s (30/s)",
            ratio,
            "<= 1.1 x, 0 x 429",
            ratio <= TARGET_RATIO and clean,
        ),
        Row(
            f"loop stall during fan-out ({backend(postgres)})",
            f"{outcome['stall'] * 1000:.1f} ms",
            "-",
            None,
            "< 100 ms",
            outcome["stall"] < 0.1,
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=600, help="approved members of the group (600)")
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help="use PostgreSQL: a fresh database is created (and dropped) on the server of URL, "
        "e.g. postgresql://postgres@127.0.0.1:5432/postgres",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    bot_elapsed = asyncio.run(invitations(args.members, args.postgres))["elapsed"]
    print()
    pacer_elapsed = asyncio.run(pacer_alone(args.members))
    floor = args.members / TELEGRAM_PER_SECOND
    print()
    print("Ratios")
    print(f"  real bot / floor        {bot_elapsed / floor:.3f} (target <= {TARGET_RATIO})")
    print(f"  real bot / Pacer alone  {bot_elapsed / pacer_elapsed:.3f}")
    print(f"  Pacer alone / floor     {pacer_elapsed / floor:.3f}")


if __name__ == "__main__":
    main()
