"""``EmulatorPeople``: people, group chats, and what people do.

People's actions are synchronous: they enqueue an update and return its
``update_id``; the bot fetches updates over HTTP like from Telegram. A person
writes (``send_text``), sends a file (``send_document``), presses a button
(``press_button``, or ``press_data`` with any data) and blocks or unblocks the
bot (``block``, ``unblock``).
"""

from __future__ import annotations

import mimetypes
from typing import Any

from .base import ChatRef, EmulatorBase
from .entities import auto_entities
from .payloads import callback_query, my_chat_member
from .payloads import message as message_payload
from .state import CallbackQuery, Chat, Document, SentMessage, User


class EmulatorPeople(EmulatorBase):
    # --------------------------------------------------------------- people

    def add_user(
        self,
        first_name: str,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
        *,
        user_id: int | None = None,
        started: bool = True,
    ) -> User:
        """A person. ``started=False``: has never opened the chat (sending to them is 403)."""
        return self.world.add_user(
            first_name,
            last_name=last_name,
            username=username,
            language_code=language_code,
            user_id=user_id,
            started=started,
        )

    def add_group_chat(
        self, title: str, members: list[User] | tuple[User, ...] = (), *, supergroup: bool = False
    ) -> Chat:
        """A group chat (negative id) with the bot and these members."""
        return self.world.add_group(title, list(members), supergroup=supergroup)

    @property
    def users(self) -> list[User]:
        return list(self.world.users.values())

    # -------------------------------------------------------------- actions

    def _speaker_chat(self, user: User, chat: ChatRef | None) -> Chat:
        target = self.chat(chat) if chat is not None else self.world.chats[user.id]
        if target.is_group and user not in target.members:
            raise LookupError(f"{user.full_name} is not a member of {target.title}")
        if target.user is not None and target.user is not user:
            raise LookupError("a person can only write in their own private chat")
        if target.user is user:
            if user.blocked:
                self.unblock(user)  # like the "Restart" button of the Telegram app
            user.started = True
        return target

    def _user_message(self, user: User, chat: Chat, **fields: Any) -> int:
        msg = self.world.add_message(chat, from_bot=False, sender=user, **fields)
        return self.queue.push("message", message_payload(self.world, self.bot, msg))

    def send_text(self, user: User, text: str, chat: ChatRef | None = None, *, reply_to: int | None = None) -> int:
        """The person writes ``text`` (private chat unless ``chat``); returns the update_id.

        Like Telegram, ``/commands``, URLs, e-mail addresses and @mentions get
        entities (a leading ``/start payload`` works as a deep link).
        """
        if not text:
            raise ValueError("a message needs text")
        target = self._speaker_chat(user, chat)
        return self._user_message(
            user, target, text=text, entities=auto_entities(text, []), reply_to_message_id=reply_to
        )

    def send_document(
        self,
        user: User,
        file_name: str,
        data: bytes,
        *,
        mime_type: str | None = None,
        caption: str | None = None,
        chat: ChatRef | None = None,
    ) -> int:
        """The person sends a file; the bot can getFile and download it."""
        target = self._speaker_chat(user, chat)
        mime = mime_type or mimetypes.guess_type(file_name)[0] or "application/octet-stream"
        stored = self.world.store_file(data, file_name, mime, "document")
        document = Document(file_name, data, mime, stored.file_id, stored.file_unique_id, kind="document")
        return self._user_message(user, target, text=caption or "", document=document)

    def press_button(self, user: User, message: SentMessage | int, text: str) -> int:
        """The person presses the inline button labelled ``text`` under a bot message.

        ``message`` is a ``SentMessage`` or a message id in the person's private
        chat. Raises ``LookupError`` if the message (as it is now) has no such
        callback button.
        """
        if isinstance(message, SentMessage):
            chat_id, message_id = message.chat_id, message.message_id
        else:
            chat_id, message_id = user.id, message
        current = self.world.find_message(chat_id, message_id)
        if current is None or current.deleted or not current.from_bot:
            raise LookupError(f"no bot message {message_id} in chat {chat_id}")
        button = current.find_button(text)
        if button is None:
            labels = [label for row in current.buttons for label, _ in row]
            raise LookupError(f"no button {text!r} on message {message_id}; buttons: {labels}")
        if "callback_data" not in button:
            raise LookupError(f"button {text!r} opens {button.get('url')}, it sends no update")
        return self._press(user, current, button["callback_data"])

    def press_data(self, user: User, message_id: int, data: str, *, chat: ChatRef | None = None) -> int:
        """A callback query with arbitrary (possibly forged) data on a bot message."""
        chat_id = self._chat_id(chat) if chat is not None else user.id
        current = self.world.find_message(chat_id, message_id)
        if current is None or not current.from_bot:
            raise LookupError(f"no bot message {message_id} in chat {chat_id}")
        return self._press(user, current, data)

    def _press(self, user: User, msg: SentMessage, data: str) -> int:
        chat = self.world.chats[msg.chat_id]
        if user not in chat.members:
            raise LookupError(f"{user.full_name} cannot see chat {chat.id}")
        query_id = self.world.new_query_id()
        payload = callback_query(self.world, self.bot, query_id, user, msg, data)
        update_id = self.queue.push("callback_query", payload)
        self.world.queries[query_id] = CallbackQuery(query_id, update_id, user, msg.chat_id, msg.message_id, data)
        return update_id

    def block(self, user: User) -> int | None:
        """The person blocks the bot: a my_chat_member update ("kicked"); then 403s."""
        if user.blocked:
            return None
        user.blocked = True
        chat = self.world.chats[user.id]
        return self.queue.push(
            "my_chat_member",
            my_chat_member(chat, user, self.bot, "member", "kicked", self.world.now()),
        )

    def unblock(self, user: User) -> int | None:
        """The person unblocks (restarts) the bot: my_chat_member "member"."""
        if not user.blocked:
            return None
        user.blocked = False
        user.started = True
        chat = self.world.chats[user.id]
        return self.queue.push(
            "my_chat_member",
            my_chat_member(chat, user, self.bot, "kicked", "member", self.world.now()),
        )
