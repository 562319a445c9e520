"""The table of implemented Bot API methods, and the decorator that fills it.

A method implementation receives the emulator, the already validated and
typed parameters (see ``spec.py``) and the ``CallContext``; it returns the
``result`` of the answer or raises ``ApiError``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from ..base import EmulatorBase
from ..calls import CallContext

Handler = Callable[[EmulatorBase, dict[str, Any], CallContext], Awaitable[Any]]
METHODS: dict[str, Handler] = {}


def method(name: str) -> Callable[[Handler], Handler]:
    """Register the decorated function as the Bot API method ``name``."""

    def register(handler: Handler) -> Handler:
        METHODS[name] = handler
        return handler

    return register
