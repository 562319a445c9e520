"""One Bot API call as it passes through the emulator: its context and its record.

``CallContext`` goes with a call from the dispatcher into the method, which
notes the chat it touched (for rate limits and the record). ``CallRecord`` is
the call as the emulator answered it; ``Emulator.calls`` keeps one per call.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any


@dataclass
class CallContext:
    """One HTTP call: lets long polls notice a dropped client or a newer poll."""

    method: str
    disconnected: asyncio.Event = field(default_factory=asyncio.Event)
    chat_id: int | None = None
    is_group: bool = False


@dataclass
class CallRecord:
    """A Bot API call as the emulator answered it.

    ``status`` 0: the connection was dropped before the call was applied; with
    ``fault == "drop-after-apply"`` the call was applied (status 200) but the
    client got no answer.
    """

    seq: int
    method: str
    params: dict[str, Any]
    status: int
    description: str | None
    at: float
    duration: float
    chat_id: int | None = None
    result: Any = None
    fault: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == 200
