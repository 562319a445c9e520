"""One Bot API call from token to answer, and its record.

``dispatch`` runs the fixed sequence for every call: token (401
"Unauthorized"), method known to the specification (404 "Not Found"),
injected fault (delay, status, dropped connection), parameter validation
(400), the method itself (501 when the emulator does not implement it; rate
limits are checked inside sending methods: 429), then answers in Telegram's
envelope. Every call, including refused ones, becomes a ``CallRecord``
(``calls.py``) in ``Emulator.calls``.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from .base import EmulatorBase
from .calls import CallContext, CallRecord
from .errors import NOT_FOUND, UNAUTHORIZED, ApiError, not_implemented
from .faults import TooManyRequests
from .methods import METHODS
from .spec import Upload

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    status: int
    body: dict[str, Any] | None
    drop: bool = False  # close the connection without answering


def _readable(params: dict[str, Any]) -> dict[str, Any]:
    return {key: (repr(v) if isinstance(v, Upload) else v) for key, v in params.items()}


async def dispatch(
    emu: EmulatorBase,
    token: str,
    method_name: str,
    raw: dict[str, Any],
    uploads: dict[str, Upload],
    *,
    from_form: bool,
    disconnected: asyncio.Event | None = None,
) -> Outcome:
    """Run one call and record it."""
    started = emu.clock()
    seq = emu.next_call_seq()
    call = _Call(emu, token, method_name, raw, uploads, from_form, disconnected)
    emu.call_started(call.name)
    try:
        outcome = await call.run()
    finally:
        emu.call_finished(call.name)
    body = outcome.body or {}
    emu.record_call(
        CallRecord(
            seq=seq,
            method=call.name,
            params=_readable(call.params),
            status=outcome.status,
            description=body.get("description"),
            at=started,
            duration=emu.clock() - started,
            chat_id=call.ctx.chat_id,
            result=body.get("result"),
            fault=call.fault_kind,
        )
    )
    return outcome


class _Call:
    def __init__(
        self,
        emu: EmulatorBase,
        token: str,
        method_name: str,
        raw: dict[str, Any],
        uploads: dict[str, Upload],
        from_form: bool,
        disconnected: asyncio.Event | None,
    ) -> None:
        self.emu = emu
        self.token = token
        self.raw = raw
        self.uploads = uploads
        self.from_form = from_form
        self.spec = emu.spec.method(method_name) if token == emu.token else None
        self.name = self.spec.name if self.spec else method_name
        self.ctx = CallContext(self.name, disconnected or asyncio.Event())
        self.params: dict[str, Any] = dict(raw)
        self.fault_kind: str | None = None

    async def run(self) -> Outcome:
        try:
            return await self._run()
        except ApiError as error:
            return Outcome(error.status, error.envelope())
        except Exception as error:  # a bug in the emulator: answer like Telegram's 500
            log.exception("emulator failed on %s", self.name)
            failure = ApiError(500, f"Internal Server Error: {type(error).__name__}: {error}")
            return Outcome(500, failure.envelope())

    async def _run(self) -> Outcome:
        emu, name = self.emu, self.name
        if self.token != emu.token:
            raise UNAUTHORIZED
        if self.spec is None:
            raise NOT_FOUND
        fault = emu.faults.take(name)
        if fault is not None and fault.delay:
            self.fault_kind = "delay"
            await emu.sleep(fault.delay)
        if fault is not None and fault.drop and not fault.after_apply:
            self.fault_kind = "drop"
            return Outcome(0, None, drop=True)
        if fault is not None and fault.status is not None:
            self.fault_kind = "status"
            error = fault.error()
            assert error is not None
            if fault.status == 429:
                retry_after = (error.parameters or {}).get("retry_after", 1)
                emu.limiter.too_many_requests.append(TooManyRequests(emu.clock(), name, None, "injected", retry_after))
            raise error
        self.params = emu.spec.decode_call(self.spec, self.raw, self.uploads, from_form=self.from_form)
        handler = METHODS.get(self.spec.name)
        if handler is None:
            raise not_implemented(self.spec.name)
        result = await handler(emu, self.params, self.ctx)
        emu.limiter.record(name, self.ctx.chat_id, self.ctx.is_group)
        if fault is not None and fault.drop and fault.after_apply:
            self.fault_kind = "drop-after-apply"
            return Outcome(200, {"ok": True, "result": result}, drop=True)
        return Outcome(200, {"ok": True, "result": result})
