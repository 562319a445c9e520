"""The audit log (SPEC 2): every change a coordinator makes is written down
with who, what, when and on which object, in the same transaction as the
change itself, so the log never claims what did not happen.

Actions are dotted names; the catalogs word them under `audit.<action>`
(`audit.membership_approve` for `membership.approve`), with `detail` as their
placeholders.
"""

from __future__ import annotations

from datetime import datetime

from storage.admin_models import AuditEntry
from storage.models import Person
from storage.uow import UnitOfWork

DEFAULT_ENTRIES = 20
"""`/log` without a number."""
MAX_ENTRIES = 200
"""The most `/log n` shows."""


def record(
    uow: UnitOfWork,
    actor: Person,
    action: str,
    object_type: str,
    object_id: int | None,
    now: datetime,
    **detail: object,
) -> AuditEntry:
    """Write one entry; it commits (or not) with the change it describes."""
    entry = AuditEntry(
        at=now,
        actor_id=actor.id,
        action=action,
        object_type=object_type,
        object_id=object_id,
        detail={key: value for key, value in detail.items() if value is not None} or None,
    )
    uow.audit.add(entry)
    return entry
