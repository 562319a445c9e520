"""A local Telegram Bot API for tests, benchmarks and ``kimbot sandbox`` (SPEC 11).

``Emulator`` speaks the Bot API over HTTP at Telegram's paths and is strict
where Telegram is strict; its methods let a test act as people and read what
the bot sent.

Map of the package. Modules import each other directly (never through this
package) and only downwards: no module imports one above it in this list.

- ``emulator``   the ``Emulator`` class: its lifecycle (the HTTP server), on
  top of the layers below that make its in-process control API
- ``server``     tornado routes for ``/bot<token>/<method>`` and file downloads
- ``control``    the JSON control API under ``/_emulator/`` (for other processes)
- ``control_json``  the JSON shapes of users, chats, messages, calls
- ``reading``    ``EmulatorReading``: the bot's messages, calls, updates, and
  the waiting helpers
- ``people``     ``EmulatorPeople``: people, group chats, and what people do
- ``dispatch``   one call from token to answer
- ``methods/``   the implemented Bot API methods, one module per family
  (profile, updates, messages, files, callbacks, chats)
- ``base``       ``EmulatorBase``: the parts, call bookkeeping, faults, limits
- ``calls``      ``CallContext`` and ``CallRecord``: one call on its way
- ``formatting`` parse modes and text/caption length rules
- ``html``, ``markdown``  Telegram's HTML and Markdown(V2) parsers
- ``payloads``   Bot API JSON objects built from the state
- ``webhook``    webhook delivery with secret token and retries
- ``updates``    the update queue with getUpdates' offset semantics
- ``state``      users, chats, messages, files, callback queries
- ``markup``     inline keyboard rules (callback_data 1-64 bytes ...)
- ``entities``   UTF-16 offsets, trimming, rendering entities back to HTML
- ``spec``       ``botapi.json`` and the validation of a call's parameters
- ``faults``     injected faults and Telegram's rate limits
- ``errors``     ``ApiError`` and Telegram's error descriptions

Run standalone with ``python -m bot.dev.emulator --port 8081``.
"""

from .calls import CallRecord
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
