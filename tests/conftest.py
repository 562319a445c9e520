"""Fixtures: real databases (SQLite, PostgreSQL), the emulator, the real bot.

PostgreSQL tests run when `KIMBOT_TEST_POSTGRES_URL` is set (`.ci/run` sets
it); without it they are skipped, except under CI, where they fail instead,
so a CI run can never pass without them. Each test session gets its own
PostgreSQL database, and each test starts from empty tables with the seeded
groups.

`figures` collects what the reliability tests did (faults injected, crashes
survived, hostile messages sent, updates lost, messages sent twice); the
totals are printed at the end of the run, summed over the workers when the
tests run in several processes (`./dev pytest` runs them with `-n auto`).

Hypothesis (the property tests) keeps the examples that failed in
`.hypothesis/` at the root of the repository and tries them first in the next
run; a failure also prints the `@reproduce_failure` line that replays it
where that directory is gone (a CI run on a clean clone).
"""

from __future__ import annotations

import asyncio
import fcntl
import gc
import os
import shutil
import tempfile
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis.database import DirectoryBasedExampleDatabase
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.dev.emulator import Emulator
from storage.database import Database
from storage.models import Base
from storage.seed import seed_groups
from tests.harness import FIGURES, BotHarness, make_settings, start_harness
from tests.mailbox import Mailbox

POSTGRES_ENV = "KIMBOT_TEST_POSTGRES_URL"
ROOT = Path(__file__).resolve().parent.parent

settings.register_profile(
    "kimbot",
    database=DirectoryBasedExampleDatabase(ROOT / ".hypothesis" / "examples"),
    print_blob=True,
    deadline=None,  # a conversation with the real bot takes as long as it takes
    # An example restores its own world (tests/snapshots.py): the function-scoped
    # fixtures it shares with the others (a database URL, caplog) hold no state of it.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile("kimbot")


@pytest.fixture(autouse=True)
def _alone_with_telegrams_limits(request: pytest.FixtureRequest) -> Iterator[None]:
    """Under `pytest -n` (pytest-xdist), a test marked `telegram_limits` runs while
    no other test runs, on a lock file the workers share: it holds the bot to
    Telegram's messages per second in real time, and the emulator, in the
    test's own process, counts a message when its event loop gets to it. With
    the other core busy, a loop that stalls hands it a clump of messages that
    left evenly spaced. Every other test only shares the lock.

    Such a test also runs with what the process held before it frozen out of
    the garbage collector (as `kimbot run` does after its start, see
    `bot.telegram.app.settle_heap`): in a worker that has run a thousand tests,
    a full collection over all they left stalls the loop for long enough to
    clump the messages of a second."""
    alone = request.node.get_closest_marker("telegram_limits") is not None
    if alone:
        gc.collect()
        gc.freeze()
    try:
        with _tests_lock(request.config, exclusive=alone):
            yield
    finally:
        if alone:
            gc.unfreeze()


@contextmanager
def _tests_lock(config: pytest.Config, exclusive: bool) -> Iterator[None]:
    """The lock file the workers of one `pytest -n` run share (none without workers)."""
    workerinput = getattr(config, "workerinput", None)
    if workerinput is None:
        yield
        return
    path = Path(tempfile.gettempdir()) / f"kimbot-tests-{workerinput['testrunuid']}.lock"
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@pytest.fixture
async def mailbox() -> AsyncIterator[Mailbox]:
    """A real SMTP server on the loopback interface for the mail tests (tests/mailbox.py)."""
    box = await Mailbox.start()
    try:
        yield box
    finally:
        await box.away()


@pytest.fixture
def figures() -> Counter[str]:
    """Add to a figure of the reliability suite: `figures["crashes survived"] += 1`."""
    return FIGURES


def pytest_sessionfinish(session: pytest.Session) -> None:
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # a worker of `pytest -n` (pytest-xdist): hand the figures over
        workeroutput["figures"] = dict(FIGURES)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:  # type: ignore[no-untyped-def]
    """A worker of `pytest -n` finished: add its figures to the run's."""
    FIGURES.update(getattr(node, "workeroutput", {}).get("figures", {}))


def pytest_terminal_summary(terminalreporter) -> None:  # type: ignore[no-untyped-def]
    if FIGURES:
        terminalreporter.section("reliability figures")
        for name, value in sorted(FIGURES.items()):
            terminalreporter.write_line(f"{name}: {value}")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped at the end."""
    yield from _fresh_postgres()


@pytest.fixture
def empty_postgres_url() -> Iterator[str]:
    """A PostgreSQL database of its own for one test, empty (not even migrated)."""
    yield from _fresh_postgres()


def _fresh_postgres() -> Iterator[str]:
    admin_url = os.environ.get(POSTGRES_ENV)
    if not admin_url:
        if os.environ.get("CI"):
            pytest.fail(f"CI is set but {POSTGRES_ENV} is not: the PostgreSQL tests must run in CI")
        pytest.skip(f"PostgreSQL tests need {POSTGRES_ENV}")
    name = f"kimbot_test_{uuid.uuid4().hex[:10]}"

    async def admin(statement: str) -> None:
        db = Database(admin_url)
        try:
            async with db.engine.connect() as conn:
                conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
                await conn.execute(text(statement))
        finally:
            await db.dispose()

    def run(statement: str) -> None:
        # Requested from inside a test's event loop: run on a loop of its own.
        with ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, admin(statement)).result()

    run(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database file migrated and seeded once per test session: each
    test starts from a copy of it (migrating a new file takes half a second)."""
    path = tmp_path_factory.mktemp("template") / "kimbot.db"

    async def build() -> None:
        await _empty_and_seeded(f"sqlite:///{path}")

    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, build()).result()
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path) -> AsyncIterator[str]:  # type: ignore[no-untyped-def]
    """The URL of an empty, migrated, seeded database of each kind."""
    if request.param == "sqlite":
        path = tmp_path / "kimbot.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    url = request.getfixturevalue("postgres_url")
    await _empty_and_seeded(url)
    yield url


