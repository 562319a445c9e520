"""The inbox model: each update from Telegram, kept until it has been handled
(on the same `Base` as `storage.models`; see `storage.inbox_repository`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base


class InboxUpdate(Base):
    """An update from Telegram, recorded before Telegram is told it arrived.

    python-telegram-bot confirms an update (the next getUpdates offset, or the
    webhook's 200) before its handler has run. The row is written first, so an
    update the process received is handled after a crash (`payload` kept until
    then) and an update delivered twice is handled once (`update_id` is the key).
    After handling only the id and the times stay, for a few days, to recognise
    a late repeat: the payload, with the person's name and text, is cleared.
    """

    __tablename__ = "inbox"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    user_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    """Who sent it, while it waits; cleared with the payload (and by /forget)."""
    payload: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime]
    handled_at: Mapped[datetime | None] = mapped_column(index=True)
    claimed_by: Mapped[int | None] = mapped_column(BigInteger)
    """The process that received it and handles it (storage.cluster); when that process
    dies before handling it, another one takes it over."""
