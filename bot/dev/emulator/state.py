"""What the emulated Telegram knows: users, chats, messages, files, queries.

- ``User``: a person (positive id) with names, language, whether they have
  started the bot (``started``) and whether they have blocked it (``blocked``).
- ``Chat``: a private chat (id = the user's id) or a group (negative id) with
  members.
- ``SentMessage``: one message in a chat, by the bot or by a person, with the
  current text (plain), entities, reply markup, document, edit history and
  ``deleted`` flag. ``seq`` grows on every change, so a watcher can ask for
  "everything changed since n".
- ``StoredFile`` / ``Document``: uploaded bytes kept in memory, by file_id and
  by file_path.
- ``CallbackQuery``: a button press and, once answered, the bot's answer.
- ``World``: the registry of all of the above plus the ``Signal`` that wakes
  every waiter when anything changes.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .entities import Entity, render_html
from .errors import bad_request, forbidden
from .markup import button_rows


class Signal:
    """Wakes all current waiters; cheap, level-free (waiters re-check state)."""

    def __init__(self) -> None:
        self._event: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def fire(self) -> None:
        if self._event is not None:
            self._event.set()
            self._event = None

    async def wait(self, timeout: float | None) -> bool:
        """Wait for the next ``fire``; False on timeout."""
        loop = asyncio.get_running_loop()
        if self._event is None or self._loop is not loop:
            self._event = asyncio.Event()
            self._loop = loop
        event = self._event
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except TimeoutError:
            return False
        return True


@dataclass(eq=False)
class User:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    is_bot: bool = False
    started: bool = True
    blocked: bool = False

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}" if self.last_name else self.first_name

    def to_api(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        if self.language_code:
            data["language_code"] = self.language_code
        return data


@dataclass(eq=False)
class Chat:
    id: int
    type: str  # "private", "group" or "supergroup"
    title: str | None = None
    user: User | None = None
    members: list[User] = field(default_factory=list)

    @property
    def is_group(self) -> bool:
        return self.type in ("group", "supergroup")

    def to_api(self) -> dict[str, Any]:
        if self.user is not None:
            data = {"id": self.id, "type": "private", "first_name": self.user.first_name}
            if self.user.last_name:
                data["last_name"] = self.user.last_name
            if self.user.username:
                data["username"] = self.user.username
            return data
        return {"id": self.id, "type": self.type, "title": self.title or ""}


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes
    file_name: str
    mime_type: str

    @property
    def file_size(self) -> int:
        return len(self.data)


@dataclass
class Document:
    """A document in a message, as tests read it: ``name`` and ``data``."""

    name: str
    data: bytes
    mime_type: str
    file_id: str
    file_unique_id: str
    kind: str = "document"  # or "photo"

    def to_api(self) -> dict[str, Any]:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_name": self.name,
            "mime_type": self.mime_type,
            "file_size": len(self.data),
        }


@dataclass
class Version:
    """An earlier state of an edited message."""

    text: str
    entities: list[Entity]
    reply_markup: dict[str, Any] | None
    edit_date: int


@dataclass(eq=False)
class SentMessage:
    message_id: int
    chat_id: int
    from_bot: bool
    sender: User | None
    date: int
    text: str = ""
    entities: list[Entity] = field(default_factory=list)
    reply_markup: dict[str, Any] | None = None
    reply_keyboard: dict[str, Any] | None = None  # ReplyKeyboardMarkup/Remove, ForceReply
    document: Document | None = None
    reply_to_message_id: int | None = None
    edit_date: int | None = None
    history: list[Version] = field(default_factory=list)
    deleted: bool = False
    seq: int = 0

    @property
    def html(self) -> str:
        """The text re-rendered from its entities as Telegram-HTML."""
        return render_html(self.text, self.entities)

    @property
    def caption(self) -> str | None:
        return self.text if self.document is not None else None

    @property
    def buttons(self) -> list[list[tuple[str, str | None]]]:
        """Rows of (text, callback_data or url) of the inline keyboard."""
        return button_rows(self.reply_markup)

    @property
    def edits(self) -> int:
        return len(self.history)

    @property
    def edited(self) -> bool:
        return bool(self.history)

    def find_button(self, text: str) -> dict[str, Any] | None:
        for row in (self.reply_markup or {}).get("inline_keyboard", []):
            for button in row:
                if button["text"] == text:
                    return dict(button)
        return None


@dataclass
class CallbackQuery:
    id: str
    update_id: int
    user: User
    chat_id: int
    message_id: int
    data: str
    answered: bool = False
    answer_text: str | None = None
    show_alert: bool = False
    url: str | None = None


def _token(prefix: str, n: int, size: int) -> str:
    digest = hashlib.sha256(f"{prefix}:{n}".encode()).digest()
    return prefix + base64.urlsafe_b64encode(digest).decode().rstrip("=")[:size]


class World:
    """All users, chats, messages, files and callback queries of one emulator."""

    def __init__(self, wall_clock: Callable[[], float] = time.time) -> None:
        self.signal = Signal()
        self.wall_clock = wall_clock
        self.reset()

    def now(self) -> int:
        """Unix time for message dates (the sandbox may run its clock ahead)."""
        return int(self.wall_clock())

    def reset(self) -> None:
        self.users: dict[int, User] = {}
        self.chats: dict[int, Chat] = {}
        self.messages: dict[int, list[SentMessage]] = {}
        self._by_id: dict[tuple[int, int], SentMessage] = {}
        self.files: dict[str, StoredFile] = {}
        self.files_by_path: dict[str, StoredFile] = {}
        self.queries: dict[str, CallbackQuery] = {}
        self.commands: dict[tuple[str, int | None, int | None, str], list[dict[str, Any]]] = {}
        self.menu_buttons: dict[int | None, dict[str, Any]] = {}
        self.bot_texts: dict[tuple[str, str], str] = {}
        self._seq = 0
        self._user_ids = itertools.count(700_000_001)
        self._group_ids = itertools.count(1)
        self._file_ids = itertools.count(1)
        self._query_ids = itertools.count(1)
        self.signal.fire()

    # --------------------------------------------------------------- changes

    def touch(self, message: SentMessage) -> None:
        self._seq += 1
        message.seq = self._seq
        self.signal.fire()

    @property
    def seq(self) -> int:
        return self._seq

    # ----------------------------------------------------------- people/chats

    def add_user(
        self,
        first_name: str,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
        user_id: int | None = None,
        started: bool = True,
    ) -> User:
        if user_id is None:
            user_id = next(self._user_ids)
            while user_id in self.users:
                user_id = next(self._user_ids)
        elif user_id in self.users or user_id <= 0:
            raise ValueError(f"user id {user_id} is taken or not positive")
        user = User(user_id, first_name, last_name, username, language_code, started=started)
        self.users[user_id] = user
        self.chats[user_id] = Chat(user_id, "private", user=user, members=[user])
        self.messages[user_id] = []
        self.signal.fire()
        return user

    def add_group(self, title: str, members: list[User], *, supergroup: bool = False) -> Chat:
        n = next(self._group_ids)
        chat_id = -(1_000_000_000_000 + n) if supergroup else -(4_000_000_000 + n)
        chat = Chat(chat_id, "supergroup" if supergroup else "group", title, None, list(members))
        self.chats[chat_id] = chat
        self.messages[chat_id] = []
        self.signal.fire()
        return chat

    def user(self, user_id: int) -> User:
        try:
            return self.users[user_id]
        except KeyError:
            raise KeyError(f"unknown user {user_id}") from None

    def resolve_chat(self, chat_id: int | str) -> Chat:
        """The chat a bot call names; 400 "chat not found" as Telegram answers."""
        if isinstance(chat_id, str):
            stripped = chat_id.strip()
            if not stripped.lstrip("-").isdigit():
                # "@username" names public channels and supergroups only; the
                # emulator has none, so like Telegram for a private user: not found
                raise bad_request("chat not found")
            chat_id = int(stripped)
        chat = self.chats.get(chat_id)
        if chat is None:
            raise bad_request("chat not found")
        return chat

    def writable_chat(self, chat_id: int | str) -> Chat:
        """A chat the bot may send to or edit in: 403 when blocked or never started."""
        chat = self.resolve_chat(chat_id)
        if chat.user is not None:
            if chat.user.blocked:
                raise forbidden("bot was blocked by the user")
            if not chat.user.started:
                raise forbidden("bot can't initiate conversation with a user")
        return chat

    # --------------------------------------------------------------- messages

    def add_message(self, chat: Chat, **fields: Any) -> SentMessage:
        history = self.messages.setdefault(chat.id, [])
        message_id = history[-1].message_id + 1 if history else 1
        message = SentMessage(message_id=message_id, chat_id=chat.id, date=self.now(), **fields)
        history.append(message)
        self._by_id[(chat.id, message_id)] = message
        self.touch(message)
        return message

    def find_message(self, chat_id: int, message_id: int) -> SentMessage | None:
        return self._by_id.get((chat_id, message_id))

    # ------------------------------------------------------------------ files

    def store_file(self, data: bytes, file_name: str, mime_type: str, kind: str) -> StoredFile:
        n = next(self._file_ids)
        folder = "photos" if kind == "photo" else "documents"
        extension = file_name.rsplit(".", 1)[-1] if "." in file_name else "bin"
        stored = StoredFile(
            file_id=_token("BQACAgIAAxkBAA" if kind != "photo" else "AgACAgIAAxkBAA", n, 40),
            file_unique_id=_token("AgAD", n, 12),
            file_path=f"{folder}/file_{n}.{extension}",
            data=data,
            file_name=file_name,
            mime_type=mime_type,
        )
        self.files[stored.file_id] = stored
        self.files_by_path[stored.file_path] = stored
        return stored

    def new_query_id(self) -> str:
        return str(5_000_000_000_000_000_000 + next(self._query_ids))

    # -------------------------------------------------------------- snapshots

    def snapshot(self) -> dict[str, Any]:
        """Messages and files of the private chats, as JSON-ready data.

        Users are not part of it: whoever restores creates the same users
        (with the same ids) first. Groups, callback queries and command menus
        are left out; the bot sets its menus again when it starts.
        """
        files = {
            m.document.file_id
            for chat_id, history in self.messages.items()
            if chat_id > 0
            for m in history
            if m.document is not None
        }
        return {
            "messages": [
                {
                    "message_id": m.message_id,
                    "chat_id": m.chat_id,
                    "from_bot": m.from_bot,
                    "sender": None if m.sender is None else m.sender.id,
                    "date": m.date,
                    "text": m.text,
                    "entities": m.entities,
                    "reply_markup": m.reply_markup,
                    "reply_keyboard": m.reply_keyboard,
                    "document": None if m.document is None else m.document.file_id,
                    "document_kind": None if m.document is None else m.document.kind,
                    "reply_to_message_id": m.reply_to_message_id,
                    "edit_date": m.edit_date,
                    "history": [[v.text, v.entities, v.reply_markup, v.edit_date] for v in m.history],
                    "deleted": m.deleted,
                }
                for chat_id, history in self.messages.items()
                if chat_id > 0
                for m in history
            ],
            "files": [
                {
                    "file_id": f.file_id,
                    "file_unique_id": f.file_unique_id,
                    "file_path": f.file_path,
                    "data": base64.b64encode(f.data).decode("ascii"),
                    "file_name": f.file_name,
                    "mime_type": f.mime_type,
                }
                for f in self.files.values()
                if f.file_id in files
            ],
        }

    def restore(self, data: dict[str, Any]) -> int:
        """Put back what `snapshot` returned, into chats that exist; returns the message count.

        Raises `KeyError`, `TypeError` or `ValueError` on data of another shape.
        """
        for item in data["files"]:
            stored = StoredFile(
                file_id=str(item["file_id"]),
                file_unique_id=str(item["file_unique_id"]),
                file_path=str(item["file_path"]),
                data=base64.b64decode(item["data"]),
                file_name=str(item["file_name"]),
                mime_type=str(item["mime_type"]),
            )
            self.files[stored.file_id] = stored
            self.files_by_path[stored.file_path] = stored
        numbers = [int(p.rsplit("_", 1)[-1].split(".")[0]) for p in self.files_by_path]
        self._file_ids = itertools.count(max(numbers, default=0) + 1)
        restored = 0
        for item in sorted(data["messages"], key=lambda m: (m["chat_id"], m["message_id"])):
            chat = self.chats.get(int(item["chat_id"]))
            if chat is None:
                continue
            document = None
            if item["document"] is not None:
                stored = self.files[item["document"]]
                document = Document(
                    name=stored.file_name,
                    data=stored.data,
                    mime_type=stored.mime_type,
                    file_id=stored.file_id,
                    file_unique_id=stored.file_unique_id,
                    kind=str(item["document_kind"]),
                )
            sender = None if item["sender"] is None else self.users.get(int(item["sender"]))
            message = SentMessage(
                message_id=int(item["message_id"]),
                chat_id=chat.id,
                from_bot=bool(item["from_bot"]),
                sender=sender,
                date=int(item["date"]),
                text=str(item["text"]),
                entities=list(item["entities"]),
                reply_markup=item["reply_markup"],
                reply_keyboard=item["reply_keyboard"],
                document=document,
                reply_to_message_id=item["reply_to_message_id"],
                edit_date=item["edit_date"],
                history=[Version(t, list(e), r, int(d)) for t, e, r, d in item["history"]],
                deleted=bool(item["deleted"]),
            )
            self.messages.setdefault(chat.id, []).append(message)
            self._by_id[(chat.id, message.message_id)] = message
            self.touch(message)
            restored += 1
        return restored