async def _empty_and_seeded(url: str) -> None:
    """Migrate the database at `url`, then leave only the seeded groups in it."""
    db = Database(url)
    try:
        await db.upgrade()
        async with db.engine.begin() as conn:
            for table in reversed(Base.metadata.sorted_tables):
                await conn.execute(table.delete())
            if conn.dialect.name == "postgresql":
                # Ids start at 1 in every test, as on SQLite: a test sees the same ids
                # whichever tests ran before it.
                await conn.execute(text("SELECT setval(oid::regclass, 1, false) FROM pg_class WHERE relkind = 'S'"))
            await conn.run_sync(seed_groups)
    finally:
        await db.dispose()


@pytest.fixture
async def database_writer(database_url: str) -> AsyncIterator[Database]:
    """A connection pool of the test's own on its database: the property tests
    restore their world through it in every example (tests/snapshots.py)."""
    db = Database(database_url)
    try:
        yield db
    finally:
        await db.dispose()


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    emu = Emulator()
    await emu.start()
    try:
        yield emu
    finally:
        FIGURES["faults of Telegram injected"] += sum(c.fault is not None for c in emu.calls)
        await emu.stop()


@pytest.fixture
def bot_env() -> dict[str, str]:
    """Extra configuration for the bot under test; override in a module to change it."""
    return {}


@pytest.fixture
async def bot(emulator: Emulator, database_url: str, bot_env: dict[str, str]) -> AsyncIterator[BotHarness]:
    """The real bot, with one coordinator ("Sabine Weber") already known to Telegram."""
    coordinator = emulator.add_user("Sabine", last_name="Weber", username="sabine_kim", language_code="de")
    settings = make_settings(emulator, database_url, [coordinator.id], **bot_env)
    harness, context = await start_harness(emulator, settings)
    from tests.harness import Person

    harness.people["Sabine"] = Person(harness, coordinator)
    try:
        yield harness
    finally:
        await context.__aexit__(None, None, None)


@pytest.fixture
def coordinator(bot: BotHarness):  # type: ignore[no-untyped-def]
    return bot.people["Sabine"]
