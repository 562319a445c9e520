"""Reminder delivery: the timer, and the messages owed by `bot.core.reminders`.

One job (`TICK_JOB`) plans, takes what is due, sends it through the paced
sender and arms itself again for the next due record (at the latest after
`MAX_SLEEP`, so newly planned sessions are picked up). The timer is only a
wake-up call: what is due comes from the database, so a late timer (a busy
loop, a suspended machine) still sends everything — APScheduler's misfire
grace is switched off for this job — and a restart simply runs a tick.

The timer knows no feature: what a record says comes from the renderer the
composition registered for its kind (`handlers.outbox.Renderer`), and the
features wake the timer through the runtime, never by importing it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from telegram.ext import Application, CallbackContext

from bot.core import mail_routing, people, reminders
from bot.core.reminders import Due
from bot.telegram.delivery import Delivered, Outcome, Pacer
from handlers.common import Runtime, keyboard
from handlers.outbox import Batch, Document, Part, Renderer
from storage.cluster import Cluster
from storage.database import unavailable
from storage.inbox_repository import handling
from storage.models import DeliveryKind, DeliveryStatus
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)

TICK_JOB = "kimbot-deliveries"
MAX_SLEEP = timedelta(minutes=15)
OUTAGE_RECHECK = 30.0
"""Seconds until the next tick when Telegram did not answer (the link's return also wakes it)."""
FAILED_RETRY = 10.0
"""Seconds until the next tick after a run that failed (the database away, a bug)."""
FIRST_CHUNK = 5
"""Records rendered before the first message of a run leaves."""
CHUNK = 30
"""Records rendered at a time after the first chunk: about a second of sending at Telegram's pace."""


class Deliveries:
    """Runs ticks one at a time: a wake-up during a tick waits for it, then runs.

    Only the leader among the processes runs ticks (storage.cluster); a process
    that stops leading stops sending at once, before its next message.

    The timer never dies: whatever a run meets (the database away, a bug in
    one message), it ends by arming the next run, within `FAILED_RETRY` when it
    failed. A run that fails is logged once, not on every retry, until a run
    succeeds again. A record that cannot be rendered or sent is marked failed
    with its error and skipped; the others go out. A record sent while the
    database was away is remembered (`_unmarked`) and marked sent when it is
    back, before anything else is taken, so it is never sent again."""

    def __init__(
        self,
        application: Application,
        pacer: Pacer,
        cluster: Cluster,
        renderers: Mapping[DeliveryKind, Renderer],
    ) -> None:
        missing = set(DeliveryKind) - set(renderers)
        if missing:
            raise ValueError(f"no renderer for {sorted(k.value for k in missing)}")
        self.application = application
        self.pacer = pacer
        self.cluster = cluster
        self.renderers = renderers
        self._lock = asyncio.Lock()
        self._postponed = False
        self._failed_run = False
        self._unmarked: dict[int, tuple[Delivered, datetime]] = {}
        self.after_tick: list[Callable[[], None]] = []
        """Called after every run (the mailer: the run may have queued mails)."""
        pacer.may_send = lambda: cluster.leading
        cluster.on_leading(self._leading_changed)
        cluster.on_wake(lambda: schedule_tick(application, when=0))

    @property
    def runtime(self) -> Runtime:
        return self.application.bot_data["runtime"]  # type: ignore[no-any-return]  # bot_data holds Any; the composition puts the Runtime there

    def _leading_changed(self, leading: bool) -> None:
        if leading:
            schedule_tick(self.application, when=0)

    async def tick(self) -> int:
        """Plan, send everything due, arm the timer; returns how many were sent."""
        async with self._lock:
            token = handling.set(None)  # the timer's own work, whatever woke it
            try:
                if not self.cluster.leading:
                    return 0
                self._postponed = False
                sent = 0
                try:
                    sent = await self._run_once()
                except Exception as error:  # noqa: BLE001 - the timer never dies
                    self._failed(error)
                else:
                    if self._failed_run:
                        self._failed_run = False
                        log.warning("the delivery timer runs again")
                    self.runtime.db.health.fine()
                await self._arm()
            finally:
                handling.reset(token)
        for call in self.after_tick:
            call()
        return sent

    def _failed(self, error: BaseException) -> None:
        if unavailable(error):
            self.runtime.db.health.failed(error)
        elif not self._failed_run:
            log.error("the delivery timer failed; it tries again every %.0f s", FAILED_RETRY, exc_info=error)
        else:
            log.debug("the delivery timer failed again: %s", type(error).__name__)
        self._failed_run = True

    async def _run_once(self) -> int:
        runtime = self.runtime
        await self._mark_unmarked()
        async with runtime.db.uow() as uow:
            await reminders.plan(uow, runtime.settings, runtime.clock())
        async with runtime.db.uow() as uow:
            due = await reminders.take_due(uow, runtime.settings, runtime.clock())
            await uow.commit()
        return await self._send_all(due)

    async def _send_all(self, due: list[Due]) -> int:
        """Render the records a chunk at a time and send them while the next chunk renders.

        The first message leaves after `FIRST_CHUNK` renders, not after all of
        them (a fan-out to hundreds renders for a while). Each chunk renders in
        a unit of work of its own, a few milliseconds long, and only while the
        chunk before it is still being sent: a render never holds the database
        (or a pooled connection) in front of the records of messages Telegram
        has accepted, so a crash repeats only the messages in flight. At most
        two chunks wait at the pacer, so what a message shows is read at most a
        couple of seconds before it leaves.

        Whatever ends the run early (the database away, a bug, the run
        cancelled), the messages already handed to the pacer are seen through
        (or cancelled with the run) before it ends: none is left sending
        behind the next run's back."""
        sending: list[asyncio.Task[int]] = []  # the chunk being sent
        started: list[asyncio.Task[int]] = []
        sent = 0
        try:
            start, size = 0, FIRST_CHUNK
            while start < len(due):
                chunk = due[start : start + size]
                start, size = start + size, CHUNK
                rendered = await self._render_chunk(chunk)
                queued = [asyncio.ensure_future(self._deliver(item, parts)) for item, parts in rendered]
                started += queued
                sent += sum(await asyncio.gather(*sending))
                sending = queued
                if self._postponed or not self.cluster.leading:
                    break  # Telegram is away, or another process sends now: the rest stays due
            sent += sum(await asyncio.gather(*sending))
        except Exception:
            await asyncio.gather(*started, return_exceptions=True)
            raise
        except BaseException:  # cancelled: the messages not sent yet are not sent
            for task in started:
                task.cancel()
            await asyncio.gather(*started, return_exceptions=True)
            raise
        return sent

    async def _render_chunk(self, chunk: list[Due]) -> list[tuple[Due, list[Part]]]:
        """The chunk's messages, in one short reader unit of work; a record that
        cannot be rendered is marked failed, the others are returned."""
        rendered: list[tuple[Due, list[Part]]] = []
        broken: list[tuple[Due, BaseException]] = []
        async with self.runtime.db.reader() as uow:
            batch = Batch()
            for item in chunk:
                try:
                    rendered.append((item, await self._render(uow, batch, item)))
                except Exception as error:
                    if unavailable(error):
                        raise
                    broken.append((item, error))
                    await uow.rollback()  # a failed query leaves the transaction unusable
                    batch = Batch()
        if broken:
            await self._mark_broken(broken)
        return rendered

    async def _mark_broken(self, broken: list[tuple[Due, BaseException]]) -> None:
        runtime = self.runtime
        async with runtime.db.uow() as uow:
            for item, error in broken:
                log.error(
                    "delivery %s (%s) could not be prepared; it is skipped",
                    item.delivery_id,
                    item.kind.value,
                    exc_info=error,
                )
                await reminders.mark(
                    uow, item.delivery_id, DeliveryStatus.FAILED, runtime.clock(), f"render: {type(error).__name__}"
                )
            await uow.commit()

    async def _send(self, chat_id: int, part: Part) -> Delivered:
        try:
            if isinstance(part, Document):
                document = part.file_id or part.data
                return await self.pacer.send_document(chat_id, document, filename=part.filename, caption=part.caption)
            return await self.pacer.send_message(chat_id, part.text, reply_markup=keyboard(part.rows))
        except Exception as error:  # noqa: BLE001 - a fault of this one message
            log.error("a message to chat %s could not be sent", chat_id, exc_info=error)
            return Delivered(Outcome.FAILED, error=f"{type(error).__name__}")

    async def _deliver(self, item: Due, parts: list[Part]) -> int:
        """Send the parts of one record in order; it is sent when the last one was accepted.
        (A record whose later part failed is sent again as a whole later.)"""
        for part in parts:
            result = await self._send(item.chat_id, part)
            if result.outcome is not Outcome.SENT:
                break
        if result.outcome is Outcome.POSTPONED:
            self._postponed = True  # Telegram is away (or this process stopped leading)
            return 0
        if result.outcome is not Outcome.SENT:
            log.warning("delivery %s to chat %s failed: %s", item.delivery_id, item.chat_id, result.error)
        try:
            await self._record(item, result, self.runtime.clock())
        except Exception as error:
            if not unavailable(error):
                raise
            # Sent, but the database is away: marked when it is back, never sent again.
            self.runtime.db.health.failed(error)
            self._unmarked[item.delivery_id] = (result, self.runtime.clock())
        return 1 if result.outcome is Outcome.SENT else 0

    async def _record(self, item: Due | int, result: Delivered, at: datetime) -> None:
        """The outcome of one record, and an unreachable person, in one transaction."""
        runtime = self.runtime
        delivery_id = item if isinstance(item, int) else item.delivery_id
        async with runtime.db.uow() as uow:
            if result.outcome is Outcome.SENT:
                await reminders.mark(uow, delivery_id, DeliveryStatus.SENT, at)
            elif result.outcome is Outcome.FAILED and result.transient:
                if await reminders.retry_later(uow, delivery_id, at, result.error):
                    log.warning("delivery %s will be tried again: %s", delivery_id, result.error)
            else:
                await reminders.mark(uow, delivery_id, DeliveryStatus.FAILED, at, result.error)
                if result.outcome is Outcome.BLOCKED and isinstance(item, Due):
                    await people.mark_unreachable(uow, item.chat_id, at)
                    await mail_routing.fallback(uow, runtime.settings, delivery_id, at)  # by e-mail instead, once
            await uow.commit()

    async def _mark_unmarked(self) -> None:
        for delivery_id, (result, at) in list(self._unmarked.items()):
            await self._record(delivery_id, result, at)
            del self._unmarked[delivery_id]

    async def _render(self, uow: UnitOfWork, batch: Batch, item: Due) -> list[Part]:
        runtime = self.runtime
        lang = item.language or await people.language_of_row(uow, item.person_id, runtime.settings)
        return await self.renderers[item.kind](runtime, uow, item, lang, batch)

    async def _arm(self) -> None:
        """The next run: when the next record falls due (at the latest after
        `MAX_SLEEP`), or within `FAILED_RETRY` when this run failed."""
        runtime = self.runtime
        delay = MAX_SLEEP.total_seconds()
        try:
            async with runtime.db.reader() as uow:
                next_due = await reminders.next_due_at(uow)
        except Exception as error:  # noqa: BLE001 - armed all the same
            self._failed(error)
            next_due = None
        if next_due is not None:
            delay = min(delay, max(0.0, (next_due - runtime.clock()).total_seconds()))
        if self._postponed:
            delay = max(delay, OUTAGE_RECHECK)
        if self._failed_run or self._unmarked:
            delay = min(delay, FAILED_RETRY)
        schedule_tick(self.application, when=delay)


async def _tick_job(context: CallbackContext) -> None:
    deliveries: Deliveries = context.application.bot_data["deliveries"]
    await deliveries.tick()


def schedule_tick(application: Application, when: float = 0) -> None:
    """Arm (or re-arm) the one delivery timer `when` seconds from now."""
    job_queue = application.job_queue
    if job_queue is None:
        return
    job_queue.run_once(
        _tick_job,
        when=when,
        name=TICK_JOB,
        # max_instances=2: the tick re-arms this job while it is still running; with
        # APScheduler's default of 1, a re-arm that fires at once (more is due) would be
        # skipped, and the timer dropped with it. The second instance waits for the lock.
        job_kwargs={
            "id": TICK_JOB,
            "replace_existing": True,
            "misfire_grace_time": None,
            "coalesce": True,
            "max_instances": 2,
        },
    )
