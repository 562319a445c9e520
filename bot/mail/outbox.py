"""The mailer: sends the mails the bot owes (`storage.mail_models.Mail`).

Like the Telegram timer (`bot.telegram.deliveries`) and beside it, so that a
mail server that is away never holds Telegram back, nor the other way round:
- only the leading process sends (storage.cluster); a run claims the due
  mails and commits, renders them, then hands them to the server one by
  one, paced to `MAIL_RATE`, and records each outcome at once: a crash
  repeats at most the mail in flight;
- a mail the server did not take for a passing reason is tried again after
  `RETRY_AFTER` (the last pause repeats) until `GIVE_UP` after it was owed;
- a refused address is marked bounced (`bot.core.email.bounced`);
- the loop never dies: whatever a run meets, it waits and runs again; the
  timer's runs and new confirmations wake it (`wake`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from email.message import EmailMessage

from bot.core import email
from bot.mail.letters import FetchFile, Skip, letter
from bot.mail.sending import Connection, Outcome, Result
from handlers.common import Runtime
from handlers.outbox import Batch, Renderer
from storage.cluster import Cluster
from storage.database import unavailable
from storage.inbox_repository import handling
from storage.models import DeliveryKind, DeliveryStatus

log = logging.getLogger(__name__)

RETRY_AFTER = (
    timedelta(seconds=30),
    timedelta(minutes=2),
    timedelta(minutes=10),
    timedelta(minutes=30),
    timedelta(hours=1),
)
GIVE_UP = timedelta(days=3)
MAX_SLEEP = 300.0
FAILED_RETRY = 10.0
BATCH_SECONDS = 20
"""A run claims what `MAIL_RATE` sends in this many seconds (at least 10 mails, at most 200):
a confirmation asked meanwhile waits at most that long."""


class Mailer:
    def __init__(
        self,
        runtime: Callable[[], Runtime],
        cluster: Cluster,
        renderers: Mapping[DeliveryKind, Renderer],
        fetch_file: FetchFile | None = None,
    ) -> None:
        self._runtime = runtime
        self.cluster = cluster
        self.renderers = renderers
        self.fetch_file = fetch_file
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._failed_run = False
        self._unmarked: dict[int, tuple[Result, datetime]] = {}
        self.sent = 0
        """Mails the server accepted since start (for the sandbox and the benchmarks)."""

    @property
    def runtime(self) -> Runtime:
        return self._runtime()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._loop(), name="kimbot-mailer")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass

    def wake(self) -> None:
        self._wake.set()

    async def _loop(self) -> None:
        token = handling.set(None)  # the mailer's own work
        try:
            while True:
                delay = await self._run_and_delay()
                try:
                    await asyncio.wait_for(self._wake.wait(), delay)
                except TimeoutError:
                    pass
                self._wake.clear()
        finally:
            handling.reset(token)

    async def _run_and_delay(self) -> float:
        try:
            await self.tick()
            return await self._delay()
        except Exception as error:  # noqa: BLE001 - the mailer never dies
            self._failed(error)
            return FAILED_RETRY

    def _failed(self, error: BaseException) -> None:
        if unavailable(error):
            self.runtime.db.health.failed(error)
        elif not self._failed_run:
            log.error("the mailer failed; it tries again every %.0f s", FAILED_RETRY, exc_info=error)
        self._failed_run = True

    async def _delay(self) -> float:
        if self._unmarked or self._failed_run:
            return FAILED_RETRY
        async with self.runtime.db.reader() as uow:
            next_due = await uow.mail.next_due_at()
        if next_due is None:
            return MAX_SLEEP
        return min(MAX_SLEEP, max(0.0, (next_due - self.runtime.clock()).total_seconds()))

    async def tick(self) -> int:
        """Send every mail due now; returns how many the server accepted."""
        async with self._lock:
            token = handling.set(None)
            try:
                if not self.cluster.leading or not self.runtime.settings.mail_on:
                    return 0
                sent = await self._run_once()
                if self._failed_run:
                    self._failed_run = False
                    log.warning("the mailer runs again")
                return sent
            finally:
                handling.reset(token)

    async def _run_once(self) -> int:
        runtime = self.runtime
        settings = runtime.settings
        assert settings.smtp is not None
        await self._mark_unmarked()
        async with runtime.db.uow() as uow:
            due = await uow.mail.due(runtime.clock(), min(200, max(10, int(settings.mail_rate * BATCH_SECONDS))))
            for claimed in due:
                claimed.claimed_by = uow.cluster.process_id
            ids = [m.id for m in due]
            await uow.commit()
        if not ids:
            return 0
        letters: list[tuple[int, EmailMessage]] = []
        done: list[tuple[int, Result]] = []
        async with runtime.db.reader() as uow:
            batch = Batch()
            for mail_id in ids:
                mail = await uow.mail.get(mail_id)
                if mail is None:
                    continue
                try:
                    made = await letter(runtime, uow, batch, mail, self.renderers, self.fetch_file)
                except Skip as why:
                    done.append((mail_id, Result(Outcome.FAILED, f"skipped: {why}")))
                    continue
                except Exception as error:
                    if unavailable(error):
                        raise
                    log.error("mail %s could not be prepared; it is skipped", mail_id, exc_info=error)
                    done.append((mail_id, Result(Outcome.FAILED, f"render: {type(error).__name__}")))
                    await uow.rollback()
                    batch = Batch()
                    continue
                assert isinstance(made, EmailMessage)
                letters.append((mail_id, made))
        for mail_id, result in done:
            await self._record(mail_id, result)
        connection = Connection(settings.smtp)
        pause = 1.0 / settings.mail_rate
        sent = 0
        try:
            for index, (mail_id, message) in enumerate(letters):
                if not self.cluster.leading:
                    await self._release([rest_id for rest_id, _ in letters[index:]])  # the new leader sends them
                    break
                if index:
                    await asyncio.sleep(pause)
                result = await connection.send(message)
                await self._record(mail_id, result)
                if result.outcome is Outcome.SENT:
                    sent += 1
                elif result.outcome is Outcome.RETRY and not connection_alive(result):
                    # the server is away: the rest wait for the same pause, untried
                    for rest_id, _ in letters[index + 1 :]:
                        await self._record(rest_id, Result(Outcome.RETRY, result.error), tried=False)
                    break
        finally:
            await connection.close()
        self.sent += sent
        return sent

    async def _record(self, mail_id: int, result: Result, tried: bool = True) -> None:
        runtime = self.runtime
        at = runtime.clock()
        try:
            async with runtime.db.uow() as uow:
                mail = await uow.mail.get(mail_id)
                if mail is None:
                    return
                if tried:
                    mail.attempts += 1
                mail.error = result.error
                mail.claimed_by = None
                if result.outcome is Outcome.SENT:
                    mail.status, mail.sent_at = DeliveryStatus.SENT, at
                elif result.outcome is Outcome.RETRY and at - mail.created_at < GIVE_UP:
                    pause = RETRY_AFTER[min(max(mail.attempts, 1), len(RETRY_AFTER)) - 1]
                    mail.due_at = at + pause
                    log.warning("mail %s will be tried again in %s: %s", mail_id, pause, result.error)
                else:
                    mail.status = (
                        DeliveryStatus.SKIPPED
                        if result.error and result.error.startswith("skipped")
                        else DeliveryStatus.FAILED
                    )
                    if result.outcome is Outcome.BOUNCED:
                        await email.bounced(uow, mail.person_id, mail.address, result.error or "", at)
                await uow.commit()
        except Exception as error:
            if not unavailable(error):
                raise
            runtime.db.health.failed(error)
            self._unmarked[mail_id] = (result, at)

    async def _release(self, mail_ids: list[int]) -> None:
        """Claims given up untried: another process may take these mails at once."""
        async with self.runtime.db.uow() as uow:
            for mail_id in mail_ids:
                mail = await uow.mail.get(mail_id)
                if mail is not None and mail.claimed_by == uow.cluster.process_id:
                    mail.claimed_by = None
            await uow.commit()

    async def _mark_unmarked(self) -> None:
        for mail_id, (result, _) in list(self._unmarked.items()):
            del self._unmarked[mail_id]
            await self._record(mail_id, result)


def connection_alive(result: Result) -> bool:
    """A passing refusal of one mail (4xx) leaves the server usable; an error of the line does not."""
    return result.error is not None and result.error[:1].isdigit()
