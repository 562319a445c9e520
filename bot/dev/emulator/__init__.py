"""A local Telegram Bot API for tests, benchmarks and ``kimbot sandbox`` (SPEC 11).

``Emulator`` speaks the Bot API over HTTP at Telegram's paths and is strict
where Telegram is strict; its methods let a test act as people and read what
the bot sent. Map of the package:

- ``emulator``   the ``Emulator`` class: lifecycle and in-process control API
- ``server``     tornado routes for ``/bot<token>/<method>`` and file downloads
- ``control``    the JSON control API under ``/_emulator/`` (for other processes)
- ``dispatch``   one call from token to answer, and its ``CallRecord``
- ``methods``    the implemented Bot API methods
- ``spec``       ``botapi.json`` and the validation of a call's parameters
- ``formatting`` parse modes and text/caption length rules
- ``html``, ``markdown``  Telegram's HTML and Markdown(V2) parsers
- ``entities``   UTF-16 offsets, trimming, rendering entities back to HTML
- ``markup``     inline keyboard rules (callback_data 1-64 bytes ...)
- ``state``      users, chats, messages, files, callback queries
- ``updates``    the update queue with getUpdates' offset semantics
- ``webhook``    webhook delivery with secret token and retries
- ``faults``     injected faults and Telegram's rate limits
- ``errors``     ``ApiError`` and Telegram's error descriptions
- ``payloads``   Bot API JSON objects built from the state

Run standalone with ``python -m bot.dev.emulator --port 8081``.
"""

from .dispatch import CallRecord
from .emulator import Emulator
from .errors import ApiError
from .faults import Fault, RateLimits, TooManyRequests
from .spec import BotApiSpec, Upload
from .state import CallbackQuery, Chat, Document, SentMessage, User

__all__ = [
    "ApiError",
    "BotApiSpec",
    "CallRecord",
    "CallbackQuery",
    "Chat",
    "Document",
    "Emulator",
    "Fault",
    "RateLimits",
    "SentMessage",
    "TooManyRequests",
    "Upload",
    "User",
]
