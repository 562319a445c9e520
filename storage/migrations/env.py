"""Alembic environment: runs on the connection `storage.database` hands over,
or, for `alembic` on the command line, on DATABASE_URL."""

from __future__ import annotations

import asyncio
import os

from alembic import context

import storage.admin_models  # noqa: F401  (registers its tables on Base.metadata)
import storage.followup_models  # noqa: F401  (registers its tables on Base.metadata)
import storage.inbox_models  # noqa: F401  (registers its table on Base.metadata)
import storage.mail_models  # noqa: F401  (registers its tables on Base.metadata)
import storage.tracking_models  # noqa: F401  (registers its table on Base.metadata)
from storage.models import Base

target_metadata = Base.metadata


def _run(connection) -> None:  # type: ignore[no-untyped-def]  # Alembic's callback, untyped there
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    from storage.database import create_engine

    async def _main() -> None:
        engine = create_engine(os.environ.get("DATABASE_URL", "sqlite:///kimbot.db"))
        async with engine.begin() as conn:
            await conn.run_sync(_run)
        await engine.dispose()

    asyncio.run(_main())
